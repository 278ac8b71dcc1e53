/**
 * `pindb/pg`: a routed drop-in for node-postgres's `pg.Pool`.
 *
 * @module
 */
export { createPgPool, PinDbPgPool, type PgPoolOptions } from './pool.js'
export { PinDbPgClient } from './client.js'
export type { PgModuleLike, PgPoolLike, PgPoolClientLike, PgQueryConfig, PgQueryResult, PgCallback, PgSubmittable } from './types.js'
