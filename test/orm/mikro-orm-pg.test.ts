/**
 * MikroORM 6 (postgresql) over pindb. MikroORM 6 bundles knex 3.2 (no `connectionPool`), whose
 * PostgreSQL client loads `pg` in `_driver()`; MikroORM merges `driverOptions` into the knex
 * config, so `driverOptions.client` can be its dialect class with `_driver()` returning pindb's
 * pg module. The one line: `driverOptions: { client: class extends PostgreSqlKnexDialect { _driver() { return pgModule } } }`.
 *
 * Guards the pindb 0.1 failure: `driverOptions: { connectionPool }` is silently ignored by the
 * bundled Knex 3.2 — a silent bypass.
 */
import { EntitySchema, MikroORM, PostgreSqlKnexDialect, type EntityManager } from '@mikro-orm/postgresql'
import pg from 'pg'
import { createPgModule } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

interface Note { id: number; body: string }
const Note = new EntitySchema<Note>({
  name: 'OrmNote',
  tableName: NOTES_TABLE,
  properties: { id: { type: 'number', primary: true, autoincrement: true }, body: { type: 'string', columnType: 'text' } },
})

function ops(em: () => EntityManager): OrmOps {
  return {
    rawPort: async () => ((await em().execute('SELECT inet_server_port() AS port')) as { port: number }[])[0]!.port,
    insert: async (body) => {
      const scope = em()
      scope.create(Note, { body })
      await scope.flush() // a unit-of-work flush: MikroORM wraps it in its own transaction
    },
    count: (body) => em().count(Note, { body }),
  }
}

ormMatrix({
  name: 'MikroORM 6 (postgresql)',
  dialect: postgresDialect,
  async open(pindb) {
    const pgModule = createPgModule(pindb, { pg })
    const orm = await MikroORM.init({
      entities: [Note],
      dbName: 'pindb',
      driverOptions: { client: class extends PostgreSqlKnexDialect { _driver() { return pgModule } } },
    })
    return {
      ...ops(() => orm.em.fork()),
      transaction: (work) => orm.em.fork().transactional((em) => work(ops(() => em))),
      close: () => orm.close(),
    }
  },
})
