/**
 * Routed mysql2 connections, in mysql2's two shapes over one routed session (see the README for how
 * statements are routed): {@link PinDbMysqlConnection} (the promise API, what
 * `pool.getConnection()` resolves to) and {@link PinDbMysqlCallbackConnection} (the callback API,
 * what `pool.getConnection(cb)` gives; Kysely, Knex and TypeORM use it). Each reaches the other
 * the way mysql2's do: `promiseConnection.connection`, `callbackConnection.promise()`.
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { PinDbError } from '../errors.js'
import { normalizeCall, RoutedQuery, runPromise, type MysqlMethod } from './query.js'
import type { MysqlSessionCore } from './session.js'
import type { MysqlCallback, MysqlCoreConnectionLike, MysqlQueryOptions, MysqlResult, MysqlValues } from './types.js'
import { installUnsupported, UNSUPPORTED_CONNECTION_METHODS, type SqlHelpers } from './unsupported.js'

/** @internal What both views of one routed connection share. */
export interface ConnectionParts {
  readonly core: MysqlSessionCore
  readonly sql: SqlHelpers
  /** Ends the routed connection: a pool connection is released, a logical connection closes its connections. */
  end(): Promise<void>
  /** Ends it without a goodbye: the real connections in use are destroyed. */
  destroy(): void
}

function closedError(): PinDbError {
  return new PinDbError('PINDB_CLOSED', '[mysql2] this connection has been released or ended; check out another with pool.getConnection().')
}

/** Runs a call in promise mode on the routed session. */
function runCall(parts: ConnectionParts, method: MysqlMethod, args: readonly unknown[]): Promise<MysqlResult> {
  let call
  try {
    call = normalizeCall(method, args)
  } catch (err) {
    return Promise.reject(err)
  }
  if (parts.core.session.released) return Promise.reject(closedError())
  return parts.core.session.run(call.text, (c) => runPromise(c, method, call))
}

/** Runs a call in callback mode: the callback gets the result; without one the returned emitter streams it. */
function runCallbackCall(parts: ConnectionParts, method: MysqlMethod, args: readonly unknown[]): RoutedQuery {
  const call = normalizeCall(method, args)
  const query = new RoutedQuery(call.text)
  const { cb } = call
  const session = parts.core.session
  const done = session.released
    ? Promise.reject(closedError())
    : cb !== undefined
      ? session.run(call.text, (c) => runPromise(c, method, call))
      : session.run(call.text, (c) => {
        if (c.connection === undefined) {
          throw new PinDbError('PINDB_UNSUPPORTED', `[mysql2] ${method}() without a callback (events, .stream()) needs mysql2's callback connection underneath; the \`createPool\` option returned connections without \`.connection\`.`)
        }
        return query.runOn(c.connection as MysqlCoreConnectionLike, method, call)
      })
  done.then(
    (result) => {
      if (cb !== undefined) process.nextTick(cb, null, (result as MysqlResult)[0], (result as MysqlResult)[1])
      query.settle(undefined)
    },
    (err: unknown) => {
      if (cb !== undefined) process.nextTick(cb, err as Error)
      query.settle(cb === undefined ? err : undefined)
    },
  )
  return query
}

/** Calls `cb(err)` when given; otherwise returns the promise. */
function maybeCallback(promise: Promise<unknown>, cb: unknown): Promise<void> | undefined {
  const settled = promise.then(() => undefined)
  if (typeof cb !== 'function') return settled
  settled.then(() => { process.nextTick(cb as MysqlCallback, null) }, (err: unknown) => { process.nextTick(cb as MysqlCallback, err as Error) })
  return undefined
}

/** A routed connection with mysql2's promise API (`pool.getConnection()`). Release it when done. */
export class PinDbMysqlConnection extends EventEmitter {
  /** The promise constructor, as on mysql2's promise connections. */
  readonly Promise: PromiseConstructor = Promise
  readonly #parts: ConnectionParts
  #callback: PinDbMysqlCallbackConnection | undefined

  /** @internal Use `pool.getConnection()`. */
  constructor(parts: ConnectionParts, callback?: PinDbMysqlCallbackConnection) {
    super()
    this.#parts = parts
    this.#callback = callback
  }

  /** The alias this connection is anchored to (open transaction or session state), if any. */
  get anchoredTo(): string | undefined {
    return this.#parts.core.session.anchoredTo
  }

  /** The same connection with mysql2's callback API (as mysql2's `promiseConnection.connection`). */
  get connection(): PinDbMysqlCallbackConnection {
    return (this.#callback ??= new PinDbMysqlCallbackConnection(this.#parts, this))
  }

  /** Routed `query(sql, values?)`. A callback as last argument is honoured too. */
  query(sql: string | MysqlQueryOptions, values?: MysqlValues): Promise<MysqlResult>
  query(sql: string | MysqlQueryOptions, cb: MysqlCallback): RoutedQuery
  query(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb: MysqlCallback): RoutedQuery
  query(...args: unknown[]): Promise<MysqlResult> | RoutedQuery {
    return typeof args[args.length - 1] === 'function' ? runCallbackCall(this.#parts, 'query', args) : runCall(this.#parts, 'query', args)
  }

  /** Routed `execute(sql, values?)` (prepared on the chosen connection). A callback as last argument is honoured too. */
  execute(sql: string | MysqlQueryOptions, values?: MysqlValues): Promise<MysqlResult>
  execute(sql: string | MysqlQueryOptions, cb: MysqlCallback): RoutedQuery
  execute(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb: MysqlCallback): RoutedQuery
  execute(...args: unknown[]): Promise<MysqlResult> | RoutedQuery {
    return typeof args[args.length - 1] === 'function' ? runCallbackCall(this.#parts, 'execute', args) : runCall(this.#parts, 'execute', args)
  }

  /** `START TRANSACTION` on the primary: the transaction counts as a write. */
  beginTransaction(): Promise<void> {
    return runCall(this.#parts, 'query', ['START TRANSACTION']).then(() => undefined)
  }

  /** `COMMIT`. */
  commit(): Promise<void> {
    return runCall(this.#parts, 'query', ['COMMIT']).then(() => undefined)
  }

  /** `ROLLBACK`. */
  rollback(): Promise<void> {
    return runCall(this.#parts, 'query', ['ROLLBACK']).then(() => undefined)
  }

  /** A routed `SELECT 1` (mysql2 resolves `ping()` with `true`). */
  ping(): Promise<boolean> {
    return runCall(this.#parts, 'query', ['SELECT 1']).then(() => true)
  }

  /** Returns the real connections to their pools (a logical connection: closes them). */
  release(): void {
    void this.#parts.end()
  }

  /** Ends the connection (a pool connection is released, as mysql2 does). */
  end(): Promise<void> {
    return this.#parts.end()
  }

  /** Destroys the real connections in use instead of returning them. */
  destroy(): void {
    this.#parts.destroy()
  }

  /** `await using conn = await pool.getConnection()`: released (ended) at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#parts.end()
  }

  /** mysql2's `format(sql, values)`. */
  format(sql: string, values?: unknown): string {
    return this.#parts.sql.format(sql, values)
  }

  /** mysql2's `escape(value)`. */
  escape(value: unknown): string {
    return this.#parts.sql.escape(value)
  }

  /** mysql2's `escapeId(value)`. */
  escapeId(value: unknown): string {
    return this.#parts.sql.escapeId(value)
  }
}

/** A routed connection with mysql2's callback API (`pool.getConnection(cb)`, `createConnection()`). */
export class PinDbMysqlCallbackConnection extends EventEmitter {
  /** There is no single server thread: always null. */
  readonly threadId: number | null = null
  /** @internal */
  readonly parts: ConnectionParts
  #promise: PinDbMysqlConnection | undefined

  /** @internal Use `pool.getConnection(cb)`. */
  constructor(parts: ConnectionParts, promise?: PinDbMysqlConnection) {
    super()
    this.parts = parts
    this.#promise = promise
  }

  /** The alias this connection is anchored to (open transaction or session state), if any. */
  get anchoredTo(): string | undefined {
    return this.parts.core.session.anchoredTo
  }

  /** The same connection with mysql2's promise API. */
  promise(): PinDbMysqlConnection {
    return (this.#promise ??= new PinDbMysqlConnection(this.parts, this))
  }

  /** Routed `query(sql, values?, cb?)`; without a callback, listen to the returned emitter or call `.stream()`. */
  query(sql: string | MysqlQueryOptions, cb?: MysqlCallback): RoutedQuery
  query(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb?: MysqlCallback): RoutedQuery
  query(...args: unknown[]): RoutedQuery {
    return runCallbackCall(this.parts, 'query', args)
  }

  /** Routed `execute(sql, values?, cb?)`. */
  execute(sql: string | MysqlQueryOptions, cb?: MysqlCallback): RoutedQuery
  execute(sql: string | MysqlQueryOptions, values: MysqlValues | undefined, cb?: MysqlCallback): RoutedQuery
  execute(...args: unknown[]): RoutedQuery {
    return runCallbackCall(this.parts, 'execute', args)
  }

  /** `START TRANSACTION` on the primary. */
  beginTransaction(cb?: MysqlCallback): RoutedQuery {
    return runCallbackCall(this.parts, 'query', ['START TRANSACTION', cb ?? noop])
  }

  /** `COMMIT`. */
  commit(cb?: MysqlCallback): RoutedQuery {
    return runCallbackCall(this.parts, 'query', ['COMMIT', cb ?? noop])
  }

  /** `ROLLBACK`. */
  rollback(cb?: MysqlCallback): RoutedQuery {
    return runCallbackCall(this.parts, 'query', ['ROLLBACK', cb ?? noop])
  }

  /** A routed `SELECT 1`. */
  ping(cb?: MysqlCallback): void {
    void maybeCallback(this.promise().ping(), cb ?? noop)
  }

  /** Returns the real connections to their pools. */
  release(): void {
    void this.parts.end()
  }

  /** Ends the connection (a pool connection is released, as mysql2 does). */
  end(cb?: MysqlCallback): void {
    void maybeCallback(this.parts.end(), cb ?? noop)
  }

  /** Destroys the real connections in use instead of returning them. */
  destroy(): void {
    this.parts.destroy()
  }

  /** `using conn = …`: released at the end of the block. */
  [Symbol.dispose](): void {
    this.release()
  }

  /** mysql2's connection state: `'disconnected'` once released, ended or destroyed. */
  get state(): 'authenticated' | 'disconnected' {
    return this.parts.core.session.released ? 'disconnected' : 'authenticated'
  }

  /** mysql2's `format(sql, values)`. */
  format(sql: string, values?: unknown): string {
    return this.parts.sql.format(sql, values)
  }

  /** mysql2's `escape(value)`. */
  escape(value: unknown): string {
    return this.parts.sql.escape(value)
  }

  /** mysql2's `escapeId(value)`. */
  escapeId(value: unknown): string {
    return this.parts.sql.escapeId(value)
  }
}

function noop(): void {}

installUnsupported(PinDbMysqlConnection.prototype, UNSUPPORTED_CONNECTION_METHODS)
installUnsupported(PinDbMysqlCallbackConnection.prototype, UNSUPPORTED_CONNECTION_METHODS)
