/**
 * TypeORM (mysql) on MariaDB over pindb. The one line: `driver: createMysqlModule(pindb, { mysql })`
 * in the DataSource options (TypeORM calls `driver.createPool(...)`; pindb's module routes inside).
 *
 * Guards the pindb 0.1 failure: with a promise pool behind `driver.createPool`, `initialize()` never
 * settled (TypeORM calls `pool.getConnection(cb)`, then `conn.promise().query()`).
 */
import mysql from 'mysql2/promise'
import { DataSource, EntitySchema, type EntityManager } from 'typeorm'
import { createMysqlModule } from '../../src/mysql2/index.js'
import { NOTES_TABLE, mysqlDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

interface Note { id: number; body: string }
const Note = new EntitySchema<Note>({
  name: 'OrmNote',
  tableName: NOTES_TABLE,
  columns: { id: { type: Number, primary: true, generated: true }, body: { type: String, length: 200 } },
})

function ops(em: EntityManager): OrmOps {
  return {
    rawPort: async () => Number(((await em.query('SELECT @@port AS port')) as { port: number }[])[0]!.port),
    insert: async (body) => { await em.save(Note, { body }) }, // save() wraps itself in a transaction
    count: (body) => em.count(Note, { where: { body } }),
  }
}

ormMatrix({
  name: 'TypeORM (mysql)',
  dialect: mysqlDialect,
  async open(pindb) {
    const ds = await new DataSource({ type: 'mysql', driver: createMysqlModule(pindb, { mysql }), entities: [Note] }).initialize()
    return { ...ops(ds.manager), transaction: (work) => ds.transaction((em) => work(ops(em))), close: () => ds.destroy() }
  },
})
