/**
 * Drizzle's `mysql2` driver on MariaDB over pindb. The one line: `drizzle({ client: createMysqlPool(pindb, { mysql }) })`.
 * (Worked in pindb 0.1 already: Drizzle uses the promise API it finds.)
 */
import { count, eq, sql } from 'drizzle-orm'
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2'
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import mysql from 'mysql2/promise'
import { createMysqlPool } from '../../src/mysql2/index.js'
import { NOTES_TABLE, mysqlDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

const notes = mysqlTable(NOTES_TABLE, { id: int('id').primaryKey().autoincrement(), body: varchar('body', { length: 200 }).notNull() })

function ops(db: Pick<MySql2Database, 'execute' | 'insert' | 'select'>): OrmOps {
  return {
    rawPort: async () => {
      const [rows] = (await db.execute(sql`SELECT @@port AS port`)) as unknown as [{ port: number }[]]
      return Number(rows[0]!.port)
    },
    insert: async (body) => { await db.insert(notes).values({ body }) },
    count: async (body) => (await db.select({ n: count() }).from(notes).where(eq(notes.body, body)))[0]!.n,
  }
}

ormMatrix({
  name: 'Drizzle (mysql2)',
  dialect: mysqlDialect,
  async open(pindb) {
    const pool = createMysqlPool(pindb, { mysql })
    const db = drizzle({ client: pool })
    return { ...ops(db), transaction: (work) => db.transaction((tx) => work(ops(tx))), close: () => pool.end() }
  },
})
