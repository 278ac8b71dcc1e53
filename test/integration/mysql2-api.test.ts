/**
 * `pindb/mysql2` speaks both of mysql2's APIs on the real MariaDB test bed: the callback forms
 * (which Kysely, Knex, TypeORM and Sequelize use, and which the promise-only pool ignored so that
 * they hung forever), `.pool`, `.promise()`, `await using`, and Kysely / Knex / Drizzle taking the
 * pool in one line. Routing is asserted by `@@port` (the server that answered).
 */
import { drizzle } from 'drizzle-orm/mysql2'
import { sql as dsql } from 'drizzle-orm'
import knex from 'knex'
import { Kysely, MysqlDialect, sql as ksql } from 'kysely'
import mysql from 'mysql2/promise'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, isPinDbError, type PinDb, type PinDbOptions, type RouteEvent } from '../../src/index.js'
import { createMysqlPool, type PinDbMysqlCallbackConnection, type PinDbMysqlPool } from '../../src/mysql2/index.js'
import { setMariaDbDelay, testbed, waitForMariaDbReplica } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.mariadb.primary.port
const REPLICA = tb.mariadb.replica.port
const base = { host: '127.0.0.1', user: 'root', password: '', database: 'pindb', connectionLimit: 4 }
type Row = Record<string, unknown>

const cleanups: (() => Promise<unknown>)[] = []
function setup(options: Partial<PinDbOptions> = {}): { pindb: PinDb; pool: PinDbMysqlPool; events: RouteEvent[] } {
  const events: RouteEvent[] = []
  const pindb = createPinDb({
    primaries: { default: { ...base, port: PRIMARY } },
    replicas: { default: [{ port: REPLICA }] },
    onRoute: (e) => events.push(e),
    ...options,
  })
  const pool = createMysqlPool(pindb, { mysql })
  cleanups.push(() => pool.end())
  return { pindb, pool, events }
}

/** Fails instead of hanging: every call form must settle. */
function settles<T>(what: string, run: (done: (err: unknown, value?: T) => void) => void, ms = 5_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not call back within ${ms} ms (hang)`)), ms)
    run((err, value) => {
      clearTimeout(timer)
      if (err) reject(err as Error)
      else resolve(value as T)
    })
  })
}

const admin = mysql.createPool({ ...base, port: PRIMARY })
beforeAll(async () => {
  await setMariaDbDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS my_api_notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)')
  await waitForMariaDbReplica()
})
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()))
})
afterAll(async () => {
  await admin.end()
})

describe('callback forms (regression: Kysely, Knex, TypeORM and Sequelize hung on the promise-only pool)', () => {
  it('pool.query / pool.execute with callbacks route and call back', async () => {
    const { pindb, pool } = setup()
    const rows = await pindb.run(() => settles<Row[]>('pool.query(sql, cb)', (done) => pool.query('SELECT @@port AS port', (err: unknown, r: unknown) => done(err, r as Row[]))))
    expect(rows).toEqual([{ port: REPLICA }])
    const viaExecute = await settles<Row[]>('pool.execute(sql, values, cb)', (done) => pool.execute('SELECT ? + 1 AS n, @@port AS port', [41], (err: unknown, r: unknown) => done(err, r as Row[])))
    expect(viaExecute).toEqual([{ n: 42, port: REPLICA }])
    const err = await settles<unknown>('a failing pool.query(sql, cb)', (done) => pool.pool.query('SELEKT 1', (e) => done(undefined, e)))
    expect((err as { code?: string }).code).toBe('ER_PARSE_ERROR')
  })

  it('getConnection(cb) gives a callback connection: query(sql, params, cb), transactions with callbacks, release', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const conn = await settles<PinDbMysqlCallbackConnection>('pool.getConnection(cb)', (done) => pool.getConnection((e, c) => done(e, c)))
      const q = (sql: string, values?: unknown[]): Promise<Row[]> => settles(sql, (done) => conn.query(sql, values ?? [], (e, r) => done(e, r as Row[])))
      expect(await q('SELECT @@port AS port')).toEqual([{ port: REPLICA }])
      await settles('beginTransaction(cb)', (done) => conn.beginTransaction((e) => done(e)))
      await q('INSERT INTO my_api_notes (body) VALUES (?)', ['cb-tx'])
      expect(await q('SELECT @@port AS port')).toEqual([{ port: PRIMARY }])
      await settles('commit(cb)', (done) => conn.commit((e) => done(e)))
      expect(pindb.isNewlyPinned('default')).toBe(true)
      expect(conn.promise().connection).toBe(conn)
      conn.release()
      await expect(conn.promise().query('SELECT 1')).rejects.toMatchObject({ code: 'PINDB_CLOSED' })
    })
  })

  it('.pool is a callback pool whose connections route the same way; releaseConnection, end(cb), Promise, promise()', async () => {
    const { pindb, pool } = setup()
    expect(pool.Promise).toBe(Promise)
    expect(pool.promise()).toBe(pool)
    expect(pool.pool.promise()).toBe(pool)
    await pindb.run(async () => {
      const conn = await settles<PinDbMysqlCallbackConnection>('pool.pool.getConnection(cb)', (done) => pool.pool.getConnection((e, c) => done(e, c)))
      expect(await settles<Row[]>('read', (done) => conn.query('SELECT @@port AS port', (e, r) => done(e, r as Row[])))).toEqual([{ port: REPLICA }])
      pool.pool.releaseConnection(conn)
      const promiseConn = await pool.getConnection()
      pool.releaseConnection(promiseConn)
    })
    await settles('pool.end(cb)', (done) => pool.end((e) => done(e)))
    await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'PINDB_CLOSED' })
    await expect(settles('getConnection(cb) after end', (done) => pool.getConnection((e) => done(e)))).rejects.toMatchObject({ code: 'PINDB_CLOSED' })
  })

  it('pool events reach listeners on the pool and on pool.pool', async () => {
    const { pool } = setup()
    const seen: string[] = []
    pool.on('acquire', () => seen.push('acquire'))
    pool.pool.on('release', () => seen.push('release'))
    await pool.query('SELECT 1')
    expect(seen).toEqual(['acquire', 'release'])
  })

  it('query(...).stream() on a callback connection streams rows; stopping early does not wedge the connection', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const conn = await settles<PinDbMysqlCallbackConnection>('getConnection(cb)', (done) => pool.getConnection((e, c) => done(e, c)))
      const rows: Row[] = []
      for await (const row of conn.query('SELECT seq AS n, @@port AS port FROM seq_1_to_50').stream()) rows.push(row as Row)
      expect(rows).toHaveLength(50)
      expect(rows[0]).toEqual({ n: 1, port: REPLICA })
      let taken = 0
      for await (const row of conn.query('SELECT seq FROM seq_1_to_100000').stream({ highWaterMark: 4 })) {
        void row
        if (++taken === 3) break
      }
      expect(await settles<Row[]>('a query after an abandoned stream', (done) => conn.query('SELECT 7 AS n', (e, r) => done(e, r as Row[])))).toEqual([{ n: 7 }])
      conn.release()
    })
  })

  it('await using releases a connection and ends a pool (regression: "Object not disposable")', async () => {
    const { pindb } = setup()
    let inner: PinDbMysqlPool | undefined
    {
      await using pool = createMysqlPool(pindb, { mysql })
      inner = pool
      {
        await using conn = await pool.getConnection()
        expect(((await conn.query('SELECT 1 AS one'))[0] as Row[])[0]).toEqual({ one: 1 })
      }
    }
    await expect(inner.query('SELECT 1')).rejects.toMatchObject({ code: 'PINDB_CLOSED' })
  })

  it('options are checked at construction with the shared validator (unknown key, wrong type)', () => {
    const { pindb } = setup()
    expect(() => createMysqlPool(pindb, { mysqll: mysql } as never)).toThrow(/`mysqll`.*mysql/s)
    expect(() => createMysqlPool(pindb, { mysql, config: 'x' } as never)).toThrow(/`config`/)
    expect(() => createMysqlPool(pindb, { mysql, writeFunctions: [''] })).toThrow(/writeFunctions/)
  })

  it('format / escape / escapeId are mysql2\'s', () => {
    const { pool } = setup()
    expect(pool.format('SELECT ? AS a, ?? AS b', ["it's", 'col'])).toBe(mysql.format('SELECT ? AS a, ?? AS b', ["it's", 'col']))
    expect(pool.pool.escape("a'b")).toBe("'a\\'b'")
    expect(pool.escapeId('t.c')).toBe('`t`.`c`')
  })

  it('unsupported forms throw a PinDbError at once instead of hanging', async () => {
    const { pool } = setup()
    const conn = await pool.getConnection()
    for (const call of [
      () => (conn as unknown as { prepare(s: string): unknown }).prepare('SELECT 1'),
      () => (conn.connection as unknown as { changeUser(o: object, cb: () => void): unknown }).changeUser({}, () => {}),
      () => (conn.connection as unknown as { pause(): unknown }).pause(),
      () => pool.pool.query({ not: 'sql' } as never, () => {}),
      () => conn.connection.query(42 as never),
    ]) {
      let thrown: unknown
      try {
        call()
      } catch (err) {
        thrown = err
      }
      expect(isPinDbError(thrown), String(thrown)).toBe(true)
      expect((thrown as { code: string }).code).toBe('PINDB_UNSUPPORTED')
    }
    await expect(pool.query({ not: 'sql' } as never)).rejects.toMatchObject({ code: 'PINDB_UNSUPPORTED' })
    conn.release()
  })

  it('a checked-out connection keeps one replica for its lifetime outside a unit of work (never alternates)', async () => {
    // Two replica aliases (the same server): round-robin would alternate between them per statement.
    const { pool, events } = setup({ replicas: { default: [{ port: REPLICA }, { port: REPLICA }] } })
    const conn = await pool.getConnection()
    for (let i = 0; i < 6; i++) await conn.query('SELECT @@port AS port')
    conn.release()
    const aliases = events.filter((e) => e.sql === 'SELECT @@port AS port').map((e) => e.alias)
    expect(aliases).toHaveLength(6)
    expect(new Set(aliases).size).toBe(1)
    // The pool's own queries still spread over both.
    for (let i = 0; i < 4; i++) await pool.query('SELECT 2')
    expect(new Set(events.filter((e) => e.sql === 'SELECT 2').map((e) => e.alias)).size).toBe(2)
  })
})

describe('session-scoped values are read where the last statement ran (regression: read from another connection)', () => {
  it('after a write on a checked-out connection: LAST_INSERT_ID(), @@identity, ROW_COUNT() run on the primary connection that wrote', async () => {
    const { pindb, pool, events } = setup()
    await pindb.run(async () => {
      const conn = await pool.getConnection()
      try {
        const [ok] = await conn.query('INSERT INTO my_api_notes (body) VALUES (?)', ['session-read'])
        const insertId = (ok as { insertId: number }).insertId
        // Someone else's insert through the same real pool: had the checked-out connection given its
        // primary connection back, this would take it (mysql2's free list is LIFO) and change its values.
        const [other] = await pool.query('INSERT INTO my_api_notes (body) VALUES (?), (?)', ['other', 'other'])
        expect((other as { insertId: number }).insertId).not.toBe(insertId)
        expect(((await conn.query('SELECT ROW_COUNT() AS n, @@port AS port'))[0] as Row[])[0]).toEqual({ n: 1, port: PRIMARY })
        expect(((await conn.query('SELECT LAST_INSERT_ID() AS id, @@port AS port'))[0] as Row[])[0]).toEqual({ id: insertId, port: PRIMARY })
        // @@identity was a plain read: it went to the replica and answered 0 there.
        expect(((await conn.query('SELECT @@identity AS id, @@port AS port'))[0] as Row[])[0]).toEqual({ id: insertId, port: PRIMARY })
        expect(conn.anchoredTo).toBeUndefined()
        expect(events.filter((e) => e.reason === 'session' && e.sql?.startsWith('SELECT')).map((e) => e.alias)).toEqual(['default', 'default', 'default'])
      } finally {
        conn.release()
      }
    })
  })

  it('after a read, CONNECTION_ID() runs on the connection of that read (the replica), and again on the same one', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const conn = await pool.getConnection()
      try {
        expect(((await conn.query('SELECT @@port AS port'))[0] as Row[])[0]).toEqual({ port: REPLICA })
        const first = ((await conn.query('SELECT CONNECTION_ID() AS id, @@port AS port'))[0] as Row[])[0]!
        expect(first['port']).toBe(REPLICA)
        const again = ((await conn.query('SELECT CONNECTION_ID() AS id, @@port AS port'))[0] as Row[])[0]!
        expect(again).toEqual(first)
      } finally {
        conn.release()
      }
    })
  })

  it("through the pool's own query they go to the primary, without pinning; strict mode does not refuse them", async () => {
    const { pindb, pool } = setup({ mode: 'strict' })
    await pindb.run(async () => {
      for (const sql of ['SELECT CONNECTION_ID() AS v, @@port AS port', 'SELECT @@identity AS v, @@port AS port', 'SELECT FOUND_ROWS() AS v, @@port AS port']) {
        const row = ((await pool.query(sql))[0] as Row[])[0]!
        expect(row['port'], sql).toBe(PRIMARY)
      }
      expect(pindb.isPinned('default')).toBe(false)
    })
  })
})

describe('query builders take the pool in one line', () => {
  it('Kysely MysqlDialect({ pool }): reads on the replica, a write then a read in one unit of work on the primary', async () => {
    const { pindb, pool } = setup()
    const db = new Kysely<Record<string, never>>({ dialect: new MysqlDialect({ pool }) })
    try {
      const port = async (): Promise<number> => Number((await ksql<{ port: number }>`SELECT @@port AS port`.execute(db)).rows[0]!.port)
      expect(await pindb.run(port)).toBe(REPLICA)
      const afterWrite = await pindb.run(async () => {
        await ksql`INSERT INTO my_api_notes (body) VALUES (${'kysely'})`.execute(db)
        return port()
      })
      expect(afterWrite).toBe(PRIMARY)
      const inTx = await pindb.run(() => db.transaction().execute(async (trx) => Number((await ksql<{ port: number }>`SELECT @@port AS port`.execute(trx)).rows[0]!.port)))
      expect(inTx).toBe(PRIMARY)
      const streamed: unknown[] = []
      for await (const row of db.selectNoFrom([ksql<number>`1`.as('x'), ksql<number>`@@port`.as('port')]).stream()) streamed.push(row)
      expect(streamed).toEqual([{ x: 1, port: REPLICA }])
    } finally {
      await db.destroy()
    }
  })

  it("Knex { client: 'mysql2', connectionPool: pool } (it unwraps pool.pool)", async () => {
    const { pindb, pool } = setup()
    const db = knex({ client: 'mysql2', connectionPool: pool })
    try {
      const port = async (): Promise<number> => Number(((await db.raw('SELECT @@port AS port')) as [Row[]])[0][0]!['port'])
      expect(await pindb.run(port)).toBe(REPLICA)
      expect(await pindb.run(async () => {
        await db('my_api_notes').insert({ body: 'knex' })
        return port()
      })).toBe(PRIMARY)
      expect(await pindb.run(() => db.transaction(async (trx) => Number(((await trx.raw('SELECT @@port AS port')) as [Row[]])[0][0]!['port'])))).toBe(PRIMARY)
    } finally {
      await db.destroy()
    }
  })

  it('Drizzle drizzle({ client: pool })', async () => {
    const { pindb, pool } = setup()
    // The types of drizzle-orm/mysql2 name mysql2's own Pool class; at run time the routed pool is all it needs.
    const db = drizzle({ client: pool as unknown as mysql.Pool })
    const port = async (): Promise<number> => Number(((await db.execute(dsql`SELECT @@port AS port`)) as unknown as [Row[]])[0][0]!['port'])
    expect(await pindb.run(port)).toBe(REPLICA)
    expect(await pindb.run(async () => {
      await db.execute(dsql`INSERT INTO my_api_notes (body) VALUES (${'drizzle'})`)
      return port()
    })).toBe(PRIMARY)
    expect(await pindb.run(() => db.transaction(async (tx) => Number(((await tx.execute(dsql`SELECT @@port AS port`)) as unknown as [Row[]])[0][0]!['port'])))).toBe(PRIMARY)
  })
})
