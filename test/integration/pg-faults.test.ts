/**
 * `pindb/pg` under faults, on the real PostgreSQL test bed: servers stopped, hung (SIGSTOP) and
 * back; DBA cancels; replicas refusing writes; pool exhaustion. Each test is named after the
 * defect it guards.
 */
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, ServerUnavailableError, UnpinnedWriteError, type PinDb, type PinDbOptions } from '../../src/index.js'
import { createPgPool } from '../../src/pg/index.js'
import { pauseNode, resumeNode, setPgDelay, startNode, stopNode, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const [R0, R1] = [tb.pg.replicas[0].port, tb.pg.replicas[1].port]
const base = { host: '127.0.0.1', user: 'postgres', database: 'pindb' }
const preferR0 = ({ candidates }: { candidates: readonly string[] }): string => (candidates.includes('default-0') ? 'default-0' : candidates[0]!)
const LIVENESS = { connectTimeoutMs: 500, probeAfterMs: 300, probeTimeoutMs: 300, recoverEveryMs: 200 }

const open: pg.Pool[] = []
function setup(options: Partial<PinDbOptions> = {}, poolOptions: Record<string, unknown> = {}): { pindb: PinDb; pool: pg.Pool } {
  const pindb = createPinDb({
    primaries: { default: { ...base, port: PRIMARY } },
    replicas: { default: [{ port: R0 }, { port: R1 }] },
    replicaChoice: preferR0,
    unscopedWrites: 'ignore',
    ...options,
  })
  const pool = createPgPool(pindb, { pg, liveness: LIVENESS, ...poolOptions })
  open.push(pool)
  return { pindb, pool }
}
const admin = new pg.Pool({ ...base, port: PRIMARY })
const portOf = async (q: { query: (s: string) => Promise<unknown> }): Promise<number> =>
  ((await q.query('SELECT inet_server_port() AS port')) as { rows: { port: number }[] }).rows[0]!.port
const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> => {
  const t0 = performance.now()
  try {
    return { ms: performance.now() - t0, value: await fn() }
  } catch (error) {
    return { ms: performance.now() - t0, error }
  }
}

beforeAll(async () => {
  await setPgDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS fault_notes (id serial PRIMARY KEY, body text NOT NULL)')
  await admin.query(`CREATE OR REPLACE FUNCTION make_fault_note(b text) RETURNS int LANGUAGE sql AS
    $$ INSERT INTO fault_notes (body) VALUES (b) RETURNING id $$`)
  await waitForPgReplicas()
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.end().catch(() => {})))
})
afterAll(async () => {
  await admin.end()
})

describe('regression: a write acknowledged and lost through done(err)', () => {
  it('connect(cb)\'s done(err) destroys the client, so the next caller\'s autocommit write is not swallowed by an open transaction', async () => {
    const { pool } = setup({}, { max: 1 })
    const body = `lost-${Date.now()}`
    await new Promise<void>((resolve, reject) => {
      pool.connect((err, client, done) => {
        if (err !== undefined || client === undefined) return reject(err ?? new Error('no client'))
        client.query('BEGIN', (e1) => {
          if (e1) return reject(e1)
          client.query('INSERT INTO fault_notes (body) VALUES ($1)', [`${body}-aborted`], (e2) => {
            if (e2) return reject(e2)
            done(new Error('the caller gave up on this transaction'))
            resolve()
          })
        })
      })
    })
    await pool.query('INSERT INTO fault_notes (body) VALUES ($1)', [body]) // max: 1 — the only client
    const seen = await admin.query('SELECT body FROM fault_notes WHERE body LIKE $1 ORDER BY id', [`${body}%`])
    expect(seen.rows.map((r) => r.body)).toEqual([body])
  })
})

describe('regression: pool.query ran in another unit of work\'s context', () => {
  it('40 units of work on max 2: each write pins its own unit of work, and unpinned reads stay on replicas', async () => {
    const { pindb, pool } = setup({ unscopedWrites: 'throw' }, { max: 2 })
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pindb.run(async () => {
      if (i % 4 === 0) {
        await pool.query('INSERT INTO fault_notes (body) VALUES ($1)', [`ctx-${i}`])
        return { wrote: true, pinned: pindb.isPinned('default'), port: await portOf(pool) }
      }
      return { wrote: false, pinned: pindb.isPinned('default'), port: await portOf(pool) }
    })))
    for (const r of results) {
      expect(r.pinned).toBe(r.wrote)
      expect(r.port).toBe(r.wrote ? PRIMARY : R0)
    }
  })
})

describe('regression: an idle client\'s error must not crash the process', () => {
  it('a terminated idle home connection removes its client from the pool; with no error listener nothing is thrown', async () => {
    const { pindb, pool } = setup({}, { max: 2 })
    const client = await pool.connect()
    const pid = (client as unknown as { processID: number }).processID
    client.release()
    expect(pool.idleCount).toBe(1)
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    for (let i = 0; i < 50 && pool.totalCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(pool.totalCount).toBe(0) // removed, as pg-pool removes a client whose connection died
    expect((await pindb.run(() => pool.query('SELECT 1 AS one'))).rows).toEqual([{ one: 1 }]) // and the pool goes on
  })
})

describe('regression: a function that writes, called by SELECT, failed on the replica', () => {
  it('greedy: the refused read moves to the primary, succeeds, pins the set, and is planned as a write next time', async () => {
    const { pindb, pool } = setup()
    const body = `fn-${Date.now()}`
    await pindb.run(async () => {
      const r = await pool.query('SELECT make_fault_note($1) AS id', [body])
      expect(typeof r.rows[0].id).toBe('number')
      expect(pindb.isPinned('default')).toBe(true)
    })
    const again = await pindb.run(async () => {
      await pool.query('SELECT make_fault_note($1) AS id', [`${body}-2`])
      return pindb.stats()['default-0']!.counters.reads
    })
    expect((await admin.query('SELECT count(*)::int AS n FROM fault_notes WHERE body LIKE $1', [`${body}%`])).rows[0].n).toBe(2)
    expect(again).toBe(1) // only the first call was tried on the replica
  })

  it('strict: UnpinnedWriteError naming the statement and the writeFunctions option', async () => {
    const { pindb, pool } = setup({ mode: 'strict' })
    const err = await pindb.run(() => pool.query('SELECT make_fault_note($1)', ['strict']).catch((e: unknown) => e))
    expect(err).toBeInstanceOf(UnpinnedWriteError)
    expect(String((err as Error).message)).toContain('writeFunctions')
    expect((err as UnpinnedWriteError).statement).toContain('make_fault_note')
  })
})

describe('regression: a query cancelled by a DBA was treated as a dead server', () => {
  it('pg_cancel_backend on the replica reaches the caller (57014) and is not retried elsewhere', async () => {
    const { pindb, pool } = setup()
    const running = pindb.run(() => pool.query("SELECT pg_sleep(5), 'pindb-cancel-me' AS tag").catch((e: unknown) => e))
    const replica = new pg.Client({ ...base, port: R0 })
    await replica.connect()
    try {
      for (let i = 0; i < 50; i++) {
        const r = await replica.query("SELECT pg_cancel_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE '%pindb-cancel-me%' AND pid <> pg_backend_pid()")
        if (r.rows.some((row) => row.ok === true)) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      await replica.end()
    }
    const err = await running
    expect((err as { code?: string }).code).toBe('57014')
    expect(pindb.stats()['default-0']!.counters.failovers).toBe(0)
    expect(pindb.stats()['default']!.counters.reads).toBe(0)
  })
})

describe('regression: a hung server hung every caller', () => {
  it('16 callers reading from a SIGSTOPped replica move to another server within the liveness bound; none fails', async () => {
    const { pindb, pool } = setup()
    await pindb.run(() => portOf(pool)) // warm up
    await pauseNode('pg-replica-0')
    try {
      const results = await Promise.all(Array.from({ length: 16 }, () => timed(() => pindb.run(() => portOf(pool)))))
      expect(results.filter((r) => r.error !== undefined)).toEqual([])
      expect(new Set(results.map((r) => r.value))).not.toContain(R0)
      // probeAfterMs + probeTimeoutMs + a timer tick and a reconnect — not "as long as the server hangs".
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(3_000)
    } finally {
      await resumeNode('pg-replica-0')
    }
  }, 30_000)

  it('a slow query on a live replica is never cut short by the liveness probe', async () => {
    const { pindb, pool } = setup()
    const r = await pindb.run(() => pool.query('SELECT pg_sleep(1.2), inet_server_port() AS port'))
    expect(r.rows[0].port).toBe(R0)
    expect(pindb.stats()['default-0']!.failures).toBe(0)
  })

  it('a write on a SIGSTOPped primary gets a typed ServerUnavailableError that says it may have run', async () => {
    const { pindb, pool } = setup()
    await pindb.run(() => pool.query('SELECT 1'))
    const client = await pool.connect() // home connection on the primary, before it hangs
    await pauseNode('pg-primary')
    try {
      const r = await timed(() => pindb.run(() => client.query('INSERT INTO fault_notes (body) VALUES ($1)', ['hung'])))
      expect(r.error).toBeInstanceOf(ServerUnavailableError)
      expect((r.error as ServerUnavailableError).mayHaveRun).toBe(true)
      expect(r.ms).toBeLessThan(3_000)
    } finally {
      await resumeNode('pg-primary')
      client.release(true)
    }
  }, 30_000)
})

describe('regression: a deadlock across the per-server pools', () => {
  it('max 2: checked-out clients doing read-then-write and write-then-withUnpinnedReplica read all finish', async () => {
    const { pindb, pool } = setup({}, { max: 2 })
    const work = async (i: number): Promise<void> => pindb.run(async () => {
      const client = await pool.connect()
      try {
        if (i % 2 === 0) {
          await client.query('SELECT 1')
          await client.query('INSERT INTO fault_notes (body) VALUES ($1)', [`dl-${i}`])
        } else {
          await client.query('INSERT INTO fault_notes (body) VALUES ($1)', [`dl-${i}`])
          await pindb.withUnpinnedReplica('default', () => client.query('SELECT 1'))
        }
      } finally {
        client.release()
      }
    })
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => work(i)))
    const winner = await Promise.race([all.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('hung'), 10_000))])
    expect(winner).toBe('done')
  }, 20_000)

  it('outside any unit of work, a checked-out client reads from one replica and 40 checkouts × 3 reads on max 10 finish', async () => {
    const { pool } = setup({ replicaChoice: 'round-robin' }, { max: 10 })
    const ports = await Promise.all(Array.from({ length: 40 }, async () => {
      const client = await pool.connect()
      try {
        return await Promise.all([portOf(client), portOf(client), portOf(client)])
      } finally {
        client.release()
      }
    }))
    for (const seen of ports) expect(new Set(seen).size).toBe(1)
    expect(pool.totalCount).toBeLessThanOrEqual(10)
  }, 20_000)
})

describe('regression: a healthy replica was kept out for ~25 s after a restart', () => {
  it('a returning replica takes reads again within 2 s of accepting connections, without a monitor', async () => {
    const { pindb, pool } = setup({ backoff: { baseMs: 1_000, maxMs: 30_000 } })
    await stopNode('pg-replica-0')
    try {
      for (let i = 0; i < 20; i++) expect(await pindb.run(() => portOf(pool))).not.toBe(R0)
    } finally {
      await startNode('pg-replica-0')
    }
    const upAt = performance.now()
    let back = -1
    while (performance.now() - upAt < 5_000) {
      if (await pindb.run(() => portOf(pool)) === R0) {
        back = performance.now() - upAt
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(back).toBeGreaterThanOrEqual(0)
    expect(back).toBeLessThan(2_000)
    expect(pindb.stats()['default-0']!.failures).toBe(0)
  }, 60_000)
})
