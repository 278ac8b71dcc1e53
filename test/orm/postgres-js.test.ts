/**
 * postgres.js (no ORM: its tagged template is its query API) over pindb. The one line:
 * `const sql = createPostgres(pindb, { postgres })`, used wherever `postgres(...)` was.
 * (pindb 0.1 had no postgres.js adapter: `pindb/postgres` did not exist.)
 */
import postgres from 'postgres'
import { createPostgres } from '../../src/postgres/index.js'
import { postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

function ops(sql: postgres.Sql | postgres.TransactionSql): OrmOps {
  return {
    rawPort: async () => (await sql.unsafe<{ port: number }[]>('SELECT inet_server_port() AS port'))[0]!.port,
    insert: async (body) => { await sql`INSERT INTO orm_notes (body) VALUES (${body})` },
    count: async (body) => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM orm_notes WHERE body = ${body}`)[0]!.n,
  }
}

ormMatrix({
  name: 'postgres.js',
  dialect: postgresDialect,
  async open(pindb) {
    const sql = createPostgres(pindb, { postgres })
    return { ...ops(sql), transaction: (work) => sql.begin((tx) => work(ops(tx))) as Promise<never>, close: () => sql.end() }
  },
})
