/**
 * Drizzle's `node-postgres` driver over pindb. The one line: `drizzle({ client: createPgPool(pindb, { pg }) })`.
 *
 * Guards the pindb 0.1 hazard: Drizzle's `transaction()` checks out one client only when the pool is
 * `instanceof pg.Pool` or its class *name* contains "Pool"; a minified (renamed) pindb pool ran each
 * transaction statement on its own connection. The routed pool is now a real `pg.Pool`.
 */
import { count, eq, sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { createPgPool } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

const notes = pgTable(NOTES_TABLE, { id: serial('id').primaryKey(), body: text('body').notNull() })

function ops(db: Pick<NodePgDatabase, 'execute' | 'insert' | 'select'>): OrmOps {
  return {
    rawPort: async () => Number((await db.execute<{ port: number }>(sql`SELECT inet_server_port() AS port`)).rows[0]!.port),
    insert: async (body) => { await db.insert(notes).values({ body }) },
    count: async (body) => (await db.select({ n: count() }).from(notes).where(eq(notes.body, body)))[0]!.n,
  }
}

ormMatrix({
  name: 'Drizzle (node-postgres)',
  dialect: postgresDialect,
  async open(pindb) {
    const pool = createPgPool(pindb, { pg })
    const db = drizzle({ client: pool })
    return { ...ops(db), transaction: (work) => db.transaction((tx) => work(ops(tx))), close: () => pool.end() }
  },
})
