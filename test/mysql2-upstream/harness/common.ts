/** Replaces mysql2's `test/common.test.mts` for the vendored tests: `config`, `createPool` (routed, callback API). */
import type { PinDbMysqlCallbackPool } from '../../../src/mysql2/index.js'
import { config, routedPromisePool } from './setup.js'

export { config }

/** mysql2's callback `createPool`, replaced by pindb's routed pool (its `.pool` face). */
export function createPool(options: object = {}): PinDbMysqlCallbackPool {
  return routedPromisePool({ ...config, ...options }).pool
}
