/**
 * The subset of node-postgres that `pindb/pg` uses, typed structurally so that pindb has no type
 * or runtime dependency on `pg` (the Kysely approach).
 *
 * @module
 */

/** A query result, as pg returns it. */
export interface PgQueryResult {
  command?: string
  rowCount?: number | null
  rows: unknown[]
  [key: string]: unknown
}

/** A query config object (`{ text, values, name, rowMode, types }`) or a Submittable (pg-cursor, pg-query-stream). */
export interface PgQueryConfig {
  text: string
  values?: unknown[]
  name?: string
  submit?: (connection: unknown) => void
  [key: string]: unknown
}

/** A Submittable such as pg-cursor's `Cursor` or pg-query-stream's `QueryStream`. */
export interface PgSubmittable {
  text: string
  submit(connection: unknown): void
}

/** Node-style callback. */
export type PgCallback<T> = (err: Error | undefined | null, result: T) => void

/** A pg client checked out of a pool. */
export interface PgPoolClientLike {
  query(text: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult> | unknown
  release(err?: Error | boolean): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown
}

/** A pg `Pool`. */
export interface PgPoolLike {
  query(text: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult> | unknown
  connect(): Promise<PgPoolClientLike>
  end(): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  readonly totalCount?: number
  readonly idleCount?: number
  readonly waitingCount?: number
}

/** The `pg` module, or anything with a compatible `Pool` class. */
export interface PgModuleLike {
  Pool: new (config: object) => PgPoolLike
}
