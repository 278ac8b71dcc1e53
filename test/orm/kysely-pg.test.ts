/**
 * Kysely's `PostgresDialect` over pindb. The one line: `new PostgresDialect({ pool: createPgPool(pindb, { pg }) })`.
 * (Worked in pindb 0.1 already; kept as the baseline of the matrix.)
 */
import { Kysely, PostgresDialect, sql, type Generated } from 'kysely'
import pg from 'pg'
import { createPgPool } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

interface Db { [NOTES_TABLE]: { id: Generated<number>; body: string } }

function ops(db: Kysely<Db>): OrmOps {
  return {
    rawPort: async () => (await sql<{ port: number }>`SELECT inet_server_port() AS port`.execute(db)).rows[0]!.port,
    insert: async (body) => { await db.insertInto(NOTES_TABLE).values({ body }).execute() },
    count: async (body) => Number((await db.selectFrom(NOTES_TABLE).select((eb) => eb.fn.countAll<number>().as('n')).where('body', '=', body).executeTakeFirstOrThrow()).n),
  }
}

ormMatrix({
  name: 'Kysely (PostgresDialect)',
  dialect: postgresDialect,
  async open(pindb) {
    const db = new Kysely<Db>({ dialect: new PostgresDialect({ pool: createPgPool(pindb, { pg }) }) })
    return { ...ops(db), transaction: (work) => db.transaction().execute((trx) => work(ops(trx))), close: () => db.destroy() }
  },
})
