/**
 * Claims of `docs/deploying.md`, proven against the real PostgreSQL test bed (primary + 2
 * streaming replicas): how many connections a routed pool opens per server, and that replica
 * health (back-off) is per pindb instance — per process — and needs no sharing between app instances.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { createPgPool } from '../../src/pg/index.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const [R0, R1] = [tb.pg.replicas[0].port, tb.pg.replicas[1].port]
const base = { host: '127.0.0.1', user: 'postgres', database: 'pindb' }
const admins = [PRIMARY, R0, R1].map((port) => new pg.Pool({ ...base, port, max: 1, application_name: 'pindb-docs-admin' }))

beforeAll(async () => {
  await setPgDelay(0)
  await admins[0]!.query('CREATE TABLE IF NOT EXISTS docs_sizing (id serial PRIMARY KEY, n int NOT NULL)')
  await waitForPgReplicas()
})

afterAll(async () => {
  await Promise.all(admins.map((a) => a.end()))
})

/** Connections with `app` as application_name on each server (primary, replica 0, replica 1). */
async function connections(app: string): Promise<number[]> {
  return Promise.all(admins.map(async (a) =>
    Number((await a.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n)))
}

/** 24 concurrent units of work, each kind routed differently: autocommit reads (replicas), a write
 * then a read (primary, pinned), a transaction and session state on a checked-out client. */
async function mixedLoad(pindb: ReturnType<typeof createPinDb>, pool: pg.Pool): Promise<void> {
  await Promise.all(Array.from({ length: 24 }, (_, i) => pindb.run(async () => {
    switch (i % 4) {
      case 0:
        await pool.query('SELECT pg_sleep(0.05)')
        await pool.query('SELECT count(*) FROM docs_sizing')
        break
      case 1:
        await pool.query('INSERT INTO docs_sizing (n) VALUES ($1)', [i])
        await pool.query('SELECT pg_sleep(0.05), count(*) FROM docs_sizing')
        break
      case 2: {
        const client = await pool.connect()
        try {
          await client.query('SELECT pg_sleep(0.02)')                // a replica
          await client.query('BEGIN')
          await client.query('INSERT INTO docs_sizing (n) VALUES ($1)', [i])
          await client.query('SELECT pg_sleep(0.03)')
          await client.query('COMMIT')
        } finally {
          client.release()
        }
        break
      }
      default: {
        const client = await pool.connect()
        try {
          await client.query('SELECT pg_sleep(0.02)')
          await client.query("SET statement_timeout = '5s'")        // session state: anchors the client
          await client.query('SELECT pg_sleep(0.03)')
        } finally {
          client.release()
        }
      }
    }
  })))
}

/** Runs the mixed load through a routed pool of `max`, sampling the connections it holds on each server; returns the peaks. */
async function peakConnections(max: number, monitor: boolean): Promise<number[]> {
  const app = `pindb-docs-sizing-${process.pid}-${String(monitor)}`
  const pindb = createPinDb({
    primaries: { default: { ...base, port: PRIMARY } },
    replicas: { default: [{ port: R0 }, { port: R1 }] },
    ...(monitor ? { causal: true } : {}),
  })
  const pool = createPgPool(pindb, { pg, max, application_name: app, ...(monitor ? { monitor: { intervalMs: 20 } } : {}) })
  const peak = [0, 0, 0]
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const now = await connections(app)
      now.forEach((n, i) => { peak[i] = Math.max(peak[i]!, n) })
      await sleep(5)
    }
  })()
  try {
    await mixedLoad(pindb, pool)
    await sleep(100)                                                   // a few more monitor rounds
  } finally {
    sampling = false
    await sampler
    await pool.end()
  }
  // end() closed every connection (a backend leaves pg_stat_activity shortly after its client disconnects).
  let left = await connections(app)
  for (let i = 0; i < 40 && left.some((n) => n > 0); i++) left = (await sleep(50), await connections(app))
  expect(left).toEqual([0, 0, 0])
  return peak
}

describe('docs/deploying.md: sizing pools', () => {
  it('without a monitor, a routed pool of `max: N` holds at most N connections per server; N home connections on the primary even for reads', async () => {
    const [primary, r0, r1] = await peakConnections(3, false)
    // Each of the N logical clients holds its home connection to the primary (saturated: exactly N),
    // and borrows replica connections per statement from per-server pools of N.
    expect(primary).toBe(3)
    expect(r0).toBeLessThanOrEqual(3)
    expect(r1).toBeLessThanOrEqual(3)
    expect(r0! + r1!).toBeGreaterThan(0)                               // replicas served reads
  }, 30_000)

  it('with a monitor (and causal mode), replicas stay within N; the primary also opens its per-server pool: at most 2 × N', async () => {
    const [primary, r0, r1] = await peakConnections(3, true)
    expect(primary).toBeGreaterThanOrEqual(3)
    expect(primary).toBeLessThanOrEqual(6)
    expect(r0).toBeLessThanOrEqual(3)
    expect(r1).toBeLessThanOrEqual(3)
  }, 30_000)
})

describe('docs/deploying.md: several app instances', () => {
  it('replica back-off is per instance: each app instance finds a dead replica on its own, and its reads still succeed', async () => {
    // Two "app instances" with the same config; replica 0 points at a closed port (a dead replica).
    const options = {
      primaries: { default: { ...base, port: PRIMARY } },
      replicas: { default: [{ port: 1 }, { port: R1 }] },
      replicaChoice: (({ candidates }: { candidates: readonly string[] }) => (candidates.includes('default-0') ? 'default-0' : candidates[0]!)),
    }
    const a = createPinDb(options)
    const b = createPinDb(options)
    const poolA = createPgPool(a, { pg, max: 2 })
    const poolB = createPgPool(b, { pg, max: 2 })
    try {
      const portOf = async (pool: pg.Pool, pindb: typeof a): Promise<number> =>
        pindb.run(async () => (await pool.query('SELECT inet_server_port() AS port')).rows[0].port as number)
      expect(await portOf(poolA, a)).toBe(R1)                           // A: failed over, no error
      expect(a.stats()['default-0']!.downUntil).toBeGreaterThan(Date.now())
      expect(a.stats()['default-0']!.counters.failovers).toBe(1)
      expect(b.stats()['default-0']!.downUntil).toBe(0)                 // B knows nothing of A's failure
      expect(await portOf(poolB, b)).toBe(R1)                           // B: finds it out itself, no error
      expect(b.stats()['default-0']!.counters.failovers).toBe(1)
    } finally {
      await Promise.all([poolA.end(), poolB.end()])
    }
  }, 30_000)
})
