/**
 * `pindb/postgres` (a routed postgres.js `sql`) against the real PostgreSQL test bed: primary,
 * replica 0, and replica 1 (the one `setPgDelay` delays). Every routing assertion checks which
 * server really ran the statement (`inet_server_port()`) or reads stale data from the delayed
 * replica. Each shared check is one function (`checks.*`), so that the adapters' conformance
 * suite can call the same checks.
 */
import postgres from 'postgres'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, isPinDbError, UnpinnedWriteError, type PinDb, type PinDbOptions, type ReplicaChooser, type RouteEvent } from '../../src/index.js'
import { createPostgres } from '../../src/postgres/index.js'
import { startNotesApp } from '../orm/http-app.js'
import { readsThroughOutage } from '../support/outage.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const [R0, R1] = [tb.pg.replicas[0].port, tb.pg.replicas[1].port]
const DELAY_MS = 2000
const preferDelayed: ReplicaChooser = ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!)
const preferR0: ReplicaChooser = ({ candidates }) => (candidates.includes('default-0') ? 'default-0' : candidates[0]!)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Sql = postgres.Sql
type AnySql = postgres.Sql | postgres.TransactionSql | postgres.ReservedSql
interface Harness { pindb: PinDb; sql: Sql; events: RouteEvent[]; sent: string[] }

const closers: (() => Promise<void>)[] = []
/** A pindb over the test bed and a routed `sql`; `sent` records every statement text a server received. */
function setup(options: Partial<PinDbOptions> = {}, extra: Record<string, unknown> = {}): Harness {
  const events: RouteEvent[] = []
  const sent: string[] = []
  const pindb = createPinDb({
    primaries: { default: { ...tb.pg.primary, max: 4 } },
    replicas: { default: [{ port: R0 }, { port: R1 }] },
    replicaChoice: preferDelayed,
    onRoute: (e) => events.push(e),
    ...options,
  })
  const sql = createPostgres(pindb, { postgres, debug: (_c: number, text: string) => sent.push(text), ...extra })
  closers.push(() => sql.end({ timeout: 5 }))
  return { pindb, sql, events, sent }
}

const admin = postgres({ ...tb.pg.primary, max: 2, onnotice: () => {} })
const port = async (sql: AnySql): Promise<number> => (await sql`select inet_server_port() as port`)[0]!['port'] as number
const countOn = async (sql: AnySql | typeof admin, body: string) =>
  (await sql`select count(*)::int as n, inet_server_port() as port from pgjs_notes where body = ${body}`)[0] as { n: number; port: number }
let unique = 0
const bodyFor = (check: string) => `${check}-${process.pid}-${Date.now()}-${unique++}`

/** The shared checks, one function each. */
export const checks = {
  /** Unpinned reads land on the replica, whatever form the query takes; the text routed is the text the server ran. */
  async replicaReads({ pindb, sql, events, sent }: Harness): Promise<void> {
    await pindb.run(async () => {
      expect(await port(sql)).toBe(R1)
      const id = 1
      const forms: postgres.PendingQuery<postgres.Row[]>[] = [
        sql`select inet_server_port() as port from ${sql('pgjs_notes')} where id in ${sql([id, 2, 3])} or ${sql`id = ${id}`} limit 1`,
        sql`select ${sql({ port: sql`inet_server_port()`, one: 1 } as never)}`, // a fragment as a value: postgres.js allows it, its types do not
        sql.unsafe('select inet_server_port() as port, $1::int as x', [5]),
        sql`select inet_server_port() as port, ${sql.json({ a: 1 })}::jsonb as j, ${sql.array([1, 2])}::int[] as a, ${sql.typed(7, 23)} as t`,
      ]
      for (const query of forms) await query
      expect((await sql`select inet_server_port() as port`.values())[0]).toEqual([R1])
      expect((await sql`select inet_server_port() as port`.raw())[0]![0]).toBeInstanceOf(Buffer)
      expect((await sql`select inet_server_port() as port`.simple())[0]).toEqual({ port: R1 })
      expect((await sql`select inet_server_port() as port where ${1} = 1`.describe()).columns?.map((c) => c.name)).toEqual(['port'])
      const streamed: number[] = []
      await sql`select inet_server_port() as port from generate_series(1, 3)`.forEach((row) => { streamed.push(row['port'] as number) })
      const batches: number[][] = []
      for await (const rows of sql`select g, inet_server_port() as port from generate_series(1, 5) g`.cursor(2)) batches.push(rows.map((r) => r['port'] as number))
      expect([streamed, batches.flat(), batches.length]).toEqual([[R1, R1, R1], [R1, R1, R1, R1, R1], 3])
    })
    const routed = events.filter((e) => e.sql !== undefined)
    expect(new Set(routed.map((e) => e.alias))).toEqual(new Set(['default-1']))
    for (const e of routed) expect(sent, `routed text reaches the server unchanged: ${e.sql}`).toContain(e.sql)
    expect(routed.find((e) => e.sql!.includes(' in ('))?.sql).toBe('select inet_server_port() as port from "pgjs_notes" where id in ($1,$2,$3) or id = $4 limit 1')
  },

  /** A write, then a read in the same unit of work: the primary, fresh; another unit of work reads the stale replica. */
  async readYourWrites({ pindb, sql }: Harness): Promise<void> {
    const body = bodyFor('ryw')
    const result = await pindb.run(async () => {
      const [written] = await sql`insert into pgjs_notes ${sql({ body })} returning inet_server_port() as port`
      return { written: written!['port'], pinned: pindb.isNewlyPinned('default'), read: await countOn(sql, body) }
    })
    expect(result).toEqual({ written: PRIMARY, pinned: true, read: { n: 1, port: PRIMARY } })
    expect(await pindb.run(() => countOn(sql, body))).toEqual({ n: 0, port: R1 })
  },

  /** A pin carried from an earlier unit of work (cookie, job) keeps reads on the primary. */
  async carriedPin({ pindb, sql }: Harness): Promise<void> {
    const body = bodyFor('carry')
    const pins = await pindb.run(async () => {
      await sql`insert into pgjs_notes (body) values (${body})`
      return pindb.capturePins()
    })
    expect(pins.map((p) => p.set)).toEqual(['default'])
    expect(await pindb.run(() => countOn(sql, body), { pins })).toEqual({ n: 1, port: PRIMARY })
    expect(await pindb.run(() => countOn(sql, body))).toEqual({ n: 0, port: R1 })
  },

  /** Strict mode: a write to an unpinned set throws before any server sees it, in every form. */
  async strictThrowsBeforeServer({ pindb, sql, sent }: Harness): Promise<void> {
    const body = bodyFor('strict')
    await pindb.run(async () => {
      await expect(sql`insert into pgjs_notes ${sql({ body })}`).rejects.toBeInstanceOf(UnpinnedWriteError)
      await expect(sql.unsafe('delete from pgjs_notes where body = $1', [body])).rejects.toBeInstanceOf(UnpinnedWriteError)
      await expect(sql.begin((tx) => tx`select 1`)).rejects.toBeInstanceOf(UnpinnedWriteError)
      const reserved = await sql.reserve()
      await expect(reserved`begin`).rejects.toBeInstanceOf(UnpinnedWriteError)
      reserved.release()
    })
    expect(sent.filter((text) => /insert|delete|begin/i.test(text))).toEqual([])
    expect(pindb.stats()['default']!.counters.writes).toBe(0)
    expect((await countOn(admin, body)).n).toBe(0)
    await pindb.run(async () => {
      pindb.pin('default')
      expect((await sql`insert into pgjs_notes ${sql({ body })} returning inet_server_port() as port`)[0]).toEqual({ port: PRIMARY })
    })
  },

  /** sql.begin runs wholly on one server — a read first included — savepoints too; 'read only' may use a replica. */
  async transactionOnOneServer({ pindb, sql, events }: Harness): Promise<void> {
    const body = bodyFor('tx')
    const from = events.length
    const ports = await pindb.run(() => sql.begin(async (tx) => {
      const first = await port(tx)
      await tx`insert into pgjs_notes ${tx({ body })}`
      const inner = await tx.savepoint(async (sp) => [await port(sp), (await countOn(sp, body)).n])
      await tx.savepoint(async (sp) => {
        await sp`insert into pgjs_notes ${sp({ body })}`
        throw new Error('undo the savepoint only')
      }).catch(() => {})
      return [first, ...inner, await port(tx)]
    }))
    expect(ports).toEqual([PRIMARY, PRIMARY, 1, PRIMARY])
    expect((await countOn(admin, body)).n).toBe(1)
    const inTx = events.slice(from)
    expect(inTx.length).toBeGreaterThanOrEqual(6)
    expect(new Set(inTx.map((e) => e.alias))).toEqual(new Set(['default']))
    // A failed callback rolls the whole transaction back.
    const rolledBack = bodyFor('tx-rollback')
    await expect(sql.begin(async (tx) => {
      await tx`insert into pgjs_notes ${tx({ body: rolledBack })}`
      throw new Error('roll back')
    })).rejects.toThrow('roll back')
    expect((await countOn(admin, rolledBack)).n).toBe(0)
    // Read only: the replica, and the server refuses writes inside it.
    await pindb.run(async () => {
      expect(await sql.begin('read only', (tx) => port(tx))).toBe(R1)
      await expect(sql.begin('read only', (tx) => tx`insert into pgjs_notes (body) values ('ro')`)).rejects.toMatchObject({ code: '25006' })
      expect(pindb.isPinned('default')).toBe(false)
    })
  },

  /** A reserved connection reads the replica until session state anchors it to the primary, where it stays. */
  async reservedSessionState({ pindb, sql }: Harness): Promise<void> {
    await pindb.run(async () => {
      const reserved = await sql.reserve()
      try {
        expect(await port(reserved)).toBe(R1)
        await reserved`set application_name = 'pindb-pgjs'`
        expect((reserved as unknown as { anchoredTo?: string }).anchoredTo).toBe('default')
        expect((await reserved`show application_name`)[0]).toEqual({ application_name: 'pindb-pgjs' })
        expect(await port(reserved)).toBe(PRIMARY)
        await reserved`create temp table pgjs_scratch (x int)`
        await reserved`insert into pgjs_scratch values (1), (2)`
        expect((await reserved`select sum(x)::int as s from pgjs_scratch`)[0]).toEqual({ s: 3 })
        expect(pindb.isPinned('default')).toBe(true) // the insert into the temp table counts as a write
      } finally {
        reserved.release()
      }
      await expect(reserved`select 1`).rejects.toMatchObject({ code: 'PINDB_CLOSED' })
    })
    await pindb.run(async () => {
      const reserved = await sql.reserve()
      try {
        await reserved`begin`
        const ports = [await port(reserved), await port(reserved)]
        await reserved`commit`
        expect(ports).toEqual([PRIMARY, PRIMARY])
        expect((reserved as unknown as { anchoredTo?: string }).anchoredTo).toBeUndefined()
      } finally {
        reserved.release()
      }
    })
  },

  /** A replica stopped during a stream of reads: no read fails, and it is used again once back. */
  async failoverOnStoppedReplica({ pindb, sql }: Harness): Promise<void> {
    const { served, failures, restartedAt } = await readsThroughOutage('pg-replica-0', R0, () => pindb.run(() => port(sql)))
    expect(failures).toBe(0)
    expect(served.slice(0, 10)).toContain(R0)
    expect(served).toContain(R1)
    expect(served.slice(restartedAt)).toContain(R0)
    expect(pindb.stats()['default-0']!.counters.failovers).toBeGreaterThan(0)
  },

  /** Causal: a carried position sends reads to the replica that replayed it, never to the delayed one. */
  async causalPositions({ pindb, sql, events }: Harness): Promise<void> {
    const body = bodyFor('causal')
    const pins = await pindb.run(async () => {
      await sql`insert into pgjs_notes ${sql({ body })}`
      await pindb.settlePositions()
      return pindb.capturePins()
    })
    const position = pins[0]?.position
    expect(position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/)
    const deadline = Date.now() + 10_000
    while (!replayed(pindb, 'default-0', position!) && Date.now() < deadline) await sleep(20)
    expect(await pindb.run(() => countOn(sql, body), { pins })).toEqual({ n: 1, port: R0 })
    expect(events.at(-1)?.reason).toBe('causal')
    const delayed = postgres({ ...tb.pg.replicas[1], max: 1 })
    try {
      expect((await countOn(delayed, body)).n).toBe(0) // the replica it avoided really lacked the row
    } finally {
      await delayed.end()
    }
  },

  /** The kill switch: everything on the primary, nothing pinned. */
  async disabled({ pindb, sql }: Harness): Promise<void> {
    await pindb.run(async () => {
      expect(await port(sql)).toBe(PRIMARY)
      await sql`insert into pgjs_notes ${sql({ body: bodyFor('disabled') })}`
      expect(pindb.isPinned('default')).toBe(false)
      expect(await sql.begin('read only', (tx) => port(tx))).toBe(PRIMARY)
    })
  },

  /** Over HTTP (pindb/express): the pin cookie of a write reads the primary; without it, the stale replica. */
  async httpPinCookie({ pindb, sql }: Harness): Promise<void> {
    const app = await startNotesApp(pindb, {
      rawPort: () => port(sql),
      insert: async (body) => { await sql`insert into pgjs_notes ${sql({ body })}` },
      count: async (body) => (await countOn(sql, body)).n,
    })
    try {
      const body = bodyFor('http')
      const cookie = await app.create(body)
      expect(await app.read(body, cookie)).toEqual({ n: 1, port: PRIMARY })
      expect(await app.read(body)).toEqual({ n: 0, port: R1 })
    } finally {
      await app.close()
    }
  },
}

function replayed(pindb: PinDb, alias: string, position: string): boolean {
  const at = pindb.servers.get(alias).position
  const n = (lsn: string) => { const [hi, lo] = lsn.split('/'); return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`) }
  return at !== undefined && n(at) >= n(position)
}

beforeAll(async () => {
  await setPgDelay(0)
  await admin`create table if not exists pgjs_notes (id serial primary key, body text not null)`
  await waitForPgReplicas()
})
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})
afterAll(async () => {
  await setPgDelay(0)
  await admin.end()
})

describe('pindb/postgres with a lagging replica', () => {
  beforeAll(() => setPgDelay(DELAY_MS))
  afterAll(() => setPgDelay(0))

  it('reads go to a replica, for every query form, and route by the exact text the server runs', () => checks.replicaReads(setup()))
  it('read-your-writes in a unit of work', () => checks.readYourWrites(setup()))
  it('a carried pin (pindb.run(fn, { pins })) reads the primary', () => checks.carriedPin(setup()))
  it('transactions run wholly on one server', () => checks.transactionOnOneServer(setup()))
  it('over HTTP, the pin cookie reads the primary', () => checks.httpPinCookie(setup()))
  it('causal positions pick the replica that replayed the write', () => checks.causalPositions(setup({ causal: true }, { monitor: { intervalMs: 100 } })))
})

describe('pindb/postgres', () => {
  it('strict mode throws before reaching a server', () => checks.strictThrowsBeforeServer(setup({ mode: 'strict' })))
  it('a reserved connection keeps its session state on one server', () => checks.reservedSessionState(setup()))
  it('enabled: false sends everything to the primary', () => checks.disabled(setup({ enabled: false })))
  it('failover: a stopped replica costs no failed read', () =>
    checks.failoverOnStoppedReplica(setup({ replicaChoice: preferR0, backoff: { baseMs: 200, maxMs: 500 } })), 60_000)

  it('regression: a throwing onRoute hook inside sql.begin left the transaction waiting forever', async () => {
    let routed = 0
    const { sql, pindb } = setup({ onRoute: () => { if (++routed === 2) throw new Error('hook failed') } })
    const outcome = await Promise.race([
      pindb.run(() => sql.begin((tx) => tx`select 1`)).then(() => 'settled', (err: unknown) => (err as Error).message),
      sleep(5_000).then(() => 'hung'),
    ])
    expect(outcome).toBe('hook failed')
  })

  it('listen and notify use the primary', async () => {
    const { sql, pindb } = setup()
    const got = new Promise<string>((resolve) => void sql.listen('pgjs_channel', resolve))
    await sleep(100)
    await pindb.run(() => sql.notify('pgjs_channel', 'hello'))
    expect(await got).toBe('hello')
    expect(pindb.stats()['default']!.counters.writes).toBeGreaterThan(0)
  })

  it('cancel: before the query reaches a server, and while it runs', async () => {
    const { sql } = setup()
    const early = sql`select 1`.execute()
    void early.cancel()
    await expect(early).rejects.toMatchObject({ code: '57014' })
    const running = sql`select pg_sleep(5)`.execute()
    await sleep(300)
    void running.cancel()
    await expect(running).rejects.toMatchObject({ code: '57014' })
  })

  it('parsers and serializers written to sql.options reach every instance, created before or after', async () => {
    const { pindb, sql } = setup()
    const text = (x: unknown) => `text:${String(x)}`
    sql.options.parsers[25] = text
    const read = await pindb.run(async () => ({ port: await port(sql), t: (await sql`select 'a'::text as t`)[0]!['t'] }))
    const written = await pindb.run(async () => {
      await sql`insert into pgjs_notes ${sql({ body: bodyFor('parsers') })}`
      return (await sql`select 'b'::text as t`)[0]!['t']
    })
    expect([read, written]).toEqual([{ port: R1, t: 'text:a' }, 'text:b'])
  })

  it('unsupported forms throw a PinDbError at once', () => {
    const { sql } = setup()
    expect(() => sql.subscribe('*', () => {})).toThrow(expect.objectContaining({ code: 'PINDB_UNSUPPORTED' }))
    expect(() => (sql as unknown as { largeObject(): void }).largeObject()).toThrow(/largeObject/)
    let caught: unknown
    try {
      createPostgres(createPinDb({ primaries: { default: tb.pg.primary }, replicas: { default: [] } }), { postgres, port: 1 })
    } catch (err) {
      caught = err
    }
    expect(isPinDbError(caught) && caught.code).toBe('PINDB_CONFIG')
  })
})
