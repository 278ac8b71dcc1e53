/** Replaces the `mysql2` main module for the vendored tests: its pool factories are pindb's routed pools. */
import mysql from 'mysql2/promise'
import { createPool } from './common.js'
import { routedPromisePool } from './setup.js'

export default {
  createPool,
  createPoolPromise: (options: object = {}) => routedPromisePool(options),
  createConnectionPromise: mysql.createConnection,
}
