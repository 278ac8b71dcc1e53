/**
 * The subset of node-postgres that `pindb/pg` uses, typed structurally so that pindb has no type
 * or runtime dependency on `pg` (the Kysely approach). What users get back is typed from the `pg`
 * module they pass in: `createPgPool(pindb, { pg })` is an `InstanceType<typeof pg.Pool>`.
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
  types?: unknown
  submit?: (connection: unknown) => void
  [key: string]: unknown
}

/** A Submittable such as pg-cursor's `Cursor` or pg-query-stream's `QueryStream`. */
export interface PgSubmittable {
  text?: string
  submit(connection: unknown): void
  handleReadyForQuery?(connection: unknown): void
  handleError?(err: Error, connection: unknown): void
}

/** Node-style callback. */
export type PgCallback<T> = (err: Error | undefined | null, result: T) => void

/** A connected pg client (a real one: `pg.Client`, or one checked out of a `pg.Pool`). */
export interface PgClientLike {
  query(text: string | PgQueryConfig | PgSubmittable, values?: unknown[]): Promise<PgQueryResult> | unknown
  connect(): Promise<void>
  end(): Promise<void>
  on(event: string, listener: (...args: any[]) => void): unknown
  removeListener(event: string, listener: (...args: any[]) => void): unknown
  release?(err?: Error | boolean): void
  readonly processID?: number | null
  readonly secretKey?: number | null
  readonly connection?: { stream?: { destroy(): void } } & Record<string, any>
}

/** A pg `Pool`. */
export interface PgPoolLike {
  query(text: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult> | unknown
  connect(): Promise<PgClientLike & { release(err?: Error | boolean): void }>
  end(): Promise<void>
  on(event: string, listener: (...args: any[]) => void): unknown
  readonly totalCount?: number
  readonly idleCount?: number
  readonly waitingCount?: number
}

/** The `pg` module (`import pg from 'pg'`), or anything with compatible `Pool` and `Client` classes. */
export interface PgModuleLike {
  Pool: new (config?: any) => any
  Client: new (config?: any) => any
}
