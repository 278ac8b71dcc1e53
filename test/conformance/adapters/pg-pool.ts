/** `pg-pool`: `createPgPool(pindb, { pg })`, a real `pg.Pool` subclass; held connections from `pool.connect()`. */
import pg from 'pg'
import { createPgPool } from '../../../src/pg/index.js'
import type { AdapterUnderTest, Row } from '../harness.js'

export const pgPool: AdapterUnderTest = {
  name: 'pg-pool',
  replaysSettings: true,
  engine: 'pg',
  create(pindb, options) {
    const pool = createPgPool(pindb, { pg, ...options })
    return {
      query: async (sql, params = []) => (await pool.query(sql, [...params])).rows as Row[],
      async connect() {
        const client = await pool.connect()
        return {
          query: async (sql, params = []) => (await client.query(sql, [...params])).rows as Row[],
          release: async () => client.release(),
        }
      },
      end: () => pool.end(),
    }
  },
}
