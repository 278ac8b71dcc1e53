/**
 * `createMysqlModule`: the routed stand-in for the `mysql2` module, with TypeORM
 * (`{ type: 'mysql', driver }`) and Sequelize (`{ dialect: 'mysql', dialectModule }`) on their
 * default options against the real MariaDB test bed. Routing is asserted by `@@port`.
 */
import mysql from 'mysql2/promise'
import { QueryTypes, Sequelize } from 'sequelize'
import { DataSource, EntitySchema } from 'typeorm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, isPinDbError, type PinDb, type RouteEvent } from '../../src/index.js'
import { createMysqlModule } from '../../src/mysql2/index.js'
import { setMariaDbDelay, testbed, waitForMariaDbReplica } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.mariadb.primary.port
const REPLICA = tb.mariadb.replica.port
const base = { host: '127.0.0.1', user: 'root', password: '', database: 'pindb', connectionLimit: 4 }
type Row = Record<string, unknown>

const closers: (() => Promise<unknown>)[] = []
function makePinDb(): { pindb: PinDb; events: RouteEvent[] } {
  const events: RouteEvent[] = []
  const pindb = createPinDb({ primaries: { default: { ...base, port: PRIMARY } }, replicas: { default: [{ port: REPLICA }] }, onRoute: (e) => events.push(e) })
  closers.push(() => pindb.close())
  return { pindb, events }
}

const admin = mysql.createPool({ ...base, port: PRIMARY })
beforeAll(async () => {
  await setMariaDbDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS my_module_notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)')
  await waitForMariaDbReplica()
})
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})
afterAll(async () => {
  await admin.end()
})

describe('the module', () => {
  it('exposes what ORMs load from mysql2; createPoolCluster throws a PinDbError at once', () => {
    const { pindb } = makePinDb()
    const module = createMysqlModule(pindb, { mysql })
    expect(module.format('SELECT ?', [1])).toBe('SELECT 1')
    expect(module.escapeId('a')).toBe('`a`')
    expect(module.escape('x')).toBe("'x'")
    expect((module.raw('NOW()') as { toSqlString(): string }).toSqlString()).toBe('NOW()')
    expect(module.Types).toBe(mysql.Types)
    let thrown: unknown
    try {
      module.createPoolCluster()
    } catch (err) {
      thrown = err
    }
    expect(isPinDbError(thrown) && thrown.code).toBe('PINDB_UNSUPPORTED')
  })

  it("createConnection: emits 'connect', records connection setup instead of anchoring, routes each statement", async () => {
    const { pindb } = makePinDb()
    const conn = createMysqlModule(pindb, { mysql }).createConnection({ host: 'ignored.invalid', port: 1, dateStrings: true })
    await new Promise<void>((resolve, reject) => conn.once('connect', resolve).once('error', reject))
    const q = (sql: string): Promise<Row[]> => new Promise((resolve, reject) => conn.query(sql, (e, r) => (e ? reject(e) : resolve(r as Row[]))))
    await q("SET time_zone = '+03:00'")
    await q('SET NAMES utf8mb4')
    // Replayed on the replica: read there, with the session's settings (and the caller's dateStrings).
    expect(await pindb.run(() => q("SELECT @@port AS port, @@session.time_zone AS tz, DATE('2020-01-02') AS d"))).toEqual([{ port: REPLICA, tz: '+03:00', d: '2020-01-02' }])
    expect(conn.anchoredTo).toBeUndefined()
    expect(await pindb.run(async () => {
      await q("INSERT INTO my_module_notes (body) VALUES ('logical')")
      return q('SELECT @@port AS port, @@session.time_zone AS tz')
    })).toEqual([{ port: PRIMARY, tz: '+03:00' }])
    // Not stuck on the primary: the next unit of work reads the replica again.
    expect(await pindb.run(() => q('SELECT @@port AS port'))).toEqual([{ port: REPLICA }])
    await new Promise<void>((resolve) => conn.end(() => resolve()))
    expect(conn.stream.destroyed).toBe(true)
  })
})

describe('TypeORM { type: "mysql", driver: createMysqlModule(pindb, { mysql }) }, default options', () => {
  const Note = new EntitySchema<{ id: number; body: string }>({
    name: 'MyModuleNote',
    tableName: 'my_module_notes',
    columns: { id: { type: Number, primary: true, generated: true }, body: { type: String } },
  })

  async function open(pindb: PinDb): Promise<DataSource> {
    const ds = new DataSource({ type: 'mysql', driver: createMysqlModule(pindb, { mysql }), host: '127.0.0.1', port: PRIMARY, username: 'root', password: '', database: 'pindb', entities: [Note] })
    await ds.initialize()
    closers.push(() => ds.destroy())
    return ds
  }
  const port = async (run: { query(sql: string): Promise<unknown> }): Promise<number> => Number(((await run.query('SELECT @@port AS port')) as Row[])[0]!['port'])

  it('reads land on the replica; a write then a read in one unit of work reads the primary', async () => {
    const { pindb } = makePinDb()
    const ds = await open(pindb)
    expect(await pindb.run(() => port(ds))).toBe(REPLICA)
    const repo = ds.getRepository(Note)
    const body = `typeorm-${Date.now()}`
    const found = await pindb.run(async () => {
      await repo.save({ body })
      return { note: await repo.findOneBy({ body }), port: await port(ds) }
    })
    expect(found.note?.body).toBe(body)
    expect(found.port).toBe(PRIMARY)
  })

  it("the ORM's transaction runs wholly on the primary", async () => {
    const { pindb, events } = makePinDb()
    const ds = await open(pindb)
    events.length = 0
    const ports = await pindb.run(() => ds.transaction(async (em) => {
      const seen = [await port(em)]
      await em.getRepository(Note).insert({ body: 'typeorm-tx' })
      seen.push(await port(em))
      return seen
    }))
    expect(ports).toEqual([PRIMARY, PRIMARY])
    const tx = events.filter((e) => e.sql !== undefined)
    expect(tx.length).toBeGreaterThanOrEqual(4)
    expect(tx.every((e) => e.alias === 'default')).toBe(true)
  })
})

describe('Sequelize { dialect: "mysql", dialectModule: createMysqlModule(pindb, { mysql }) }, default options', () => {
  function open(pindb: PinDb): Sequelize {
    const sequelize = new Sequelize({ dialect: 'mysql', dialectModule: createMysqlModule(pindb, { mysql }), host: '127.0.0.1', port: PRIMARY, username: 'root', password: '', database: 'pindb', logging: false })
    closers.push(() => sequelize.close())
    return sequelize
  }
  const read = async (s: Sequelize, transaction?: unknown): Promise<Row> =>
    (await s.query<Row>('SELECT @@port AS port, @@session.time_zone AS tz', { type: QueryTypes.SELECT, ...(transaction === undefined ? {} : { transaction: transaction as never }) }))[0]!

  it("reads land on the replica, with Sequelize's connection setup (SET time_zone) re-applied there", async () => {
    const { pindb } = makePinDb()
    const s = open(pindb)
    expect(await pindb.run(() => read(s))).toEqual({ port: REPLICA, tz: '+00:00' })
  })

  it('a write then a read in one unit of work reads the primary; the next unit of work reads the replica again', async () => {
    const { pindb } = makePinDb()
    const s = open(pindb)
    const afterWrite = await pindb.run(async () => {
      await s.query("INSERT INTO my_module_notes (body) VALUES ('sequelize')")
      return read(s)
    })
    expect(afterWrite).toEqual({ port: PRIMARY, tz: '+00:00' })
    expect(await pindb.run(() => read(s))).toEqual({ port: REPLICA, tz: '+00:00' })
  })

  it("the ORM's transaction runs wholly on the primary", async () => {
    const { pindb, events } = makePinDb()
    const s = open(pindb)
    await pindb.run(() => read(s))
    events.length = 0
    const ports = await pindb.run(() => s.transaction(async (t) => {
      const seen = [(await read(s, t))['port']]
      await s.query("INSERT INTO my_module_notes (body) VALUES ('sequelize-tx')", { transaction: t })
      seen.push((await read(s, t))['port'])
      return seen
    }))
    expect(ports).toEqual([PRIMARY, PRIMARY])
    expect(events.filter((e) => e.sql !== undefined).every((e) => e.alias === 'default')).toBe(true)
  })
})
