/**
 * Sequelize 6 (mysql) on MariaDB over pindb. The one line: `dialectModule: createMysqlModule(pindb, { mysql })`
 * (Sequelize calls `dialectModule.createConnection(...)` for each of its pooled connections).
 * `logging: false` only silences its console output.
 *
 * Guards the pindb 0.1 failures: `authenticate()` never settled (Sequelize waits for the
 * connection's `connect` event), and its connect-time `SET time_zone = '+00:00'` anchored every
 * pooled connection on the primary.
 */
import mysql from 'mysql2/promise'
import { DataTypes, QueryTypes, Sequelize, type Transaction } from 'sequelize'
import { createMysqlModule } from '../../src/mysql2/index.js'
import { NOTES_TABLE, mysqlDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'

function harness(sequelize: Sequelize) {
  const Note = sequelize.define('OrmNote', { body: { type: DataTypes.STRING(200), allowNull: false } }, { tableName: NOTES_TABLE, timestamps: false })
  return (transaction: Transaction | null = null): OrmOps => ({
    rawPort: async () => Number((await sequelize.query<{ port: number }>('SELECT @@port AS port', { type: QueryTypes.SELECT, transaction }))[0]!.port),
    insert: async (body) => { await Note.create({ body }, { transaction }) },
    count: (body) => Note.count({ where: { body }, transaction }),
  })
}

ormMatrix({
  name: 'Sequelize 6 (mysql)',
  dialect: mysqlDialect,
  async open(pindb) {
    const sequelize = new Sequelize({ dialect: 'mysql', dialectModule: createMysqlModule(pindb, { mysql }), logging: false })
    const ops = harness(sequelize)
    return { ...ops(), transaction: (work) => sequelize.transaction((t) => work(ops(t))), close: () => sequelize.close() }
  },
})
