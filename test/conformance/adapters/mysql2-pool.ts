/** `mysql2-pool`: `createMysqlPool(pindb, { mysql })` (promise API); held connections from `getConnection()`. */
import mysql from 'mysql2/promise'
import { createMysqlPool } from '../../../src/mysql2/index.js'
import type { AdapterUnderTest, Row } from '../harness.js'

export const mysql2Pool: AdapterUnderTest = {
  name: 'mysql2-pool',
  replaysSettings: true,
  engine: 'mariadb',
  create(pindb, options) {
    const pool = createMysqlPool(pindb, { mysql, ...options })
    return {
      query: async (sql, params = []) => (await pool.query(sql, [...params]))[0] as Row[],
      async connect() {
        const conn = await pool.getConnection()
        return {
          query: async (sql, params = []) => (await conn.query(sql, [...params]))[0] as Row[],
          release: async () => conn.release(),
        }
      },
      end: () => pool.end() as Promise<void>,
    }
  },
}
