/**
 * Validation of the `pindb/mysql2` factories' options, with pindb's shared options validator.
 *
 * @module
 */
import { ROUTED_POOL_OPTIONS_SCHEMA } from '../config/schemas.js'
import { validateOptions, type Schema } from '../config/validate.js'

/** The options of `createMysqlPool` and `createMysqlModule`. */
const MYSQL_POOL_OPTIONS_SCHEMA: Schema = {
  liveness: { type: 'object', openObject: true, expected: 'an object { connectTimeoutMs, probeAfterMs, probeTimeoutMs, recoverEveryMs }' },
  ...ROUTED_POOL_OPTIONS_SCHEMA,
  mysql: { type: ['object', 'function'], expected: "the mysql2 module (import mysql from 'mysql2/promise')", example: '{ mysql }' },
  createPool: { type: 'function', expected: 'a function (alias, config) => a mysql2 promise pool' },
  config: { type: 'object', openObject: true, expected: 'mysql2 pool options (typeCast, supportBigNumbers, …)' },
}

/** @internal Throws `PinDbConfigError` naming the option and the fix. */
export function validateMysqlPoolOptions(options: object, where: string): void {
  validateOptions(MYSQL_POOL_OPTIONS_SCHEMA, options, { where })
}
