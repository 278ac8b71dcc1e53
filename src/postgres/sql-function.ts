/**
 * The `sql` function of every routed scope (pool, reserved connection, transaction), as
 * postgres.js's own `Sql(handler)` builds it: the tagged template makes a postgres.js `Query`
 * bound to the scope's handler, which runs when the query is awaited (or `.execute()`d); the
 * helpers that make no query (`sql('t')`, `sql(obj)`, `sql.typed`, `sql.types`, `sql.array`,
 * `sql.json`) are the template instance's own.
 *
 * @module
 */
import { readFile } from 'node:fs'
import { Flight, cancelError } from './flight.js'
import type { PgjsKit } from './statement-text.js'
import type { PgjsHandler, PgjsQuery, PgjsSql } from './types.js'

/** @internal A routed scope's `sql`. */
export interface ScopeSql extends PgjsSql {
  notify(channel: string, payload: unknown): Promise<unknown>
  file(path: string, args?: unknown, options?: object): PgjsQuery
}

/** @internal The canceller of a routed query that has not reached a server yet. */
export function cancelUnsent(query: PgjsQuery): Promise<void> {
  query.cancelled = true
  const flight = Flight.find(query)
  if (flight === undefined) query.reject(cancelError())
  else flight.cancel(cancelError())
  return Promise.resolve()
}

function isTemplate(value: unknown): value is TemplateStringsArray {
  return typeof value === 'object' && value !== null && Array.isArray((value as { raw?: unknown }).raw)
}

/** @internal Builds a scope's `sql` over `handler` (see the module comment). */
export function makeSql(kit: PgjsKit, handler: PgjsHandler, canceller: ((query: PgjsQuery) => unknown) | null = cancelUnsent): ScopeSql {
  const { Query, template } = kit
  handler.debug = template.options.debug
  const sql = function sql(first: unknown, ...rest: unknown[]): unknown {
    return isTemplate(first) ? new Query(first, rest, handler, canceller) : template(first, ...rest)
  } as ScopeSql
  sql.unsafe = function unsafe(text: string, args: unknown = [], options: object = {}): PgjsQuery {
    if (!Array.isArray(args)) [args, options] = [[], args ?? {}]
    const values = args as unknown[]
    return new Query([text], values, handler, canceller, { prepare: false, ...options, simple: 'simple' in options ? options.simple : values.length === 0 })
  }
  sql.file = function file(path: string, args: unknown = [], options: object = {}): PgjsQuery {
    if (!Array.isArray(args)) [args, options] = [[], args ?? {}]
    const values = args as unknown[]
    const load: PgjsHandler = (query) => {
      readFile(path, 'utf8', (err, text) => {
        if (err) return query.reject(err)
        query.strings = [text]
        handler(query)
      })
    }
    return new Query([], values, load, canceller, { ...options, simple: 'simple' in options ? options.simple : values.length === 0 })
  }
  sql.notify = async function notify(channel: string, payload: unknown): Promise<unknown> {
    return await (sql`select pg_notify(${channel}, ${String(payload)})` as PgjsQuery)
  }
  sql.typed = template.typed
  sql.types = template.types
  sql.array = template.array
  sql.json = template.json
  return sql
}
