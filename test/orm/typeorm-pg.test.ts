/**
 * TypeORM (postgres) over pindb. The one line: `driver: createPgModule(pindb, { pg })` in the
 * DataSource options (TypeORM builds its own `new driver.Pool(...)`; pindb's module routes inside).
 *
 * Guards the pindb 0.1 failure: the documented `extra: { pool }` is merged into the config of
 * TypeORM's own `pg.Pool`, a silent bypass (every statement on the primary, no route at all).
 */
import pg from 'pg'
import { DataSource, EntitySchema, type EntityManager } from 'typeorm'
import { createPgModule } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

interface Note { id: number; body: string }
const Note = new EntitySchema<Note>({
  name: 'OrmNote',
  tableName: NOTES_TABLE,
  columns: { id: { type: Number, primary: true, generated: true }, body: { type: String } },
})

function ops(em: EntityManager): OrmOps {
  return {
    rawPort: async () => ((await em.query('SELECT inet_server_port() AS port')) as { port: number }[])[0]!.port,
    insert: async (body) => { await em.save(Note, { body }) }, // save() wraps itself in a transaction
    count: (body) => em.count(Note, { where: { body } }),
  }
}

ormMatrix({
  name: 'TypeORM (postgres)',
  dialect: postgresDialect,
  async open(pindb) {
    const ds = await new DataSource({ type: 'postgres', driver: createPgModule(pindb, { pg }), entities: [Note] }).initialize()
    return { ...ops(ds.manager), transaction: (work) => ds.transaction((em) => work(ops(em))), close: () => ds.destroy() }
  },
})
