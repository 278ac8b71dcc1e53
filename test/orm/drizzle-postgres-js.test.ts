/**
 * Drizzle's `postgres-js` driver over pindb. The one line: `drizzle({ client: createPostgres(pindb, { postgres }) })`.
 * (pindb 0.1 had no postgres.js adapter.)
 */
import { count, eq, sql } from 'drizzle-orm'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { createPostgres } from '../../src/postgres/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

const notes = pgTable(NOTES_TABLE, { id: serial('id').primaryKey(), body: text('body').notNull() })

function ops(db: Pick<PostgresJsDatabase, 'execute' | 'insert' | 'select'>): OrmOps {
  return {
    rawPort: async () => Number((await db.execute<{ port: number }>(sql`SELECT inet_server_port() AS port`))[0]!.port),
    insert: async (body) => { await db.insert(notes).values({ body }) },
    count: async (body) => (await db.select({ n: count() }).from(notes).where(eq(notes.body, body)))[0]!.n,
  }
}

ormMatrix({
  name: 'Drizzle (postgres-js)',
  dialect: postgresDialect,
  async open(pindb) {
    const client = createPostgres(pindb, { postgres })
    const db = drizzle({ client })
    return { ...ops(db), transaction: (work) => db.transaction((tx) => work(ops(tx))), close: () => client.end() }
  },
})
