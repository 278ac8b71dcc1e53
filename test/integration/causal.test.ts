/**
 * Causal reads and lag-aware replica choice on the real clusters: the replica monitor reads replay
 * positions and lag; a pin that carries the primary's position after the write sends later reads
 * to a replica that has replayed it (or to the primary, or — with `waitMs` — waits on a replica).
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, type PinDb, type PinDbOptions, type ReplicaChooser, type RouteEvent } from '../../src/index.js'
import { createMysqlPool, type PinDbMysqlPool } from '../../src/mysql2/index.js'
import { createPgPool } from '../../src/pg/index.js'
import { coreOf } from '../../src/pg/routed-pool.js'
import { setMariaDbDelay, setPgDelay, testbed, waitForMariaDbReplica, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PG = { primary: tb.pg.primary.port, r0: tb.pg.replicas[0].port, r1: tb.pg.replicas[1].port }
const pgBase = { host: '127.0.0.1', user: 'postgres', database: 'pindb', max: 4 }
const preferDelayed: ReplicaChooser = ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()))
})

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

describe('PostgreSQL', () => {
  const admin = new pg.Pool({ ...pgBase, port: PG.primary })
  beforeAll(async () => {
    await setPgDelay(0)
    await admin.query('CREATE TABLE IF NOT EXISTS causal_notes (id serial PRIMARY KEY, body text)')
    await waitForPgReplicas()
    await setPgDelay(1500)
  })
  afterAll(async () => {
    await setPgDelay(0)
    await admin.end()
  })

  function setup(options: Partial<PinDbOptions> = {}, replicas = [{ port: PG.r0 }, { port: PG.r1 }]): { pindb: PinDb; pool: pg.Pool; events: RouteEvent[] } {
    const events: RouteEvent[] = []
    const pindb = createPinDb({
      primaries: { default: { ...pgBase, port: PG.primary } },
      replicas: { default: replicas },
      causal: true,
      replicaChoice: preferDelayed,
      onRoute: (e) => events.push(e),
      ...options,
    })
    const pool = createPgPool(pindb, { pg, monitor: { intervalMs: 100 } })
    closers.push(() => pool.end())
    return { pindb, pool, events }
  }

  const count = async (pool: pg.Pool, body: string) =>
    (await pool.query('SELECT count(*)::int AS n, inet_server_port() AS port FROM causal_notes WHERE body = $1', [body]))!.rows[0] as { n: number; port: number }

  it('the monitor records replay positions, and lag for the delayed replica only', async () => {
    const { pindb } = setup()
    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        await admin.query('INSERT INTO causal_notes (body) VALUES ($1)', ['lag'])
        await sleep(50)
      }
    })()
    await until('lag on the delayed replica', () => (pindb.servers.get('default-1').lagMs ?? 0) > 500)
    await writer
    const s0 = pindb.servers.get('default-0')
    expect(s0.position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/)
    expect(s0.lagMs).toBeLessThan(500)
    expect(pindb.servers.get('default-1').lagBytes).toBeGreaterThan(0)
  })

  it('a carried position sends reads to a replica that has replayed it — never to the one that has not', async () => {
    const { pindb, pool, events } = setup()
    const body = `causal-${Date.now()}`
    const pins = await pindb.run(async () => {
      await pool.query('INSERT INTO causal_notes (body) VALUES ($1)', [body])
      await pindb.settlePositions()
      return pindb.capturePins()
    })
    expect(pins[0]?.position).toMatch(/\//)
    // Before the monitor has seen any replica replay it: the primary (fresh either way).
    expect((await pindb.run(() => count(pool, body), { pins })).n).toBe(1)
    await until('replica 0 to replay the position', () => caughtUp(pindb, 'default-0', pins[0]!.position!))
    const read = await pindb.run(() => count(pool, body), { pins })
    expect(read).toEqual({ n: 1, port: PG.r0 })
    expect(events.at(-1)?.reason).toBe('causal')
    // The replica it avoided (the preferred one) really lacked the row at that moment.
    const delayed = new pg.Client({ ...pgBase, port: PG.r1 })
    await delayed.connect()
    try {
      expect((await delayed.query('SELECT count(*)::int AS n FROM causal_notes WHERE body = $1', [body])).rows[0]).toEqual({ n: 0 })
    } finally {
      await delayed.end()
    }
  })

  it('with waitMs, a read waits on a replica for the position instead of using the primary', async () => {
    const { pindb, pool } = setup({ causal: { waitMs: 5000 } }, [{ port: PG.r1 }]) // only the delayed replica
    const body = `wait-${Date.now()}`
    const pins = await pindb.run(async () => {
      await pool.query('INSERT INTO causal_notes (body) VALUES ($1)', [body])
      await pindb.settlePositions()
      return pindb.capturePins()
    })
    expect(await pindb.run(() => count(pool, body), { pins })).toEqual({ n: 1, port: PG.r1 })
  })

  it('regression: causal waits amplified load — 20 waiting reads share one watcher, each bounded by waitMs', async () => {
    await setPgDelay(3000)
    try {
      const { pindb, pool } = setup({ causal: { waitMs: 300 } }, [{ port: PG.r1 }]) // only the delayed replica
      const body = `amp-${Date.now()}`
      const pins = await pindb.run(async () => {
        await pool.query('INSERT INTO causal_notes (body) VALUES ($1)', [body])
        await pindb.settlePositions()
        return pindb.capturePins()
      })
      const watchers = coreOf(pool)!.watchers!
      const before = watchers.polls
      const t0 = performance.now()
      const waits = await Promise.all(Array.from({ length: 20 }, async () => {
        const start = performance.now()
        const row = await pindb.run(() => count(pool, body), { pins })
        return { row, ms: performance.now() - start }
      }))
      const elapsed = performance.now() - t0
      // The replica is 3 s behind: every read gave up waiting after waitMs and read the primary (fresh).
      for (const w of waits) expect(w.row).toEqual({ n: 1, port: PG.primary })
      expect(Math.max(...waits.map((w) => w.ms))).toBeLessThan(300 + 1000)
      // One watcher polled for all of them (every ~20 ms), instead of each read polling every 2 ms.
      expect(watchers.polls - before).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 2)
    } finally {
      await setPgDelay(1500)
    }
  })

  it('maxLag excludes the delayed replica while it lags', async () => {
    const { pindb, pool } = setup({ maxLag: { ms: 500 } })
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        await admin.query('INSERT INTO causal_notes (body) VALUES ($1)', ['lag2'])
        await sleep(50)
      }
    })()
    await until('lag on the delayed replica', () => (pindb.servers.get('default-1').lagMs ?? 0) > 500)
    const port = await pindb.run(async () => (await pool.query('SELECT inet_server_port() AS port'))!.rows[0] as { port: number })
    await writer
    expect(port).toEqual({ port: PG.r0 })
  })
})

function caughtUp(pindb: PinDb, alias: string, position: string): boolean {
  const state = pindb.servers.get(alias)
  return state.position !== undefined && comparePg(state.position, position) >= 0
}

function comparePg(a: string, b: string): number {
  const n = (x: string) => {
    const [hi, lo] = x.split('/')
    return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)
  }
  const d = n(a) - n(b)
  return d === 0n ? 0 : d > 0n ? 1 : -1
}

describe('MariaDB', () => {
  const base = { host: '127.0.0.1', user: 'root', password: '', database: 'pindb', connectionLimit: 4 }
  const admin = mysql.createPool({ ...base, port: tb.mariadb.primary.port })
  beforeAll(async () => {
    await setMariaDbDelay(0)
    await admin.query('CREATE TABLE IF NOT EXISTS causal_notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(100))')
    await waitForMariaDbReplica()
    await setMariaDbDelay(2)
  })
  afterAll(async () => {
    await setMariaDbDelay(0)
    await admin.end()
  })

  function setup(options: Partial<PinDbOptions> = {}): { pindb: PinDb; pool: PinDbMysqlPool } {
    const pindb = createPinDb({
      primaries: { default: { ...base, port: tb.mariadb.primary.port } },
      replicas: { default: [{ port: tb.mariadb.replica.port }] },
      causal: true,
      ...options,
    })
    const pool = createMysqlPool(pindb, { mysql, monitor: { intervalMs: 100 } })
    closers.push(() => pool.end())
    return { pindb, pool }
  }
  const count = async (pool: PinDbMysqlPool, body: string) =>
    ((await pool.query('SELECT COUNT(*) AS n, @@port AS port FROM causal_notes WHERE body = ?', [body]))[0] as { n: number; port: number }[])[0]

  it('a GTID position carried in the pin: primary while the replica is behind, the replica once it has applied it', async () => {
    const { pindb, pool } = setup()
    const body = `g-${Date.now()}`
    const pins = await pindb.run(async () => {
      await pool.query('INSERT INTO causal_notes (body) VALUES (?)', [body])
      await pindb.settlePositions()
      return pindb.capturePins()
    })
    expect(pins[0]?.position).toMatch(/^\d+-\d+-\d+/)
    expect(await pindb.run(() => count(pool, body), { pins })).toEqual({ n: 1, port: tb.mariadb.primary.port })
    await waitForMariaDbReplica(10_000)
    await until('the monitor to see the replica catch up', () => pindb.servers.get('default-0').position !== undefined && pindb.servers.get('default-0').lagMs === 0)
    expect(await pindb.run(() => count(pool, body), { pins })).toEqual({ n: 1, port: tb.mariadb.replica.port })
  })

  it('with waitMs, MASTER_GTID_WAIT lets the replica serve the read once it has applied the write', async () => {
    const { pindb, pool } = setup({ causal: { waitMs: 5000 } })
    const body = `gw-${Date.now()}`
    const pins = await pindb.run(async () => {
      await pool.query('INSERT INTO causal_notes (body) VALUES (?)', [body])
      await pindb.settlePositions()
      return pindb.capturePins()
    })
    expect(await pindb.run(() => count(pool, body), { pins })).toEqual({ n: 1, port: tb.mariadb.replica.port })
  })
})
