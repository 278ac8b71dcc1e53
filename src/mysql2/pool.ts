/**
 * `PinDbMysqlPool`: a drop-in for mysql2's promise pool that also takes mysql2's callback forms
 * (Kysely, Drizzle and TypeORM use the pool itself), with `.pool` — the callback-API pool that
 * Knex unwraps — and `.promise()`, as mysql2's pools have. Every statement is routed over one real
 * pool per alias.
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { EventForwarder, RoutedPoolCore, loadDriver, type RoutedPoolOptions } from '../adapter/routed-pool.js'
import { isServerFailure } from '../adapter/failover.js'
import { runPooled } from '../adapter/routed-session.js'
import type { PinDb } from '../pindb.js'
import { PinDbMysqlCallbackConnection, PinDbMysqlConnection, type ConnectionParts } from './connection.js'
import { validateMysqlPoolOptions } from './options.js'
import { mysqlProbe } from './probe.js'
import { normalizeCall, RoutedQuery, runPromise, toCallback, type MysqlMethod } from './query.js'
import { borrowedSource, MysqlSessionCore } from './session.js'
import type { MysqlCallback, MysqlModuleLike, MysqlPoolLike, MysqlQueryOptions, MysqlResult, MysqlValues } from './types.js'
import { SqlHelpers } from './unsupported.js'

/** Options of {@link createMysqlPool}. */
export interface MysqlPoolOptions extends RoutedPoolOptions {
  /** The `mysql2/promise` (or `mysql2`) module. Default: `import('mysql2/promise')` on first use. */
  mysql?: MysqlModuleLike
  /** Builds the real pool of one alias. Default: `mysql.createPool(config)`. */
  createPool?: (alias: string, config: object) => MysqlPoolLike
  /**
   * Driver options for every alias's real pool — what an ORM passes to `createPool` (`typeCast`,
   * `supportBigNumbers`, `dateStrings`, `connectionLimit` …). The alias's config in
   * `pindb.databases` wins; where to connect and as whom (`host`, `port`, `socketPath`, `user`,
   * `password`, `uri`) come from pindb only.
   */
  config?: object
}

const POOL_EVENTS = ['connection', 'acquire', 'release', 'enqueue'] as const
const ADDRESS_KEYS = new Set(['host', 'port', 'socketPath', 'user', 'password', 'password1', 'password2', 'password3', 'passwordSha1', 'uri'])

/** @internal The caller's driver options under the alias's config (see {@link MysqlPoolOptions.config}). */
export function mergeConfig(callerConfig: object | undefined, aliasConfig: object): object {
  if (callerConfig === undefined) return aliasConfig
  const merged: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(callerConfig)) if (value !== undefined && !ADDRESS_KEYS.has(key)) merged[key] = value
  return Object.assign(merged, aliasConfig)
}

/** mysql2's `inheritEvents`: re-emit `source`'s events on `target` while `target` has listeners for them. */
function inheritEvents(source: EventEmitter, target: EventEmitter, events: readonly string[]): void {
  const forwarders = new Map<string, (...args: unknown[]) => void>()
  target.on('newListener', (event: string | symbol) => {
    if (typeof event !== 'string' || !events.includes(event) || target.listenerCount(event) > 0) return
    const forward = (...args: unknown[]): void => { target.emit(event, ...args) }
    forwarders.set(event, forward)
    source.on(event, forward)
  })
  target.on('removeListener', (event: string | symbol) => {
    if (typeof event !== 'string' || target.listenerCount(event) > 0) return
    const forward = forwarders.get(event)
    if (forward === undefined) return
    forwarders.delete(event)
    source.removeListener(event, forward)
  })
}

/** A mysql2 promise pool look-alike routed by pindb, that also speaks mysql2's callback API. */
export class PinDbMysqlPool extends EventEmitter {
  /** @internal */
  readonly core: RoutedPoolCore<MysqlPoolLike>
  /** The promise constructor, as on mysql2's promise pool. */
  readonly Promise: PromiseConstructor = Promise
  /** @internal */
  readonly sql: SqlHelpers
  readonly #callback: PinDbMysqlCallbackPool
  readonly #events: EventForwarder
  readonly #options: MysqlPoolOptions
  #module: MysqlModuleLike | undefined
  #loading: Promise<MysqlModuleLike> | undefined

  constructor(pindb: PinDb<object>, options: MysqlPoolOptions = {}) {
    super()
    validateMysqlPoolOptions(options, 'createMysqlPool(pindb, options)')
    this.#options = options
    this.#module = options.mysql
    this.core = new RoutedPoolCore(pindb, {
      name: 'mysql2',
      dialect: 'mysql',
      create: (alias, config, connectTimeoutMs?: number) => this.#createPool(alias, config, connectTimeoutMs),
      end: (pool) => pool.end(),
      probe: mysqlProbe,
      ping: (_alias, config, timeoutMs) => this.#ping(config, timeoutMs),
      abort: (conn) => abortConnection(conn),
    }, options)
    this.sql = new SqlHelpers(() => this.#module)
    this.#callback = new PinDbMysqlCallbackPool(this)
    this.#events = new EventForwarder(this.#callback, POOL_EVENTS)
    inheritEvents(this.#callback, this, POOL_EVENTS)
  }

  /** The pindb instance this pool routes for. */
  get pindb(): PinDb<object> { return this.core.pindb }

  /** The same pool with mysql2's callback API (as mysql2's `promisePool.pool`; Knex unwraps it). */
  get pool(): PinDbMysqlCallbackPool {
    return this.#callback
  }

  /** This pool (Drizzle calls `.promise()` on pools that have it). */
  promise(): this {
    return this
  }

  async #createPool(alias: string, config: object, connectTimeoutMs: number | undefined): Promise<MysqlPoolLike> {
    const merged = mergeConfig(this.#options.config, config)
    const withTimeout = connectTimeoutMs === undefined || 'connectTimeout' in merged ? merged : { connectTimeout: connectTimeoutMs, ...merged }
    let pool: MysqlPoolLike | { promise(): MysqlPoolLike }
    if (this.#options.createPool !== undefined) pool = this.#options.createPool(alias, withTimeout)
    else {
      this.#loading ??= this.#module !== undefined
        ? Promise.resolve(this.#module)
        : loadDriver('mysql2', 'mysql2/promise', 'mysql', (m) => (typeof m['createPool'] === 'function' ? (m as unknown as MysqlModuleLike) : undefined))
      this.#module = await this.#loading
      pool = this.#module.createPool(withTimeout)
    }
    // mysql2's callback pool: use its promise wrapper (which keeps the callback pool as `.pool`).
    const ready = 'getConnection' in pool && !('promise' in pool && typeof pool.promise === 'function') ? pool : (pool as { promise(): MysqlPoolLike }).promise()
    this.#events.add(ready)
    return ready
  }

  /** Liveness: a fresh connection to the server answers `SELECT 1` (rejects otherwise). */
  async #ping(config: object, timeoutMs: number): Promise<void> {
    const mysql = this.#module
    if (mysql?.createConnection === undefined) return
    const conn = await (mysql.createConnection({ ...mergeConfig(this.#options.config, config), connectTimeout: timeoutMs }) as Promise<{ query(sql: string): Promise<unknown>; end(): Promise<void>; destroy(): void; on?(event: string, fn: () => void): unknown }>)
    conn.on?.('error', () => {})
    const kill = setTimeout(() => conn.destroy(), timeoutMs)
    try {
      await conn.query('SELECT 1')
    } finally {
      clearTimeout(kill)
      conn.end().catch(() => conn.destroy())
    }
  }

  /** @internal A fresh routed connection (nothing is acquired until its first statement). */
  checkout(): ConnectionParts {
    const core = new MysqlSessionCore(this.core, borrowedSource(this.core))
    return { core, sql: this.sql, end: () => Promise.resolve(core.close()), destroy: () => core.close(true) }
  }

  /** @internal Runs one call on the pool itself (no connection to keep): routed with failover. */
  runPooled(method: MysqlMethod, args: readonly unknown[]): Promise<MysqlResult> {
    let call
    try {
      call = normalizeCall(method, args)
    } catch (err) {
      return Promise.reject(err)
    }
    if (this.core.ended) return Promise.reject(this.core.closedError())
    const core = this.core
    // On a connection of its own, under the liveness watch: a statement on a hung server is
    // aborted (and a read moved elsewhere) instead of waiting as long as the server hangs.
    return runPooled(core, call.text, async (alias) => {
      const conn = await (core.readyPool(alias) ?? await core.poolFor(alias)).getConnection()
      try {
        const result = await core.watch(alias, conn, () => runPromise(conn, method, call))
        conn.release?.()
        return result
      } catch (err) {
        if (isServerFailure(err, true)) conn.destroy()
        else conn.release?.()
        throw err
      }
    })
  }

  /** Routed `query(sql, values?)`; with a callback as last argument, mysql2's callback form. */
  query(sql: string | MysqlQueryOptions, values?: MysqlValues): Promise<MysqlResult>
  query(sql: string | MysqlQueryOptions, cb: MysqlCallback): RoutedQuery
  query(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb: MysqlCallback): RoutedQuery
  query(...args: unknown[]): Promise<MysqlResult> | RoutedQuery {
    return typeof args[args.length - 1] === 'function' ? this.#callback.query(...(args as [string])) : this.runPooled('query', args)
  }

  /** Routed `execute(sql, values?)`; with a callback as last argument, mysql2's callback form. */
  execute(sql: string | MysqlQueryOptions, values?: MysqlValues): Promise<MysqlResult>
  execute(sql: string | MysqlQueryOptions, cb: MysqlCallback): RoutedQuery
  execute(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb: MysqlCallback): RoutedQuery
  execute(...args: unknown[]): Promise<MysqlResult> | RoutedQuery {
    return typeof args[args.length - 1] === 'function' ? this.#callback.execute(...(args as [string])) : this.runPooled('execute', args)
  }

  /**
   * Checks out a routed connection; see the README for how its statements are routed. With a
   * callback (Kysely, TypeORM), the callback gets the connection with mysql2's callback API.
   */
  getConnection(): Promise<PinDbMysqlConnection>
  getConnection(cb: (err: Error | null, conn?: PinDbMysqlCallbackConnection) => void): void
  getConnection(cb?: (err: Error | null, conn?: PinDbMysqlCallbackConnection) => void): Promise<PinDbMysqlConnection> | void {
    if (typeof cb === 'function') {
      this.#callback.getConnection(cb)
      return
    }
    if (this.core.ended) return Promise.reject(this.core.closedError())
    return Promise.resolve(new PinDbMysqlConnection(this.checkout()))
  }

  /** Releases a connection checked out of this pool. */
  releaseConnection(connection: { release(): void }): void {
    connection.release()
  }

  /** Ends every underlying pool (and the replica monitor); with a callback, calls it when done. */
  end(): Promise<void>
  end(cb: (err?: Error | null) => void): void
  end(cb?: (err?: Error | null) => void): Promise<void> | void {
    const done = this.core.end()
    if (typeof cb !== 'function') return done
    done.then(() => { process.nextTick(cb, null) }, (err: unknown) => { process.nextTick(cb, err as Error) })
  }

  /** `await using pool = createMysqlPool(…)`: ends the pool at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.core.ended) await this.end()
  }

  /** mysql2's `format(sql, values)` (needs the `mysql` option or a first statement). */
  format(sql: string, values?: unknown): string {
    return this.sql.format(sql, values)
  }

  /** mysql2's `escape(value)`. */
  escape(value: unknown): string {
    return this.sql.escape(value)
  }

  /** mysql2's `escapeId(value)`. */
  escapeId(value: unknown): string {
    return this.sql.escapeId(value)
  }
}

/** The callback-API face of a {@link PinDbMysqlPool} (`pool.pool`, and what `createMysqlModule(...).createPool` returns). */
export class PinDbMysqlCallbackPool extends EventEmitter {
  readonly #pool: PinDbMysqlPool

  /** @internal */
  constructor(pool: PinDbMysqlPool) {
    super()
    this.#pool = pool
  }

  /** The same pool with mysql2's promise API. */
  promise(): PinDbMysqlPool {
    return this.#pool
  }

  /** Routed `query(sql, values?, cb?)`; without a callback, listen to the returned emitter or call `.stream()`. */
  query(sql: string | MysqlQueryOptions, cb?: MysqlCallback): RoutedQuery
  query(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb?: MysqlCallback): RoutedQuery
  query(...args: unknown[]): RoutedQuery {
    return this.#run('query', args)
  }

  /** Routed `execute(sql, values?, cb?)`. */
  execute(sql: string | MysqlQueryOptions, cb?: MysqlCallback): RoutedQuery
  execute(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb?: MysqlCallback): RoutedQuery
  execute(...args: unknown[]): RoutedQuery {
    return this.#run('execute', args)
  }

  #run(method: MysqlMethod, args: readonly unknown[]): RoutedQuery {
    const cb = args[args.length - 1]
    if (typeof cb !== 'function') {
      // The emitter form needs a connection for the command's events: a routed checkout, released at the end.
      const conn = new PinDbMysqlCallbackConnection(this.#pool.checkout())
      const query = conn[method](...(args as [string]))
      query.once('end', () => conn.release())
      return query
    }
    // The callback form runs on the pool itself (no connection kept); the emitter still reports 'end'.
    const rest = args.slice(0, -1)
    const query = new RoutedQuery(normalizeCall(method, rest).text)
    const result = this.#pool.runPooled(method, rest)
    toCallback(result, cb as MysqlCallback)
    result.then(() => query.settle(undefined), () => query.settle(undefined))
    return query
  }

  /** Checks out a routed connection with mysql2's callback API. */
  getConnection(cb: (err: Error | null, conn?: PinDbMysqlCallbackConnection) => void): void {
    if (this.#pool.core.ended) {
      process.nextTick(cb, this.#pool.core.closedError())
      return
    }
    process.nextTick(cb, null, new PinDbMysqlCallbackConnection(this.#pool.checkout()))
  }

  /** Releases a connection checked out of this pool. */
  releaseConnection(connection: { release(): void }): void {
    connection.release()
  }

  /** Ends every underlying pool; calls `cb` when done. */
  end(cb?: (err?: Error | null) => void): void {
    this.#pool.end(cb ?? (() => {}))
  }

  /** `using pool = …`: ends the pool at the end of the block (without waiting). */
  [Symbol.dispose](): void {
    if (!this.#pool.core.ended) this.end()
  }

  /** mysql2's `format(sql, values)`. */
  format(sql: string, values?: unknown): string {
    return this.#pool.format(sql, values)
  }

  /** mysql2's `escape(value)`. */
  escape(value: unknown): string {
    return this.#pool.escape(value)
  }

  /** mysql2's `escapeId(value)`. */
  escapeId(value: unknown): string {
    return this.#pool.escapeId(value)
  }
}

/**
 * Creates a routed mysql2 pool for a pindb instance: mysql2's promise API, its callback forms, and
 * `.pool` (the callback-API pool) — so Kysely's `MysqlDialect({ pool })`, Knex's
 * `{ client: 'mysql2', connectionPool: pool }` and Drizzle's `drizzle({ client: pool })` take it as is.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise'
 * import { createMysqlPool } from 'pindb/mysql2'
 * const pool = createMysqlPool(pindb, { mysql })
 * await pindb.run(() => pool.query('SELECT * FROM notes WHERE id = ?', [id]))
 * ```
 */
export function createMysqlPool<M extends MysqlModuleLike>(pindb: PinDb<object>, options: MysqlPoolOptions & { mysql: M }): PinDbMysqlPool & PromisePoolOf<M>
export function createMysqlPool(pindb: PinDb<object>, options?: MysqlPoolOptions): PinDbMysqlPool
export function createMysqlPool(pindb: PinDb<object>, options: MysqlPoolOptions = {}): PinDbMysqlPool {
  return new PinDbMysqlPool(pindb, options)
}

/**
 * The pool type of the mysql2 module passed in (`mysql2/promise`'s `Pool`): the routed pool is typed
 * as one too, so code and ORMs typed against mysql2 (Drizzle's `drizzle({ client })`) take it
 * without a cast. What it does not route throws `PinDbError` `PINDB_UNSUPPORTED` at once.
 */
export type PromisePoolOf<M> = M extends { createPool: (...args: never[]) => infer P } ? P : unknown

/** Destroys a mysql2 connection whose server stopped answering (its statement then fails). */
function abortConnection(conn: unknown): void {
  const c = conn as { destroy?(): void; connection?: { destroy?(): void } }
  if (typeof c.connection?.destroy === 'function') c.connection.destroy()
  else c.destroy?.()
}
