/**
 * `pindb/postgres`: a routed drop-in for a postgres.js (`postgres`) `sql` instance, usable by
 * Drizzle's `postgres-js` driver unchanged.
 *
 * Not routed (they throw `PINDB_UNSUPPORTED` at once): `sql.subscribe` (logical replication) and
 * `sql.largeObject` — use a plain `postgres()` on the primary for those.
 *
 * @module
 */
export { createPostgres, type PostgresOptions, type RoutedPostgres } from './routed-postgres.js'
export type { PostgresModuleLike } from './types.js'
