/**
 * The subset of mysql2's APIs that `pindb/mysql2` uses, typed structurally so that pindb has no
 * type or runtime dependency on `mysql2`.
 *
 * @module
 */
import type { EventEmitter } from 'node:events'

/** `query` / `execute` options object form (`{ sql, values, rowsAsArray, nestTables, timeout, … }`). */
export interface MysqlQueryOptions {
  sql: string
  values?: unknown
  [key: string]: unknown
}

/** What mysql2's promise `query` / `execute` resolve to: `[rows or OkPacket, fields]`. */
export type MysqlResult = [unknown, unknown]

/** Placeholder values of a statement: an array, or an object for named placeholders. */
export type MysqlValues = readonly unknown[] | Readonly<Record<string, unknown>>

/** mysql2's callback: `(err, rows or OkPacket, fields)`. */
export type MysqlCallback = (err: Error | null, result?: unknown, fields?: unknown) => void

/** A command of mysql2's callback API (`Query` / `Execute`): an emitter that can stream its rows. */
export interface MysqlCoreQueryLike extends EventEmitter {
  stream(options?: object): NodeJS.ReadableStream & EventEmitter
}

/** mysql2's callback-API connection, reached as `promiseConnection.connection`. */
export interface MysqlCoreConnectionLike {
  query(sql: string | MysqlQueryOptions, values?: unknown): MysqlCoreQueryLike
  execute(sql: string | MysqlQueryOptions, values?: unknown): MysqlCoreQueryLike
}

/** A connection checked out of a mysql2 promise pool (or made by `mysql2/promise` `createConnection`). */
export interface MysqlPoolConnectionLike {
  query(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult>
  execute(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult>
  beginTransaction(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  /** Pool connections only. */
  release?(): void
  destroy(): void
  /** Standalone connections: closes it. */
  end?(): Promise<void>
  /** `COM_RESET_CONNECTION`: drops session settings (and mysql2's statement cache). */
  reset?(): Promise<void>
  ping?(): Promise<unknown>
  /** The callback-API connection underneath (streams): a {@link MysqlCoreConnectionLike}. */
  readonly connection?: object
  on?(event: string, listener: (...args: unknown[]) => void): unknown
}

/** A mysql2 promise pool (`mysql2/promise` `createPool`). */
export interface MysqlPoolLike {
  query(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult>
  execute(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult>
  getConnection(): Promise<MysqlPoolConnectionLike>
  end(): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

/**
 * The `mysql2/promise` module (or `mysql2`: its callback pools are used through `.promise()`), or
 * anything with a compatible `createPool`. `createConnection`, `format`, `escape`, `escapeId`,
 * `raw` and `Types` are used when present.
 */
export interface MysqlModuleLike {
  createPool(config: object): MysqlPoolLike | { promise(): MysqlPoolLike }
  createConnection?(config: object): unknown
  format?(sql: string, values?: unknown, stringifyObjects?: boolean, timeZone?: string): string
  escape?(value: unknown, stringifyObjects?: boolean, timeZone?: string): string
  escapeId?(value: unknown, forbidQualified?: boolean): string
  raw?(sql: string): unknown
  readonly Types?: unknown
}
