/**
 * `pindb/pg` against the real PostgreSQL test bed (primary 25432, replica 0 25433, replica 1 25434 —
 * the one with `recovery_min_apply_delay`). Every assertion about routing checks which server
 * really ran the statement (`inet_server_port()`), never a mock.
 */
import { Kysely, PostgresDialect, sql as ksql, type Generated } from 'kysely'
import { drizzle } from 'drizzle-orm/node-postgres'
import { sql as dsql } from 'drizzle-orm'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, UnpinnedWriteError, type PinDb, type PinDbOptions, type ReplicaChooser } from '../../src/index.js'
import { createPgModule, createPgPool } from '../../src/pg/index.js'
import { readsThroughOutage } from '../support/outage.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const [R0, R1] = [tb.pg.replicas[0].port, tb.pg.replicas[1].port]
const DELAY_MS = 1500
const base = { host: '127.0.0.1', user: 'postgres', database: 'pindb', max: 4 }
const pickDelayed: ReplicaChooser = ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!)

const pools: pg.Pool[] = []
function setup(options: Partial<PinDbOptions> = {}): { pindb: PinDb; pool: pg.Pool } {
  const pindb = createPinDb({
    primaries: { default: { ...base, port: PRIMARY } },
    replicas: { default: [{ port: R0 }, { port: R1 }] },
    replicaChoice: pickDelayed,
    ...options,
  })
  const pool = createPgPool(pindb, { pg })
  pools.push(pool)
  return { pindb, pool }
}

const anchor = (client: unknown): string | undefined => (client as { anchoredTo?: string }).anchoredTo
const admin = new pg.Pool({ ...base, port: PRIMARY })
const port = async (q: { query: (s: string) => Promise<unknown> }): Promise<number> =>
  ((await q.query('SELECT inet_server_port() AS port')) as { rows: { port: number }[] }).rows[0]!.port

beforeAll(async () => {
  await setPgDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS pg_notes (id serial PRIMARY KEY, body text NOT NULL)')
  await waitForPgReplicas()
})

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()))
})

afterAll(async () => {
  await setPgDelay(0)
  await admin.end()
})

describe('routing with real replication lag', () => {
  beforeAll(async () => setPgDelay(DELAY_MS))
  afterAll(async () => setPgDelay(0))

  it('(a) without pinning, a read right after a write through the delayed replica is stale', async () => {
    const { pindb, pool } = setup()
    const body = `a-${Date.now()}`
    await admin.query('INSERT INTO pg_notes (body) VALUES ($1)', [body])
    await pindb.run(async () => {
      const { rows } = (await pool.query('SELECT count(*)::int AS n, inet_server_port() AS port FROM pg_notes WHERE body = $1', [body]))!
      expect(rows[0]).toEqual({ n: 0, port: R1 })
    })
  })

  it('(b) after a greedy write, the same read in the unit of work is fresh (primary)', async () => {
    const { pindb, pool } = setup()
    const body = `b-${Date.now()}`
    await pindb.run(async () => {
      const ins = (await pool.query('INSERT INTO pg_notes (body) VALUES ($1) RETURNING inet_server_port() AS port', [body]))!
      expect(ins.rows[0]).toEqual({ port: PRIMARY })
      expect(pindb.isNewlyPinned('default')).toBe(true)
      const { rows } = (await pool.query('SELECT count(*)::int AS n, inet_server_port() AS port FROM pg_notes WHERE body = $1', [body]))!
      expect(rows[0]).toEqual({ n: 1, port: PRIMARY })
    })
  })

  it('(b) after pin(), a read of a row written elsewhere is fresh', async () => {
    const { pindb, pool } = setup()
    const body = `b2-${Date.now()}`
    await admin.query('INSERT INTO pg_notes (body) VALUES ($1)', [body])
    await pindb.run(async () => {
      pindb.pin('default')
      const { rows } = (await pool.query('SELECT count(*)::int AS n FROM pg_notes WHERE body = $1', [body]))!
      expect(rows[0]).toEqual({ n: 1 })
    })
  })

  it('a pin carried from an earlier unit of work (cookie, job) keeps reads fresh', async () => {
    const { pindb, pool } = setup()
    const body = `carry-${Date.now()}`
    const pins = await pindb.run(async () => {
      await pool.query('INSERT INTO pg_notes (body) VALUES ($1)', [body])
      return pindb.capturePins()
    })
    expect(pins).toHaveLength(1)
    const fresh = await pindb.run(async () => (await pool.query('SELECT count(*)::int AS n FROM pg_notes WHERE body = $1', [body]))!.rows[0], { pins })
    const stale = await pindb.run(async () => (await pool.query('SELECT count(*)::int AS n FROM pg_notes WHERE body = $1', [body]))!.rows[0])
    expect(fresh).toEqual({ n: 1 })
    expect(stale).toEqual({ n: 0 })
  })

  it('withUnpinnedReplica reads the (stale) replica even when pinned; a pindb:replica hint does the same for one statement', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      pindb.pin('default')
      expect(await port(pool)).toBe(PRIMARY)
      expect(await pindb.withUnpinnedReplica('default', () => port(pool))).toBe(R1)
      const { rows } = (await pool.query('/* pindb:replica */ SELECT inet_server_port() AS port'))!
      expect(rows[0]).toEqual({ port: R1 })
    })
  })
})

describe('strict mode', () => {
  it('(c) throws before the write reaches any server', async () => {
    const { pindb, pool } = setup({ mode: 'strict' })
    const body = `c-${Date.now()}`
    let acquired = 0
    pool.on('acquire', () => acquired++)
    await pindb.run(async () => {
      await expect(pool.query('INSERT INTO pg_notes (body) VALUES ($1)', [body])).rejects.toBeInstanceOf(UnpinnedWriteError)
      const client = await pool.connect()
      await expect(client.query('BEGIN')).rejects.toBeInstanceOf(UnpinnedWriteError)
      client.release()
    })
    expect(acquired).toBe(1) // only the explicit pool.connect(); pool.query never checked out a client
    expect(pindb.stats()['default']!.counters.writes).toBe(0)
    expect((await admin.query('SELECT count(*)::int AS n FROM pg_notes WHERE body = $1', [body])).rows[0]).toEqual({ n: 0 })
    // And the callback form reports it through the callback.
    const err = await new Promise((resolve) => pindb.run(() => pool.query('DELETE FROM pg_notes WHERE false', (e: unknown) => resolve(e))))
    expect(err).toBeInstanceOf(UnpinnedWriteError)
  })

  it('allows the write after pin() or inside withPrimary', async () => {
    const { pindb, pool } = setup({ mode: 'strict' })
    await pindb.run(async () => {
      await pindb.withPrimary('default', () => pool.query('INSERT INTO pg_notes (body) VALUES ($1)', ['strict-wp']))
      expect(pindb.isPinned('default')).toBe(false)
      pindb.pin('default')
      expect((await pool.query('INSERT INTO pg_notes (body) VALUES ($1) RETURNING inet_server_port() AS port', ['strict-pin']))!.rows[0]).toEqual({ port: PRIMARY })
    })
  })
})

describe('checked-out clients', () => {
  it('(d) a transaction with reads and writes runs entirely on the primary and pins', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const client = await pool.connect()
      try {
        expect(await port(client)).toBe(R1) // before the transaction: the replica
        await client.query('BEGIN')
        expect(pindb.isPinned('default')).toBe(true)
        const ports = [await port(client)]
        await client.query('INSERT INTO pg_notes (body) VALUES ($1)', ['tx'])
        ports.push(await port(client))
        ports.push(((await client.query('SELECT count(*) AS n, inet_server_port() AS port FROM pg_notes')) as { rows: { port: number }[] }).rows[0]!.port)
        await client.query('COMMIT')
        expect(ports).toEqual([PRIMARY, PRIMARY, PRIMARY])
        expect(anchor(client)).toBeUndefined()
      } finally {
        client.release()
      }
    })
  })

  it('BEGIN READ ONLY runs on a replica, and writes inside it are refused by the server', async () => {
    const { pindb, pool } = setup({ mode: 'strict' })
    await pindb.run(async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN READ ONLY')
        expect(await port(client)).toBe(R1)
        expect(anchor(client)).toBe('default-1')
        await expect(client.query('SELECT count(*) FROM pg_notes FOR UPDATE')).rejects.toThrow()
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
    })
  })

  it('session state is never split: SET, temp tables, prepared statements, advisory locks, LISTEN, cursors', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const client = await pool.connect()
      try {
        // A connection-setup setting is re-applied wherever the client's next statement runs…
        await client.query("SET application_name = 'pindb-session'")
        expect(anchor(client)).toBeUndefined()
        expect(((await client.query('SELECT current_setting($1) AS v, inet_server_port() AS port', ['application_name'])) as { rows: unknown[] }).rows[0])
          .toEqual({ v: 'pindb-session', port: R1 })
        // …any other SET is session state: it anchors the client on the primary.
        await client.query('SET enable_seqscan = off')
        expect(anchor(client)).toBe('default')
        expect(((await client.query('SHOW enable_seqscan')) as { rows: unknown[] }).rows[0]).toEqual({ enable_seqscan: 'off' })
        expect(await port(client)).toBe(PRIMARY)
        expect(pindb.isPinned('default')).toBe(false) // session state is not a write
      } finally {
        client.release()
      }
      const temp = await pool.connect()
      try {
        await temp.query('CREATE TEMP TABLE scratch (x int)')
        await temp.query('INSERT INTO scratch VALUES (1), (2)')
        expect(((await temp.query('SELECT sum(x)::int AS s FROM scratch')) as { rows: unknown[] }).rows[0]).toEqual({ s: 3 })
      } finally {
        temp.release()
      }
      const locker = await pool.connect()
      try {
        await locker.query('SELECT pg_advisory_lock(4242)')
        expect(anchor(locker)).toBe('default')
        const held = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242")
        expect(held.rows[0]).toEqual({ n: 1 })
        expect(((await locker.query('SELECT pg_advisory_unlock(4242) AS ok')) as { rows: unknown[] }).rows[0]).toEqual({ ok: true })
      } finally {
        locker.release()
      }
    })
    // Prepared statements and cursors on a fresh, unpinned context.
    await pindb.run(async () => {
      const client = await pool.connect()
      try {
        await client.query('PREPARE one_row AS SELECT 1 AS x')
        expect(((await client.query('EXECUTE one_row')) as { rows: unknown[] }).rows).toEqual([{ x: 1 }])
        const named = { name: 'pindb-named', text: 'SELECT $1::int + 1 AS y, inet_server_port() AS port', values: [41] }
        expect(((await client.query(named)) as { rows: unknown[] }).rows).toEqual([{ y: 42, port: PRIMARY }]) // anchored by PREPARE
        expect(pindb.isPinned('default')).toBe(true) // EXECUTE may run a write: it counts as one
      } finally {
        client.release()
      }
    })
    // A fresh pool: the client above keeps its prepared statement (and so its anchor) across
    // checkouts, as a pg.Pool's client keeps its session.
    const { pool: fresh } = setup()
    await pindb.run(async () => {
      const reader = await fresh.connect()
      try {
        const cursor = reader.query(new Cursor<{ g: number; port: number }>('SELECT g, inet_server_port() AS port FROM generate_series(1, 5) g'))
        const rows = await cursor.read(10)
        await cursor.close()
        expect(rows.map((r) => r.g)).toEqual([1, 2, 3, 4, 5])
        expect(new Set(rows.map((r) => r.port))).toEqual(new Set([R1]))
      } finally {
        reader.release()
      }
    })
  })

  it('LISTEN / NOTIFY stay on the primary connection that listens', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const client = await pool.connect()
      try {
        const got = new Promise<string>((resolve) => client.on('notification', (msg) => resolve((msg as { payload: string }).payload)))
        await client.query('LISTEN pindb_channel')
        await admin.query("NOTIFY pindb_channel, 'hello'")
        expect(await got).toBe('hello')
      } finally {
        client.release()
      }
    })
  })

  it('named prepared statements through the pool work on both primary and replica', async () => {
    const { pindb, pool } = setup()
    await pindb.run(async () => {
      const q = { name: 'pindb-port', text: 'SELECT inet_server_port() AS port' }
      expect((await pool.query(q))!.rows).toEqual([{ port: R1 }])
      await pool.query('INSERT INTO pg_notes (body) VALUES ($1)', ['named'])
      expect((await pool.query(q))!.rows).toEqual([{ port: PRIMARY }])
    })
  })
})

describe('the routed pg module (TypeORM driver, Sequelize dialectModule)', () => {
  it('regression: connect-time SETs anchored every ORM connection on the primary — they are re-applied on the replica instead', async () => {
    const { pindb } = setup()
    const mod = createPgModule(pindb, { pg })
    const client = new mod.Client({ host: 'ignored-pindb-decides', user: 'ignored' })
    await client.connect()
    try {
      await client.query("SET standard_conforming_strings=on;SET client_min_messages TO warning;SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE")
      const read = await pindb.run(() => client.query("SELECT current_setting('TimeZone') AS tz, current_setting('client_min_messages') AS level, inet_server_port() AS port"))
      expect(read.rows[0]).toEqual({ tz: '<+02>-02', level: 'warning', port: R1 })
      expect(anchor(client)).toBeUndefined()
      // A write then a read in one unit of work: the primary, with the same settings.
      const fresh = await pindb.run(async () => {
        await client.query('INSERT INTO pg_notes (body) VALUES ($1)', ['module'])
        return client.query("SELECT current_setting('TimeZone') AS tz, inet_server_port() AS port")
      })
      expect(fresh.rows[0]).toEqual({ tz: '<+02>-02', port: PRIMARY })
      // Other session state still anchors: SET ROLE changes privileges, it is not a setting.
      await client.query('SET ROLE postgres')
      expect(anchor(client)).toBe('default')
    } finally {
      await client.end()
    }
    expect(mod.Pool).not.toBe(pg.Pool)
    const routed = new mod.Pool()
    expect(routed).toBeInstanceOf(pg.Pool)
    await routed.end()
  })
})

describe('regression: credentials in logs', () => {
  it('JSON.stringify and util.inspect of the routed pool and its clients print no password or connection-string secret', async () => {
    const { inspect } = await import('node:util')
    const pindb = createPinDb({
      primaries: { default: { ...base, port: PRIMARY, password: 'hunter2-primary' } },
      replicas: { default: [{ port: R0, password: 'hunter2-replica' }] },
    })
    const pool = createPgPool(pindb, { pg })
    pools.push(pool)
    const client = await pool.connect()
    try {
      await pindb.run(() => client.query('SELECT 1'))
      for (const text of [JSON.stringify(pool.options), inspect(pool, { depth: 6 }), inspect(client, { depth: 4 }), inspect(pindb, { depth: 6 }), JSON.stringify(pindb.databases)]) {
        expect(text).not.toContain('hunter2')
      }
      expect(pool.options.password).toBe('hunter2-primary') // still there for pg itself
    } finally {
      client.release()
    }
  })
})

describe('regression: end() let a replica read in flight run to completion', () => {
  it('client.end() cuts off a statement running on a borrowed replica connection, as pg cuts off its own', async () => {
    const { pindb } = setup()
    const mod = createPgModule(pindb, { pg })
    const client = new mod.Client()
    await client.connect()
    const t0 = performance.now()
    const running = pindb.run(() => client.query("SELECT pg_sleep(3), 'pindb-end-me' AS tag")).then(() => 'resolved', (e: Error) => e.message)
    const replica = new pg.Client({ ...base, port: R1 })
    await replica.connect()
    try { // wait until the read really runs on the replica's borrowed connection
      for (let i = 0; i < 100; i++) {
        const r = await replica.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%pindb-end-me%' AND pid <> pg_backend_pid()")
        if (r.rows[0].n > 0) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    } finally {
      await replica.end()
    }
    await client.end()
    expect(await running).toMatch(/terminated/i)
    expect(performance.now() - t0).toBeLessThan(2_500)
  })
})

describe('regression: one caller\'s write outside a unit of work sent the next callers\' reads to the primary', () => {
  it('the read-your-writes window of a checked-out client ends with its checkout: pool.query reads after an unscoped write use the replica', async () => {
    const pindb = createPinDb({
      primaries: { default: { ...base, port: PRIMARY, max: 1 } },
      replicas: { default: [{ port: R0 }] },
      unscopedWrites: 'ignore',
    })
    const pool = createPgPool(pindb, { pg, max: 1 }) // one logical client: every call reuses it
    pools.push(pool)
    await pool.query('INSERT INTO pg_notes (body) VALUES ($1)', ['unscoped'])
    expect(await port(pool)).toBe(R0)
    // Within one checkout, the client still reads its own write from the primary.
    const client = await pool.connect()
    try {
      await client.query('INSERT INTO pg_notes (body) VALUES ($1)', ['unscoped-2'])
      expect(await port(client)).toBe(PRIMARY)
    } finally {
      client.release()
    }
    expect(await port(pool)).toBe(R0)
  })
})

describe('backend identity and cancellation', () => {
  it('regression: a cancel aimed at a client\'s processID reached an unrelated primary session — it now cancels that client\'s replica read', async () => {
    const { pindb, pool } = setup()
    const client = await pool.connect()
    try {
      const pid = ((await client.query('SELECT pg_backend_pid() AS pid')) as { rows: { pid: number }[] }).rows[0]!.pid
      expect(pid).toBe((client as unknown as { processID: number }).processID) // both name the home backend
      const running = pindb.run(() => client.query('SELECT pg_sleep(5), inet_server_port() AS port')).catch((e: unknown) => e)
      await new Promise((resolve) => setTimeout(resolve, 300))
      // Knex's and Kysely's way: pg_cancel_backend(<processID>) on another connection of the pool.
      const cancelled = await pool.query('SELECT pg_cancel_backend($1)', [pid])
      expect(cancelled.rows[0]).toEqual({ pg_cancel_backend: true })
      expect(((await running) as { code?: string }).code).toBe('57014')
      expect(await port(client)).toBe(R1) // the client still works, and still reads from its replica
    } finally {
      client.release()
    }
  })
})

describe('failover', () => {
  it('(e) a replica stopped during a stream of reads: zero failed reads, and it is used again after it returns', async () => {
    const { pindb, pool } = setup({ replicaChoice: ({ candidates }) => (candidates.includes('default-0') ? 'default-0' : candidates[0]!), backoff: { baseMs: 200, maxMs: 500 } })
    const { served, failures, restartedAt } = await readsThroughOutage('pg-replica-0', R0, () => pindb.run(() => port(pool)))
    expect(failures).toBe(0)
    expect(served.length).toBeGreaterThan(50)
    expect(served.slice(0, 10)).toContain(R0)
    expect(served).toContain(R1) // the other replica took over
    expect(served.slice(restartedAt)).toContain(R0) // and replica 0 is used again
    expect(pindb.stats()['default-0']!.counters.failovers).toBeGreaterThan(0)
  }, 60_000)
})

describe('ORMs use the routed pool unchanged', () => {
  it('(f) Kysely PostgresDialect: reads on replicas, writes and transactions on the primary', async () => {
    const { pindb, pool } = setup()
    const db = new Kysely<{ pg_notes: { id: Generated<number>; body: string } }>({ dialect: new PostgresDialect({ pool }) })
    await pindb.run(async () => {
      const read = await db.selectFrom('pg_notes').select(ksql<number>`inet_server_port()`.as('port')).limit(1).executeTakeFirst()
      expect(read?.port).toBe(R1)
      const raw = await ksql<{ port: number }>`select inet_server_port() as port`.execute(db)
      expect(raw.rows[0]?.port).toBe(R1)
      const inserted = await db.insertInto('pg_notes').values({ body: 'kysely' }).returning(ksql<number>`inet_server_port()`.as('port')).executeTakeFirstOrThrow()
      expect(inserted.port).toBe(PRIMARY)
    })
    await pindb.run(async () => {
      const ports = await db.transaction().execute(async (trx) => {
        const a = await ksql<{ port: number }>`select inet_server_port() as port`.execute(trx)
        await trx.insertInto('pg_notes').values({ body: 'kysely-tx' }).execute()
        const b = await trx.selectFrom('pg_notes').select(ksql<number>`inet_server_port()`.as('port')).limit(1).executeTakeFirstOrThrow()
        return [a.rows[0]?.port, b.port]
      })
      expect(ports).toEqual([PRIMARY, PRIMARY])
    })
    await pindb.run(async () => {
      const ports = await db.transaction().setAccessMode('read only').execute(async (trx) =>
        (await ksql<{ port: number }>`select inet_server_port() as port`.execute(trx)).rows[0]?.port)
      expect(ports).toBe(R1)
    })
  })

  it('regression: Drizzle found the pool by its class name — renamed (minified), its rolled-back transactions ran on separate connections', async () => {
    const { pindb, pool } = setup()
    // What a minifier does to the class name; Drizzle then relies on `instanceof pg.Pool` alone.
    Object.defineProperty(Object.getPrototypeOf(pool).constructor, 'name', { value: 'Ae' })
    const db = drizzle({ client: pool })
    const body = `minified-${Date.now()}`
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => pindb.run(() => db.transaction(async (tx) => {
      await tx.execute(dsql`insert into pg_notes (body) values (${body})`)
      await tx.execute(dsql`insert into pg_notes (body) values (${body})`)
      throw new Error('roll back')
    }))))
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true)
    expect((await admin.query('SELECT count(*)::int AS n FROM pg_notes WHERE body = $1', [body])).rows[0]).toEqual({ n: 0 })
    const stuck = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction'")
    expect(stuck.rows[0]).toEqual({ n: 0 })
  })

  it('(f) Drizzle node-postgres: reads on replicas, writes and transactions on the primary', async () => {
    const { pindb, pool } = setup()
    const db = drizzle({ client: pool })
    await pindb.run(async () => {
      const read = await db.execute<{ port: number }>(dsql`select inet_server_port() as port`)
      expect(read.rows[0]?.port).toBe(R1)
      const write = await db.execute<{ port: number }>(dsql`insert into pg_notes (body) values ('drizzle') returning inet_server_port() as port`)
      expect(write.rows[0]?.port).toBe(PRIMARY)
    })
    await pindb.run(async () => {
      const ports = await db.transaction(async (tx) => {
        const a = await tx.execute<{ port: number }>(dsql`select inet_server_port() as port`)
        await tx.execute(dsql`insert into pg_notes (body) values ('drizzle-tx')`)
        const b = await tx.execute<{ port: number }>(dsql`select inet_server_port() as port`)
        return [a.rows[0]?.port, b.rows[0]?.port]
      })
      expect(ports).toEqual([PRIMARY, PRIMARY])
    })
  })
})

describe('disabled', () => {
  it('enabled: false sends everything to the primary and pins nothing', async () => {
    const { pindb, pool } = setup({ enabled: false })
    await pindb.run(async () => {
      expect(await port(pool)).toBe(PRIMARY)
      await pool.query('INSERT INTO pg_notes (body) VALUES ($1)', ['disabled'])
      expect(pindb.isPinned('default')).toBe(false)
    })
  })
})
