/** Replaces `mysql2/promise` for the vendored tests: `createPool` is pindb's routed pool; the rest is mysql2's. */
import mysql from 'mysql2/promise'
import type { PinDbMysqlPool } from '../../../src/mysql2/index.js'
import { routedPromisePool } from './setup.js'

/** mysql2/promise `createPool`, replaced by pindb's routed pool. */
export function createPool(options: object = {}): PinDbMysqlPool {
  return routedPromisePool(options)
}

/** mysql2's own (not a pool: the tests that use it are excluded, see run.ts). */
export const createConnection = mysql.createConnection
