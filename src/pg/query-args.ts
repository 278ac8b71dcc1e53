/**
 * pg's argument conventions: `(text | config, values?, callback?)`, and promise-or-callback results.
 *
 * @module
 */
import type { PgCallback, PgQueryConfig, PgQueryResult } from './types.js'

/** @internal Splits pg's `(text|config, values?, callback?)` arguments. */
export function queryArgs(args: unknown[]): { query: string | PgQueryConfig; values: unknown[] | undefined; callback: PgCallback<PgQueryResult> | undefined } {
  const [query, second, third] = args
  if (typeof query !== 'string' && (typeof query !== 'object' || query === null || typeof (query as PgQueryConfig).text !== 'string')) {
    throw new TypeError('[pindb] [pg] query expects SQL text or a { text, values } config object')
  }
  const callback = typeof second === 'function' ? second : typeof third === 'function' ? third : undefined
  const values = Array.isArray(second) ? second : undefined
  return { query: query as string | PgQueryConfig, values, callback: callback as PgCallback<PgQueryResult> | undefined }
}

/** @internal Delivers a promise to a pg-style callback (returning undefined), or returns it. */
export function settle<T>(promise: Promise<T>, callback: PgCallback<T> | undefined): Promise<T> | undefined {
  if (callback === undefined) return promise
  // On the next tick, as pg calls back from its socket: a throw in the callback is an
  // uncaughtException (as with pg), not an unhandled rejection of a promise nobody holds.
  promise.then(
    (result) => process.nextTick(() => callback(undefined, result)),
    (err: Error) => process.nextTick(() => callback(err, undefined as T)),
  )
  return undefined
}
