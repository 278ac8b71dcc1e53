/**
 * The subset of mysql2's promise API that `pindb/mysql2` uses, typed structurally so that pindb
 * has no type or runtime dependency on `mysql2`.
 *
 * @module
 */

/** `query` / `execute` options object form (`{ sql, values, rowsAsArray, nestTables, timeout, … }`). */
export interface MysqlQueryOptions {
  sql: string
  values?: unknown
  [key: string]: unknown
}

/** What mysql2's promise `query` / `execute` resolve to: `[rows or OkPacket, fields]`. */
export type MysqlResult = [unknown, unknown]

/** A connection checked out of a mysql2 promise pool. */
export interface MysqlPoolConnectionLike {
  query(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult>
  execute(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult>
  beginTransaction(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  release(): void
  destroy(): void
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

/** The `mysql2/promise` module, or anything with a compatible `createPool`. */
export interface MysqlModuleLike {
  createPool(config: object): MysqlPoolLike
}
