/**
 * Sequelize 6 (postgres) over pindb. The one line: `dialectModule: createPgModule(pindb, { pg })`
 * (Sequelize builds `new dialectModule.Client(...)` for each of its pooled connections).
 * `logging: false` only silences its console output.
 *
 * Guards the pindb 0.1 failures: a `Pool` in `dialectModule` was ignored (Sequelize builds
 * `new lib.Client`), a silent bypass; and with a `Client` facade, Sequelize's connect-time
 * `SET standard_conforming_strings=on;SET client_min_messages TO warning;SET TIME ZONE '+00:00'`
 * anchored every pooled connection on the primary for good — no replica read ever, nothing warned.
 */
import pg from 'pg'
import { DataTypes, QueryTypes, Sequelize, type Transaction } from 'sequelize'
import { createPgModule } from '../../src/pg/index.js'
import { NOTES_TABLE, postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

function harness(sequelize: Sequelize) {
  const Note = sequelize.define('OrmNote', { body: { type: DataTypes.TEXT, allowNull: false } }, { tableName: NOTES_TABLE, timestamps: false })
  return (transaction: Transaction | null = null): OrmOps => ({
    rawPort: async () => (await sequelize.query<{ port: number }>('SELECT inet_server_port() AS port', { type: QueryTypes.SELECT, transaction }))[0]!.port,
    insert: async (body) => { await Note.create({ body }, { transaction }) },
    count: (body) => Note.count({ where: { body }, transaction }),
  })
}

ormMatrix({
  name: 'Sequelize 6 (postgres)',
  dialect: postgresDialect,
  async open(pindb) {
    const sequelize = new Sequelize({ dialect: 'postgres', dialectModule: createPgModule(pindb, { pg }), logging: false })
    const ops = harness(sequelize)
    return { ...ops(), transaction: (work) => sequelize.transaction((t) => work(ops(t))), close: () => sequelize.close() }
  },
})
