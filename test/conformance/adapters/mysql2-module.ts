/**
 * `mysql2-module`: `createMysqlModule(pindb, { mysql })`, as TypeORM and Sequelize load it — pool
 * statements through `createPool(config)` (callback API), held connections as logical
 * connections from `createConnection(config)`.
 */
import mysql from 'mysql2/promise'
import { createMysqlModule } from '../../../src/mysql2/index.js'
import type { AdapterUnderTest, Row, RunQuery } from '../harness.js'

type Callback = (err: Error | null, rows?: unknown) => void
const callbackQuery = (target: { query(sql: string, values: unknown[], cb: Callback): unknown }): RunQuery =>
  (sql, params = []) => new Promise((resolve, reject) => {
    target.query(sql, [...params], (err, rows) => (err ? reject(err) : resolve(rows as Row[])))
  })

export const mysql2Module: AdapterUnderTest = {
  name: 'mysql2-module',
  replaysSettings: true,
  engine: 'mariadb',
  create(pindb, options) {
    const mod = createMysqlModule(pindb, { mysql, ...options })
    // What an ORM passes: pindb's topology decides where to connect, so host and port are ignored.
    const ormConfig = { host: 'ignored.invalid', port: 1, user: 'root', database: 'pindb' }
    const pool = mod.createPool(ormConfig)
    const connections = new Set<{ end(cb?: () => void): void }>()
    return {
      query: callbackQuery(pool as never),
      async connect() {
        const conn = mod.createConnection(ormConfig)
        await new Promise<void>((resolve, reject) => conn.once('connect', () => resolve()).once('error', reject))
        connections.add(conn)
        return {
          query: callbackQuery(conn as never),
          release: () => new Promise<void>((resolve) => {
            connections.delete(conn)
            conn.end(() => resolve())
          }),
        }
      },
      async end() {
        await Promise.all([...connections].map((c) => new Promise<void>((resolve) => c.end(() => resolve()))))
        await new Promise<void>((resolve) => pool.end(() => resolve()))
        await pindb.close()
      },
    }
  },
}
