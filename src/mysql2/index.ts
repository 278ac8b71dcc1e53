/**
 * `pindb/mysql2`: a routed drop-in for mysql2's promise pool.
 *
 * @module
 */
export { createMysqlPool, PinDbMysqlPool, type MysqlPoolOptions } from './pool.js'
export { PinDbMysqlConnection } from './connection.js'
export type { MysqlModuleLike, MysqlPoolLike, MysqlPoolConnectionLike, MysqlQueryOptions, MysqlResult } from './types.js'
