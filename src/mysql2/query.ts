/**
 * mysql2's callback-API call forms on routed objects: argument normalization, and
 * {@link RoutedQuery}, the emitter a callback-style `query` / `execute` returns (`.stream()`,
 * `'fields'` / `'result'` / `'end'` / `'error'` events), fed by the real command once routing has
 * chosen a server.
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { PinDbError } from '../errors.js'
import type { MysqlCallback, MysqlCoreConnectionLike, MysqlPoolConnectionLike, MysqlQueryOptions, MysqlResult } from './types.js'

/** `query` or `execute`. */
export type MysqlMethod = 'query' | 'execute'

/** @internal One call of `query` / `execute`, normalized. */
export interface MysqlCall {
  readonly sql: string | MysqlQueryOptions
  readonly values: unknown
  readonly cb: MysqlCallback | undefined
  /** The SQL text, for routing. */
  readonly text: string
}

/** @internal Normalizes mysql2's `(sql | options, values?, cb?)` forms. Throws a {@link PinDbError} for others. */
export function normalizeCall(method: MysqlMethod, args: readonly unknown[]): MysqlCall {
  const [sql, second, third] = args
  const cb = typeof third === 'function' ? third : typeof second === 'function' ? second : undefined
  const values = typeof second === 'function' ? undefined : second
  if (typeof sql === 'string') return { sql, values, cb: cb as MysqlCallback | undefined, text: sql }
  if (typeof sql === 'object' && sql !== null && typeof (sql as MysqlQueryOptions).sql === 'string') {
    return { sql: sql as MysqlQueryOptions, values, cb: cb as MysqlCallback | undefined, text: (sql as MysqlQueryOptions).sql }
  }
  throw new PinDbError('PINDB_UNSUPPORTED', `[mysql2] ${method}() expects SQL text or a { sql, values } options object; ` +
    'pindb cannot route a prepared Query object (mysql.createQuery). Pass the SQL instead.')
}

/** Runs a call on a real promise connection (or pool), with or without values. */
export function runPromise(target: Pick<MysqlPoolConnectionLike, MysqlMethod>, method: MysqlMethod, call: MysqlCall): Promise<MysqlResult> {
  return call.values === undefined ? target[method](call.sql) : target[method](call.sql, call.values)
}

/** Delivers a settled promise to a mysql2 callback (outside the promise chain: a throwing callback is not swallowed). */
export function toCallback(result: Promise<MysqlResult>, cb: MysqlCallback): void {
  result.then(
    ([rows, fields]) => { process.nextTick(cb, null, rows, fields) },
    (err: unknown) => { process.nextTick(cb, err as Error) },
  )
}

/**
 * What a callback-style `query` / `execute` without a callback returns: mysql2's `Query` emitter
 * surface (`stream()`, `'fields'`, `'result'`, `'end'`, `'error'`).
 */
export class RoutedQuery extends EventEmitter {
  /** The SQL text. */
  readonly sql: string
  #out: PassThrough | undefined
  #streamOptions: object | undefined

  /** @internal */
  constructor(sql: string) {
    super()
    this.sql = sql
  }

  /** The rows as an object-mode readable stream (mysql2's `query(...).stream()`). */
  stream(options?: object): PassThrough {
    if (this.#out === undefined) {
      this.#streamOptions = options ?? {}
      const { highWaterMark } = this.#streamOptions as { highWaterMark?: number }
      this.#out = new PassThrough(highWaterMark === undefined ? { objectMode: true } : { objectMode: true, highWaterMark })
    }
    return this.#out
  }

  /**
   * @internal Runs the command on a real callback-API connection, re-emitting its events; settles
   * when it ended. A failure after rows were delivered is not a server failure to retry elsewhere
   * (the rows would repeat): it is wrapped in a {@link PinDbError}.
   */
  runOn(core: MysqlCoreConnectionLike, method: MysqlMethod, call: MysqlCall): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const command = call.values === undefined ? core[method](call.sql) : core[method](call.sql, call.values)
      let delivered = false
      let failed = false
      command.on('fields', (fields: unknown) => this.emit('fields', fields))
      command.on('result', (row: unknown, index: unknown) => {
        delivered = true
        this.emit('result', row, index)
      })
      command.on('error', (err: unknown) => {
        failed = true
        reject(delivered
          ? new PinDbError('PINDB_SESSION', `[mysql2] the statement failed after it had delivered rows; it is not retried elsewhere (rows would repeat). Cause: ${String((err as Error)?.message ?? err)}`, { cause: err })
          : err)
      })
      command.on('end', () => { if (!failed) resolve() })
      const out = this.#out
      if (out !== undefined) {
        const rows = command.stream(this.#streamOptions)
        rows.on('error', () => { /* reported through the command's 'error' */ })
        // A consumer that stops early (break out of for await) must not leave the connection paused.
        out.once('close', () => { if (!(rows as { readableEnded?: boolean }).readableEnded) (rows as { destroy?: () => void }).destroy?.() })
        rows.pipe(out)
      }
    })
  }

  /** @internal The statement finished: ends the stream, or reports the error. */
  settle(err: unknown): void {
    // On success the piped rows end the stream themselves.
    if (err !== undefined) {
      if (this.#out !== undefined && !this.#out.destroyed) this.#out.destroy(err as Error)
      if (this.listenerCount('error') > 0) this.emit('error', err)
    }
    this.emit('end')
  }
}
