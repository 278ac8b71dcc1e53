/**
 * `PinDbPgPool`: a drop-in for `pg.Pool` that routes every statement — reads to the unit of
 * work's replica, writes to the primary, pinning as the mode says — over one real `pg.Pool` per alias.
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { EventForwarder, RoutedPoolCore, loadDriver, type RoutedPoolOptions } from '../adapter/routed-pool.js'
import { runPooled } from '../adapter/routed-session.js'
import type { PinDb } from '../pindb.js'
import { PinDbPgClient } from './client.js'
import { pgProbe } from './probe.js'
import { queryArgs, settle } from './query-args.js'
import type { PgCallback, PgModuleLike, PgPoolLike, PgQueryConfig, PgQueryResult } from './types.js'

/** Options of {@link createPgPool}. */
export interface PgPoolOptions extends RoutedPoolOptions {
  /** The `pg` module (or `{ Pool }`). Default: `import('pg')` on first use. */
  pg?: PgModuleLike
  /** Builds the real pool of one alias. Default: `new pg.Pool(pindb.databases[alias])`. */
  createPool?: (alias: string, config: object) => PgPoolLike
}

/**
 * A `pg.Pool` look-alike routed by pindb. Code written for `pg.Pool` — and Kysely's
 * `PostgresDialect` and Drizzle's `node-postgres` driver — uses it unchanged.
 */
export class PinDbPgPool extends EventEmitter {
  /** @internal */
  readonly core: RoutedPoolCore<PgPoolLike>
  readonly #created: PgPoolLike[] = []
  readonly #events = new EventForwarder(this, ['connect', 'acquire', 'release', 'remove'])
  #pg: Promise<PgModuleLike> | undefined

  constructor(pindb: PinDb<object>, options: PgPoolOptions = {}) {
    super()
    this.core = new RoutedPoolCore(pindb, {
      name: 'pg',
      dialect: 'postgres',
      create: (alias, config) => this.#createPool(alias, config, options),
      end: (pool) => pool.end(),
      probe: pgProbe,
    }, options)
  }

  /** The pindb instance this pool routes for. */
  get pindb(): PinDb<object> { return this.core.pindb }
  /** Sum over the underlying pools. */
  get totalCount(): number { return this.#created.reduce((n, p) => n + (p.totalCount ?? 0), 0) }
  /** Sum over the underlying pools. */
  get idleCount(): number { return this.#created.reduce((n, p) => n + (p.idleCount ?? 0), 0) }
  /** Sum over the underlying pools. */
  get waitingCount(): number { return this.#created.reduce((n, p) => n + (p.waitingCount ?? 0), 0) }
  /** Whether {@link PinDbPgPool.end} was called. */
  get ended(): boolean { return this.core.ended }

  async #createPool(alias: string, config: object, options: PgPoolOptions): Promise<PgPoolLike> {
    let pool: PgPoolLike
    if (options.createPool !== undefined) pool = options.createPool(alias, config)
    else {
      this.#pg ??= options.pg !== undefined
        ? Promise.resolve(options.pg)
        : loadDriver('pg', 'pg', 'pg', (m) => (typeof m['Pool'] === 'function' ? (m as unknown as PgModuleLike) : undefined))
      pool = new (await this.#pg).Pool(config)
    }
    this.#created.push(pool)
    this.#events.add(pool)
    // An idle client's error (a replica restarting) must not crash the process as an unhandled 'error' would.
    pool.on('error', (err: unknown, client: unknown) => {
      if (this.core.pindb.topology.replicaToSet.has(alias)) this.core.pindb.reportFailure(alias)
      if (this.listenerCount('error') > 0) this.emit('error', err, client)
    })
    return pool
  }

  /** Runs a statement on the routed server: `query(text, values?, callback?)` or `query(config, callback?)`. */
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, values?: unknown[]): Promise<R>
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, callback: PgCallback<R>): undefined
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, values: unknown[] | undefined, callback: PgCallback<R>): undefined
  query(...args: unknown[]): Promise<PgQueryResult> | undefined {
    const { query, values, callback } = queryArgs(args)
    const sql = typeof query === 'string' ? query : query.text
    return settle(runPooled(this.core, sql, (alias) => this.#queryOn(alias, query, values)), callback)
  }

  #queryOn(alias: string, query: string | PgQueryConfig, values: unknown[] | undefined): Promise<PgQueryResult> {
    const ready = this.core.readyPool(alias)
    if (ready !== undefined) return ready.query(query, values) as Promise<PgQueryResult>
    return this.core.poolFor(alias).then((pool) => pool.query(query, values) as Promise<PgQueryResult>)
  }

  /** Checks out a routed client; see the README for how its statements are routed. */
  connect(): Promise<PinDbPgClient>
  connect(callback: (err: Error | undefined, client: PinDbPgClient | undefined, release: () => void) => void): void
  connect(callback?: (err: Error | undefined, client: PinDbPgClient | undefined, release: () => void) => void): Promise<PinDbPgClient> | void {
    const promise = this.core.ended ? Promise.reject(this.core.closedError()) : Promise.resolve(new PinDbPgClient(this.core))
    if (callback === undefined) return promise
    promise.then((client) => callback(undefined, client, () => client.release()), (err: Error) => callback(err, undefined, () => {}))
  }

  /** Ends every underlying pool (and the replica monitor). */
  end(): Promise<void>
  end(callback: (err?: Error) => void): void
  end(callback?: (err?: Error) => void): Promise<void> | void {
    const wasEnded = this.core.ended
    const promise = this.core.end().then(() => {
      if (!wasEnded) this.emit('end')
    })
    if (callback === undefined) return promise
    promise.then(() => callback(), callback)
  }
}

/**
 * Creates a routed `pg.Pool` look-alike for a pindb instance.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createPgPool } from 'pindb/pg'
 * const pool = createPgPool(pindb, { pg })
 * await pindb.run(() => pool.query('SELECT * FROM notes WHERE id = $1', [id]))
 * ```
 */
export function createPgPool(pindb: PinDb<object>, options: PgPoolOptions = {}): PinDbPgPool {
  return new PinDbPgPool(pindb, options)
}
