/**
 * Knex with the `pg` client over pindb the way Knex < 3.3 (no `connectionPool`) needs it: a
 * subclass of Knex's PostgreSQL client whose `_driver()` returns pindb's routed `pg` module. The
 * one line: `knex({ client: class extends PgClient { _driver() { return pgModule } } })` with
 * `const pgModule = createPgModule(pindb, { pg })`. Run here on Knex 3.3 (the seam is the same in
 * 3.2, which MikroORM 6 bundles).
 *
 * Guards the pindb 0.1 failure "Knex pg with `searchPath` silently degrades": Knex sends
 * `set search_path to …` on each new connection, which anchored that connection on the primary
 * for its whole (pooled) life — no replica reads, nothing warned. `searchPath` is set below.
 */
import { createRequire } from 'node:module'
import knex, { type Knex } from 'knex'
import pg from 'pg'
import { createPgModule } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

/** Knex's PostgreSQL client class (not in Knex's typings). */
const PgClient = createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js') as typeof knex.Client

function ops(db: Knex | Knex.Transaction): OrmOps {
  return {
    rawPort: async () => (await db.raw<{ rows: { port: number }[] }>('SELECT inet_server_port() AS port')).rows[0]!.port,
    insert: async (body) => { await db(NOTES_TABLE).insert({ body }) },
    count: async (body) => Number((await db(NOTES_TABLE).where({ body }).count({ n: '*' }))[0]!['n']),
  }
}

ormMatrix({
  name: 'Knex (pg, client class with routed driver)',
  dialect: postgresDialect,
  async open(pindb) {
    const pgModule = createPgModule(pindb, { pg })
    const db = knex({ client: class extends PgClient { _driver() { return pgModule } }, connection: {}, searchPath: ['public'] })
    return { ...ops(db), transaction: (work) => db.transaction((trx) => work(ops(trx))), close: () => db.destroy() }
  },
})
