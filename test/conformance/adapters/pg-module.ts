/**
 * `pg-module`: `createPgModule(pindb, { pg })`, as ORMs load it — pool statements through
 * `new mod.Pool()`, held connections as logical clients (`new mod.Client(config)` + `connect()`).
 */
import pg from 'pg'
import { createPgModule } from '../../../src/pg/index.js'
import type { AdapterUnderTest, Row } from '../harness.js'

export const pgModule: AdapterUnderTest = {
  name: 'pg-module',
  replaysSettings: true,
  engine: 'pg',
  create(pindb, options) {
    const mod = createPgModule(pindb, { pg, ...options })
    // What an ORM passes: pindb's topology decides where to connect, so host and port are ignored.
    const ormConfig = { host: 'ignored.invalid', port: 1, user: 'postgres', database: 'pindb' }
    const pool = new mod.Pool(ormConfig)
    return {
      query: async (sql, params = []) => (await pool.query(sql, [...params])).rows as Row[],
      async connect() {
        const client = new mod.Client(ormConfig)
        await client.connect()
        return {
          query: async (sql, params = []) => (await client.query(sql, [...params])).rows as Row[],
          release: () => client.end(),
        }
      },
      end: () => pool.end(),
    }
  },
}
