/**
 * `pindb/mysql2`: a routed drop-in for mysql2's pools (promise and callback APIs), and a routed
 * stand-in for the `mysql2` module for ORMs that load the driver themselves (TypeORM, Sequelize).
 *
 * @module
 */
export { createMysqlPool, PinDbMysqlPool, PinDbMysqlCallbackPool, type MysqlPoolOptions, type PromisePoolOf } from './pool.js'
export { PinDbMysqlConnection, PinDbMysqlCallbackConnection } from './connection.js'
export { createMysqlModule, type MysqlModuleOptions, type PinDbMysqlModule } from './module.js'
export { PinDbMysqlLogicalConnection } from './logical-connection.js'
export { RoutedQuery } from './query.js'
export type {
  MysqlCallback, MysqlModuleLike, MysqlValues, MysqlPoolLike, MysqlPoolConnectionLike, MysqlQueryOptions, MysqlResult,
} from './types.js'
