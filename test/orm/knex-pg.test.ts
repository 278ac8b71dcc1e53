/**
 * Knex ≥ 3.3 with the `pg` client over pindb. The one line:
 * `knex({ client: 'pg', connectionPool: createPgPool(pindb, { pg }) })`.
 * (Worked in pindb 0.1 already, through Knex 3.3's `connectionPool`.)
 */
import knex, { type Knex } from 'knex'
import pg from 'pg'
import { createPgPool } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

function ops(db: Knex | Knex.Transaction): OrmOps {
  return {
    rawPort: async () => (await db.raw<{ rows: { port: number }[] }>('SELECT inet_server_port() AS port')).rows[0]!.port,
    insert: async (body) => { await db(NOTES_TABLE).insert({ body }) },
    count: async (body) => Number((await db(NOTES_TABLE).where({ body }).count({ n: '*' }))[0]!['n']),
  }
}

ormMatrix({
  name: 'Knex 3.3 (pg, connectionPool)',
  dialect: postgresDialect,
  async open(pindb) {
    const pool = createPgPool(pindb, { pg })
    const db = knex({ client: 'pg', connectionPool: pool })
    return {
      ...ops(db),
      transaction: (work) => db.transaction((trx) => work(ops(trx))),
      close: async () => { await db.destroy(); await pool.end() },
    }
  },
})
