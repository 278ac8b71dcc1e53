/**
 * Knex ≥ 3.3 with the `mysql2` client on MariaDB over pindb. The one line:
 * `knex({ client: 'mysql2', connectionPool: createMysqlPool(pindb, { mysql }) })`.
 *
 * Guards the pindb 0.1 failure: Knex takes `pool.pool || pool` and calls `getConnection(cb)`, which
 * the promise-only pool ignored — the first query hung.
 */
import knex, { type Knex } from 'knex'
import mysql from 'mysql2/promise'
import { createMysqlPool } from '../../src/mysql2/index.js'
import { NOTES_TABLE, mysqlDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

function ops(db: Knex | Knex.Transaction): OrmOps {
  return {
    rawPort: async () => {
      const [rows] = await db.raw<[{ port: number }[], unknown]>('SELECT @@port AS port')
      return Number(rows[0]!.port)
    },
    insert: async (body) => { await db(NOTES_TABLE).insert({ body }) },
    count: async (body) => Number((await db(NOTES_TABLE).where({ body }).count({ n: '*' }))[0]!['n']),
  }
}

ormMatrix({
  name: 'Knex 3.3 (mysql2, connectionPool)',
  dialect: mysqlDialect,
  async open(pindb) {
    const pool = createMysqlPool(pindb, { mysql })
    const db = knex({ client: 'mysql2', connectionPool: pool })
    return {
      ...ops(db),
      transaction: (work) => db.transaction((trx) => work(ops(trx))),
      close: async () => { await db.destroy(); await pool.end() },
    }
  },
})
