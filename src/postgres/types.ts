/**
 * The subset of postgres.js (`postgres` 3.4) that `pindb/postgres` uses, typed structurally so
 * that pindb has no type or runtime dependency on it. The names are postgres.js's own (its
 * `Query` is a `Promise` subclass whose fields the connection reads and writes).
 *
 * @module
 */

/** The `postgres` module's default export: anything callable that returns a `sql` instance. */
export type PostgresModuleLike = (...args: never[]) => object

/** @internal A postgres.js `Query` (what `` sql`…` `` and `sql.unsafe()` return). */
export interface PgjsQuery extends Promise<unknown> {
  tagged: boolean
  strings: readonly string[]
  args: unknown[]
  handler: PgjsHandler
  canceller: ((query: PgjsQuery) => unknown) | null
  options: { simple?: boolean; prepare?: boolean; [key: string]: unknown }
  state: unknown
  statement: unknown
  parameters?: unknown[] | undefined
  active: boolean
  cancelled: unknown
  executed: boolean
  retried?: unknown
  prepared?: unknown
  describeFirst?: unknown
  cursorFn?: unknown
  cursorRows?: unknown
  forEachFn?: unknown
  resolve(value: unknown): void
  reject(err: unknown): void
}

/** @internal Where a query is executed: a postgres.js pool, reserved connection or transaction. */
export type PgjsHandler = ((query: PgjsQuery) => void) & { debug?: unknown }

/** @internal The Query constructor (not exported by postgres.js: taken from a query's prototype). */
export type PgjsQueryClass = new (
  strings: readonly string[],
  args: unknown[],
  handler: PgjsHandler,
  canceller: ((query: PgjsQuery) => unknown) | null,
  options?: object,
) => PgjsQuery

/** @internal A postgres.js `sql` of any scope: pool, reserved connection or transaction. */
export interface PgjsSql {
  (first: unknown, ...rest: unknown[]): unknown
  unsafe(query: string, args?: unknown[], options?: object): PgjsQuery
  typed: (...args: unknown[]) => unknown
  types: unknown
  array: (...args: unknown[]) => unknown
  json: (value: unknown) => unknown
}

/** @internal A `sql.reserve()` connection. */
export interface PgjsReserved extends PgjsSql {
  release(): void
}

/** @internal A `sql.begin()` / `sql.savepoint()` scope. */
export interface PgjsTransaction extends PgjsSql {
  savepoint(name: unknown, fn?: (sql: PgjsTransaction) => unknown): Promise<unknown>
  prepare(name: string): void
}

/** @internal The parsed options of an instance (`sql.options`). */
export interface PgjsOptions {
  parsers: Record<string, unknown>
  serializers: Record<string, unknown>
  shared: { typeArrayMap: Record<string, unknown> }
  debug?: unknown
  [key: string]: unknown
}

/** @internal A postgres.js pool instance (what `postgres(options)` returns). */
export interface PgjsInstance extends PgjsSql {
  options: PgjsOptions
  readonly parameters: Record<string, string>
  begin(options: string, fn: (sql: PgjsTransaction) => unknown): Promise<unknown>
  reserve(): Promise<PgjsReserved>
  listen(channel: string, fn: (payload: string) => void, onlisten?: () => void): Promise<unknown>
  end(options?: { timeout?: number | null }): Promise<void>
  close(): Promise<void>
  CLOSE: object
  END: object
  PostgresError: unknown
}
