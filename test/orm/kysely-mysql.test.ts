/**
 * Kysely's `MysqlDialect` on MariaDB over pindb. The one line:
 * `new MysqlDialect({ pool: createMysqlPool(pindb, { mysql }) })` (Kysely uses mysql2's callback API).
 *
 * Guards the pindb 0.1 failure: the promise-only pool ignored the callback of
 * `pool.getConnection(cb)`, so the first query never settled (a hang, no error).
 */
import { Kysely, MysqlDialect, sql, type Generated } from 'kysely'
import mysql from 'mysql2/promise'
import { createMysqlPool } from '../../src/mysql2/index.js'
import { NOTES_TABLE, mysqlDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

interface Db { [NOTES_TABLE]: { id: Generated<number>; body: string } }

function ops(db: Kysely<Db>): OrmOps {
  return {
    rawPort: async () => Number((await sql<{ port: number }>`SELECT @@port AS port`.execute(db)).rows[0]!.port),
    insert: async (body) => { await db.insertInto(NOTES_TABLE).values({ body }).execute() },
    count: async (body) => Number((await db.selectFrom(NOTES_TABLE).select((eb) => eb.fn.countAll<number>().as('n')).where('body', '=', body).executeTakeFirstOrThrow()).n),
  }
}

ormMatrix({
  name: 'Kysely (MysqlDialect)',
  dialect: mysqlDialect,
  async open(pindb) {
    const db = new Kysely<Db>({ dialect: new MysqlDialect({ pool: createMysqlPool(pindb, { mysql }) }) })
    return { ...ops(db), transaction: (work) => db.transaction().execute((trx) => work(ops(trx))), close: () => db.destroy() }
  },
})
