/**
 * The conformance suite: the same routing checks for every adapter, against the real clusters of
 * the test bed. Each check proves which server ran a statement (`inet_server_port()` / `@@port`)
 * or reads stale data from the delayed replica, so a routing mistake fails it.
 *
 * `testAdapter(adapter, { additionalTests })` registers one `describe` per adapter (unstorage's
 * `testDriver`); `conformance.test.ts` calls it for each selected adapter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, UnpinnedWriteError, type PinDb, type PinDbOptions, type ReplicaChooser } from '../../src/index.js'
import { positionReached } from '../../src/position.js'
import { readsThroughOutage } from '../support/outage.js'
import { ENGINES, type Engine } from './engines.js'
import type { AdapterOptions, AdapterUnderTest, RoutedHandle, RunQuery } from './harness.js'

/** Replica 1 of PostgreSQL (the only MariaDB replica) replays this late while the suite runs: its reads are stale. */
const DELAY_MS = 2000

/** What a check gets: a pindb instance over the test bed and the adapter over it. */
export interface Setup {
  readonly pindb: PinDb
  readonly handle: RoutedHandle
  readonly engine: Engine
}

/** Options of {@link testAdapter}. */
export interface TestAdapterOptions {
  /** Adapter-specific checks, registered inside the adapter's `describe`. */
  additionalTests?: (ctx: { setup: (options?: Partial<PinDbOptions>, adapterOptions?: AdapterOptions) => Promise<Setup>; engine: Engine }) => void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** Registers the conformance checks for one adapter. */
export function testAdapter(adapter: AdapterUnderTest, options: TestAdapterOptions = {}): void {
  const engine = ENGINES[adapter.engine]
  const p = engine.param
  const closers: (() => Promise<void>)[] = []
  let unique = 0
  const bodyFor = (check: string): string => `${adapter.name}-${check}-${process.pid}-${Date.now()}-${unique++}`
  const prefer = (alias: string): ReplicaChooser => ({ candidates }) => (candidates.includes(alias) ? alias : candidates[0]!)

  async function setup(pindbOptions: Partial<PinDbOptions> = {}, adapterOptions: AdapterOptions = {}): Promise<Setup> {
    const pindb = createPinDb({
      primaries: { default: engine.primary },
      replicas: { default: [...engine.replicas] },
      replicaChoice: prefer(engine.delayed.alias),
      ...pindbOptions,
    })
    const handle = await adapter.create(pindb, adapterOptions)
    closers.push(async () => {
      await handle.end()
      await pindb.close()
    })
    return { pindb, handle, engine }
  }

  const portOf = async (query: RunQuery): Promise<number> => Number((await query(`SELECT ${engine.portExpr} AS port`))[0]!['port'])
  const insert = (query: RunQuery, body: string) => query(`INSERT INTO conf_notes (body) VALUES (${p(1)})`, [body])
  const countSql = `SELECT COUNT(*) AS n, ${engine.portExpr} AS port FROM conf_notes WHERE body = ${p(1)}`
  const count = async (query: RunQuery, body: string): Promise<{ n: number; port: number }> => {
    const row = (await query(countSql, [body]))[0]!
    return { n: Number(row['n']), port: Number(row['port']) }
  }
  const countOn = async (port: number, body: string): Promise<number> =>
    Number((await engine.direct(port, `SELECT COUNT(*) AS n FROM conf_notes WHERE body = ${p(1)}`, [body]))[0]!['n'])
  /** Runs `fn` in one committed transaction: the adapter's own way, or BEGIN / COMMIT on a held connection. */
  async function transaction<T>(handle: RoutedHandle, fn: (query: RunQuery) => Promise<T>): Promise<T> {
    if (handle.transaction !== undefined) return handle.transaction(fn)
    const conn = await handle.connect()
    try {
      await conn.query('BEGIN')
      const result = await fn(conn.query)
      await conn.query('COMMIT')
      return result
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      await conn.release()
    }
  }

  describe(`${adapter.name} (${engine.name})`, () => {
    beforeAll(async () => {
      await engine.setDelay(0)
      await engine.direct(engine.primaryPort, engine.createNotes)
      await engine.waitReplicas()
      await engine.setDelay(DELAY_MS)
    }, 60_000)
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close()
    })
    afterAll(async () => {
      await engine.setDelay(0)
    }, 60_000)

    it('reads go to a replica: the pool, a held connection, and outside any unit of work', async () => {
      const { pindb, handle } = await setup()
      expect(await pindb.run(() => portOf(handle.query))).toBe(engine.delayed.port)
      await pindb.run(async () => {
        const conn = await handle.connect()
        try {
          expect(await portOf(conn.query)).toBe(engine.delayed.port)
        } finally {
          await conn.release()
        }
      })
      expect(engine.replicas.map((r) => r.port)).toContain(await portOf(handle.query))
    })

    it('read-your-writes in a unit of work; the delayed replica really is stale', async () => {
      const { pindb, handle } = await setup()
      const body = bodyFor('ryw')
      await pindb.run(async () => {
        expect(await count(handle.query, body)).toEqual({ n: 0, port: engine.delayed.port })
        await insert(handle.query, body)
        expect(pindb.isNewlyPinned('default')).toBe(true)
        expect(await count(handle.query, body)).toEqual({ n: 1, port: engine.primaryPort })
        const conn = await handle.connect()
        try {
          expect(await count(conn.query, body)).toEqual({ n: 1, port: engine.primaryPort })
        } finally {
          await conn.release()
        }
      })
      // Without the pin, the same read on the delayed replica misses the row: the pin mattered.
      expect(await pindb.run(() => count(handle.query, body))).toEqual({ n: 0, port: engine.delayed.port })
    })

    it('a pin carried into a later unit of work (pindb.capturePins → run(fn, { pins })) keeps its reads fresh', async () => {
      const { pindb, handle } = await setup()
      const body = bodyFor('carried')
      const pins = await pindb.run(async () => {
        await insert(handle.query, body)
        return pindb.capturePins()
      })
      expect(pins.map((pin) => pin.set)).toEqual(['default'])
      expect(await pindb.run(() => count(handle.query, body), { pins })).toEqual({ n: 1, port: engine.primaryPort })
      expect(await pindb.run(() => pindb.isNewlyPinned('default'), { pins })).toBe(false)
      expect(await pindb.run(() => count(handle.query, body))).toEqual({ n: 0, port: engine.delayed.port })
    })

    it('strict mode: an unpinned write throws UnpinnedWriteError before it reaches any server', async () => {
      const { pindb, handle } = await setup({ mode: 'strict' })
      const body = bodyFor('strict')
      await pindb.run(async () => {
        await expect(insert(handle.query, body)).rejects.toBeInstanceOf(UnpinnedWriteError)
        const conn = await handle.connect()
        try {
          await expect(insert(conn.query, body)).rejects.toBeInstanceOf(UnpinnedWriteError)
          await expect(conn.query('BEGIN')).rejects.toBeInstanceOf(UnpinnedWriteError)
        } finally {
          await conn.release()
        }
      })
      expect(await countOn(engine.primaryPort, body)).toBe(0)
      expect(pindb.stats()['default']!.counters.writes).toBe(0)
      // After pin(), the same write runs, on the primary.
      await pindb.run(async () => {
        pindb.pin('default')
        await insert(handle.query, body)
        expect(await count(handle.query, body)).toEqual({ n: 1, port: engine.primaryPort })
      })
    })

    it('a transaction runs wholly on the primary, pins, and commits', async () => {
      const { pindb, handle } = await setup()
      const body = bodyFor('tx')
      const seen = await pindb.run(async () => {
        const inside = await transaction(handle, async (query) => {
          const before = await portOf(query)
          await insert(query, body)
          return [before, await portOf(query), (await count(query, body)).port]
        })
        expect(pindb.isPinned('default')).toBe(true)
        return inside
      })
      expect(seen).toEqual([engine.primaryPort, engine.primaryPort, engine.primaryPort])
      expect(await countOn(engine.primaryPort, body)).toBe(1)
    })

    it('a read-only transaction runs wholly on one replica and pins nothing', async () => {
      const { pindb, handle } = await setup()
      await pindb.run(async () => {
        const conn = await handle.connect()
        try {
          await conn.query(engine.beginReadOnly)
          const ports = [await portOf(conn.query), await portOf(conn.query)]
          await conn.query('COMMIT')
          expect(ports).toEqual([engine.delayed.port, engine.delayed.port])
          expect(pindb.isPinned('default')).toBe(false)
        } finally {
          await conn.release()
        }
      })
    })

    it('a connection-setup setting follows the connection (re-applied on the replica, or anchoring on the primary); other session state keeps its connection on the primary', async () => {
      const { pindb, handle } = await setup()
      await pindb.run(async () => {
        const conn = await handle.connect()
        try {
          await conn.query(engine.setting.set)
          const row = (await conn.query(`SELECT ${engine.setting.read} AS v, ${engine.portExpr} AS port`))[0]!
          // Either way the read sees the setting; where it runs depends on the adapter's capability.
          const where = adapter.replaysSettings ? engine.delayed.port : engine.primaryPort
          expect({ v: row['v'], port: Number(row['port']) }).toEqual({ v: engine.setting.value, port: where })
          expect(pindb.isPinned('default')).toBe(false) // a setting is not a write
        } finally {
          await conn.release()
        }
      })
      await pindb.run(async () => {
        const conn = await handle.connect()
        try {
          await conn.query(engine.createTemp)
          await conn.query('INSERT INTO conf_scratch (x) VALUES (1), (2)')
          const rows = await conn.query(`SELECT x, ${engine.portExpr} AS port FROM conf_scratch ORDER BY x`)
          expect(rows.map((r) => [Number(r['x']), Number(r['port'])])).toEqual([[1, engine.primaryPort], [2, engine.primaryPort]])
        } finally {
          await conn.release()
        }
      })
    })

    it('failover: a replica stopped during a stream of reads — zero failed reads, and it is used again once back', async () => {
      const { pindb, handle } = await setup({ replicaChoice: prefer(engine.stoppable.alias), backoff: { baseMs: 200, maxMs: 500 } })
      const { served, failures, restartedAt } = await readsThroughOutage(engine.stoppable.node, engine.stoppable.port, () => pindb.run(() => portOf(handle.query)))
      expect(failures).toBe(0)
      expect(served.slice(0, 5)).toContain(engine.stoppable.port)
      expect(served.some((port) => port !== engine.stoppable.port)).toBe(true) // another server took over
      expect(served.slice(restartedAt)).toContain(engine.stoppable.port)
      expect(pindb.stats()[engine.stoppable.alias]!.counters.failovers).toBeGreaterThan(0)
    }, 90_000)

    it('causal: a carried position lets a replica that replayed the write serve the read — never one that has not', async () => {
      const { pindb, handle } = await setup({ causal: true }, { monitor: { intervalMs: 100 } })
      const body = bodyFor('causal')
      const pins = await pindb.run(async () => {
        await insert(handle.query, body)
        await pindb.settlePositions()
        return pindb.capturePins()
      })
      const position = pins[0]?.position
      expect(position).toBeDefined()
      const first = await pindb.run(() => count(handle.query, body), { pins })
      expect(first.n).toBe(1)
      expect(first.port).not.toBe(engine.delayed.port)
      expect(await countOn(engine.delayed.port, body)).toBe(0) // the replica it avoided had not replayed it
      const replayed = (): boolean => engine.replicas.some((_, i) => positionReached(pindb.servers.get(`default-${i}`).position, position!))
      await until('the monitor to see a replica replay the position', replayed)
      const later = await pindb.run(() => count(handle.query, body), { pins })
      expect(later.n).toBe(1)
      expect(engine.replicas.map((r) => r.port)).toContain(later.port)
    }, 30_000)

    it('enabled: false sends everything to the primary and pins nothing', async () => {
      const { pindb, handle } = await setup({ enabled: false })
      const body = bodyFor('off')
      await pindb.run(async () => {
        expect(await portOf(handle.query)).toBe(engine.primaryPort)
        await insert(handle.query, body)
        expect(await count(handle.query, body)).toEqual({ n: 1, port: engine.primaryPort })
        const conn = await handle.connect()
        try {
          expect(await portOf(conn.query)).toBe(engine.primaryPort)
        } finally {
          await conn.release()
        }
        expect(pindb.isPinned('default')).toBe(false)
        expect(pindb.capturePins()).toEqual([])
      })
    })

    options.additionalTests?.({ setup, engine })
  })
}
