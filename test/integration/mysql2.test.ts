/**
 * `pindb/mysql2` against the real MariaDB test bed (primary 23306, GTID replica 23307 with
 * `MASTER_DELAY` set per test). Routing is asserted by `@@port`, i.e. by the server that ran it.
 */
import mysql from 'mysql2/promise'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, UnpinnedWriteError, type PinDb, type PinDbOptions } from '../../src/index.js'
import { createMysqlPool, type PinDbMysqlPool } from '../../src/mysql2/index.js'
import { readsThroughOutage } from '../support/outage.js'
import { setMariaDbDelay, testbed, waitForMariaDbReplica } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.mariadb.primary.port
const REPLICA = tb.mariadb.replica.port
const base = { host: '127.0.0.1', user: 'root', password: '', database: 'pindb', connectionLimit: 4 }

const pools: PinDbMysqlPool[] = []
function setup(options: Partial<PinDbOptions> = {}): { pindb: PinDb; pool: PinDbMysqlPool } {
  const pindb = createPinDb({ primaries: { default: { ...base, port: PRIMARY } }, replicas: { default: [{ port: REPLICA }] }, ...options })
  const pool = createMysqlPool(pindb, { mysql })
  pools.push(pool)
  return { pindb, pool }
}

const admin = mysql.createPool({ ...base, port: PRIMARY })
type Row = Record<string, unknown>
const rows = async (p: Promise<[unknown, unknown]>): Promise<Row[]> => (await p)[0] as Row[]
const portOf = async (q: { query: (s: string) => Promise<[unknown, unknown]> }): Promise<number> => Number((await rows(q.query('SELECT @@port AS port')))[0]!['port'])

beforeAll(async () => {
  await setMariaDbDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS my_notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)')
  await waitForMariaDbReplica()
})
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()))
})
afterAll(async () => {
  await setMariaDbDelay(0)
  await admin.end()
})

describe('routing with real replication lag (MASTER_DELAY)', () => {
  beforeAll(async () => setMariaDbDelay(2))
  afterAll(async () => setMariaDbDelay(0))

  it('without pinning a read right after a write is stale; after a greedy write it is fresh', async () => {
    const { pindb, pool } = setup()
    const body = `m-${Date.now()}`
    await admin.query('INSERT INTO my_notes (body) VALUES (?)', [body])
    const stale = await pindb.run(async () => rows(pool.query('SELECT COUNT(*) AS n, @@port AS port FROM my_notes WHERE body = ?', [body])))
    expect(stale[0]).toEqual({ n: 0, port: REPLICA })
    const body2 = `m2-${Date.now()}`
    const fresh = await pindb.run(async () => {
      await pool.execute('INSERT INTO my_notes (body) VALUES (?)', [body2])
      return rows(pool.execute('SELECT COUNT(*) AS n, @@port AS port FROM my_notes WHERE body = ?', [body2]))
    })
    expect(fresh[0]).toEqual({ n: 1, port: PRIMARY })
  })

  it('pin() makes reads fresh; withUnpinnedReplica reads the replica anyway', async () => {
    const { pindb, pool } = setup()
    const body = `m3-${Date.now()}`
    await admin.query('INSERT INTO my_notes (body) VALUES (?)', [body])
    await pindb.run(async () => {
      pindb.pin('default')
      expect((await rows(pool.query('SELECT COUNT(*) AS n FROM my_notes WHERE body = ?', [body])))[0]).toEqual({ n: 1 })
      expect(await pindb.withUnpinnedReplica('default', () => portOf(pool))).toBe(REPLICA)
    })
  })
})

describe('strict mode and transactions', () => {
  it('strict throws before the write reaches any server', async () => {
    const { pindb, pool } = setup({ mode: 'strict' })
    let acquired = 0
    pool.on('acquire', () => acquired++)
    const body = `strict-${Date.now()}`
    await pindb.run(async () => {
      await expect(pool.query('INSERT INTO my_notes (body) VALUES (?)', [body])).rejects.toBeInstanceOf(UnpinnedWriteError)
      const conn = await pool.getConnection()
      await expect(conn.beginTransaction()).rejects.toBeInstanceOf(UnpinnedWriteError)
      conn.release()
    })
    expect(acquired).toBe(0)
    expect((await rows(admin.query('SELECT COUNT(*) AS n FROM my_notes WHERE body = ?', [body])))[0]).toEqual({ n: 0 })
  })

  it('a transaction with reads and writes runs entirely on the primary', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const conn = await pool.getConnection()
      try {
        expect(await portOf(conn)).toBe(REPLICA)
        await conn.beginTransaction()
        const ports = [await portOf(conn)]
        await conn.query('INSERT INTO my_notes (body) VALUES (?)', ['tx'])
        ports.push(await portOf(conn))
        await conn.commit()
        expect(ports).toEqual([PRIMARY, PRIMARY])
        expect(pindb.isNewlyPinned('default')).toBe(true)
      } finally {
        conn.release()
      }
    })
  })

  it('START TRANSACTION READ ONLY runs on the replica', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const conn = await pool.getConnection()
      try {
        await conn.query('START TRANSACTION READ ONLY')
        expect(await portOf(conn)).toBe(REPLICA)
        expect(conn.anchoredTo).toBe('default-0')
        await conn.query('COMMIT')
        expect(conn.anchoredTo).toBeUndefined()
      } finally {
        conn.release()
      }
    })
  })

  it('session state stays on one server: user variables, GET_LOCK', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const conn = await pool.getConnection()
      try {
        await conn.query('SET @pindb_x = 41')
        expect((await rows(conn.query('SELECT @pindb_x + 1 AS y, @@port AS port')))[0]).toEqual({ y: 42, port: PRIMARY })
        expect(pindb.isPinned('default')).toBe(false)
      } finally {
        conn.release()
      }
      const locker = await pool.getConnection()
      try {
        expect((await rows(locker.query("SELECT GET_LOCK('pindb_lock', 1) AS got")))[0]).toEqual({ got: 1 })
        expect((await rows(locker.query("SELECT RELEASE_LOCK('pindb_lock') AS released")))[0]).toEqual({ released: 1 })
      } finally {
        locker.release()
      }
    })
  })
})

describe('failover', () => {
  it('the only replica stopped during a stream of reads: zero failed reads (primary serves), used again after it returns', async () => {
    const { pindb, pool } = setup({ backoff: { baseMs: 200, maxMs: 500 } })
    const { served, failures, restartedAt } = await readsThroughOutage('mariadb-replica', REPLICA, () => pindb.run(() => portOf(pool)))
    expect(failures).toBe(0)
    expect(served.slice(0, 10)).toContain(REPLICA)
    expect(served).toContain(PRIMARY)
    expect(served.slice(restartedAt)).toContain(REPLICA)
  }, 60_000)
})
