/**
 * `pindb/otel` on the real PostgreSQL test bed, through `createPgPool`: the span active when a
 * statement is routed says which server answered (checked against `inet_server_port()`) and why,
 * a stopped replica shows up as a failover, and the replica monitor's lag of the delayed replica
 * (`pg-delay`) shows up in the lag gauges.
 */
import { context, type Attributes } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, parseLsn, type PinDb, type PinDbOptions } from '../../src/index.js'
import { instrumentPinDb, PINDB_METRICS, type PinDbInstrumentation } from '../../src/otel/index.js'
import { createPgPool } from '../../src/pg/index.js'
import { setPgDelay, startNode, stopNode, testbed, waitForPgReplicas } from '../support/testbed.js'

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onForceFlush(): Promise<void> { return Promise.resolve() }
  protected override onShutdown(): Promise<void> { return Promise.resolve() }
}

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const [R0, R1] = [tb.pg.replicas[0].port, tb.pg.replicas[1].port]
const base = { host: '127.0.0.1', user: 'postgres', database: 'pindb', max: 4, connectionTimeoutMillis: 5_000 }
const admin = new pg.Pool({ ...base, port: PRIMARY })
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const contextManager = new AsyncLocalStorageContextManager()
const exporter = new InMemorySpanExporter()
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('otel-integration')

let reader = new TestReader()
let meterProvider = new MeterProvider({ readers: [reader] })
const cleanup: (() => Promise<void> | void)[] = []

function setup(options: Partial<PinDbOptions> = {}, poolOptions: { monitor?: { intervalMs: number } } = {}): { pindb: PinDb; pool: pg.Pool } {
  const pindb = createPinDb({
    primaries: { default: { ...base, port: PRIMARY } },
    replicas: { default: [{ port: R0 }, { port: R1 }] },
    replicaChoice: ({ candidates }) => (candidates.includes('default-0') ? 'default-0' : candidates[0]!),
    ...options,
  })
  const pool = createPgPool(pindb, { pg, ...poolOptions })
  const otel: PinDbInstrumentation = instrumentPinDb(pindb, { meterProvider })
  cleanup.push(() => otel.disable(), () => pool.end())
  return { pindb, pool }
}

/** Runs `fn` in an active span named `name` and returns its result and the finished span. */
async function traced<T>(name: string, fn: () => Promise<T>): Promise<{ result: T; span: ReadableSpan }> {
  const result = await tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn()
    } finally {
      span.end()
    }
  })
  return { result, span: exporter.getFinishedSpans().find((s) => s.name === name)! }
}

const port = async (pool: pg.Pool, sql = 'SELECT inet_server_port() AS port'): Promise<number> =>
  ((await pool.query(sql)) as { rows: { port: number }[] }).rows[0]!.port

const routeEvents = (span: ReadableSpan): Attributes[] => span.events.filter((e) => e.name === 'pindb.route').map((e) => e.attributes ?? {})

async function points(name: string): Promise<{ attributes: Attributes; value: number }[]> {
  const { resourceMetrics, errors } = await reader.collect()
  expect(errors).toEqual([])
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value as number }))
}

async function valueOf(name: string, match: Attributes): Promise<number | undefined> {
  const found = (await points(name)).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
  expect(found.length).toBeLessThanOrEqual(1)
  return found[0]?.value
}

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable())
  await setPgDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS otel_notes (id serial PRIMARY KEY, body text NOT NULL)')
  await waitForPgReplicas()
})

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
  exporter.reset()
  await meterProvider.shutdown()
  reader = new TestReader()
  meterProvider = new MeterProvider({ readers: [reader] })
})

afterAll(async () => {
  context.disable()
  await setPgDelay(0)
  await admin.end()
})

describe('decisions on the active span', () => {
  it('a replica read, a write and the pinned read after it: the server each event names is the one that answered', async () => {
    const { pindb, pool } = setup()
    const body = `otel-${Date.now()}`
    const { result: ports, span } = await traced('POST /notes', () => pindb.run(async () => [
      await port(pool),
      await port(pool, `INSERT INTO otel_notes (body) VALUES ('${body}') RETURNING inet_server_port() AS port`),
      await port(pool),
    ]))
    expect(ports).toEqual([R0, PRIMARY, PRIMARY])
    expect(routeEvents(span).map((e) => [e['pindb.intent'], e['pindb.server'], e['pindb.role'], e['pindb.reason'], e['pindb.pinned']])).toEqual([
      ['read', 'default-0', 'replica', 'replica', false],
      ['write', 'default', 'primary', 'write', true],
      ['read', 'default', 'primary', 'pinned', true],
    ])
    expect(span.attributes).toMatchObject({ 'pindb.server': 'default', 'pindb.reason': 'pinned', 'pindb.db_set': 'default', 'pindb.decisions': 3 })
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.server': 'default-0', 'pindb.reason': 'replica' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.server': 'default', 'pindb.reason': 'pinned' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.writes, { 'pindb.server': 'default', 'pindb.reason': 'write' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.staleProtections, { 'pindb.reason': 'pinned' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.outstanding, { 'pindb.server': 'default-0' })).toBe(0)
  })

  it('a read after pin() goes to the primary and its span says pinned; a unit of work without the pin reads the replica', async () => {
    const { pindb, pool } = setup()
    const pinned = await traced('pinned', () => pindb.run(async () => {
      pindb.pin('default')
      return port(pool)
    }))
    const unpinned = await traced('unpinned', () => pindb.run(() => port(pool)))
    expect([pinned.result, unpinned.result]).toEqual([PRIMARY, R0])
    expect(pinned.span.attributes).toMatchObject({ 'pindb.server': 'default', 'pindb.role': 'primary', 'pindb.reason': 'pinned', 'pindb.pinned': true })
    expect(unpinned.span.attributes).toMatchObject({ 'pindb.server': 'default-0', 'pindb.role': 'replica', 'pindb.reason': 'replica', 'pindb.pinned': false })
  })
})

describe('failover', () => {
  it('a stopped replica: the read is answered by the other one, the span shows the failover, the metrics the failure and back-off', async () => {
    await stopNode('pg-replica-0')
    try {
      const { pindb, pool } = setup({ backoff: { baseMs: 30_000, maxMs: 30_000 } })
      const { result, span } = await traced('GET /notes', () => pindb.run(() => port(pool)))
      expect(result).toBe(R1)
      expect(routeEvents(span).map((e) => [e['pindb.server'], e['pindb.reason'], e['pindb.failover.from']])).toEqual([
        ['default-0', 'replica', undefined],
        ['default-1', 'failover', 'default-0'],
      ])
      expect(span.attributes).toMatchObject({ 'pindb.server': 'default-1', 'pindb.failover.attempts': 1, 'pindb.decisions': 2 })
      expect(await valueOf(PINDB_METRICS.failovers, { 'pindb.server': 'default-0' })).toBeGreaterThanOrEqual(1)
      expect(await valueOf(PINDB_METRICS.failovers, { 'pindb.server': 'default-1' })).toBe(0)
      expect(await valueOf(PINDB_METRICS.backoff, { 'pindb.server': 'default-0' })).toBe(1)
      expect(await valueOf(PINDB_METRICS.reads, { 'pindb.server': 'default-1', 'pindb.reason': 'failover' })).toBe(1)
      // In back-off, the next read goes straight to the other replica: no failover any more.
      const next = await traced('GET /notes again', () => pindb.run(() => port(pool)))
      expect(next.result).toBe(R1)
      expect(routeEvents(next.span).map((e) => [e['pindb.server'], e['pindb.reason']])).toEqual([['default-1', 'replica']])
    } finally {
      await startNode('pg-replica-0')
    }
  }, 60_000)
})

describe('replica lag from the monitor', () => {
  afterAll(async () => setPgDelay(0))

  it('the delayed replica reports lag in ms and bytes, both replicas their replay LSN', async () => {
    await setPgDelay(1500)
    const { pindb } = setup({}, { monitor: { intervalMs: 100 } })
    let writing = true
    const writer = (async () => {
      while (writing) {
        await admin.query("INSERT INTO otel_notes (body) VALUES ('lag')")
        await sleep(50)
      }
    })()
    try {
      const deadline = Date.now() + 15_000
      let lag: number | undefined
      while (((lag = await valueOf(PINDB_METRICS.replicaLag, { 'pindb.server': 'default-1' })) ?? 0) <= 500) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for pindb.replica.lag of default-1 > 500 (last ${String(lag)})`)
        await sleep(50)
      }
    } finally {
      writing = false
      await writer
    }
    expect(await valueOf(PINDB_METRICS.replicaLagBytes, { 'pindb.server': 'default-1' })).toBeGreaterThan(0)
    expect(await valueOf(PINDB_METRICS.replicaLag, { 'pindb.server': 'default-0' })).toBeLessThan(500)
    for (const alias of ['default-0', 'default-1']) {
      const position = pindb.servers.get(alias).position
      expect(position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/)
      const observed = await valueOf(PINDB_METRICS.replicaReplayLsn, { 'pindb.server': alias })
      // The monitor may have advanced between the two reads: the gauge is at or after the earlier position.
      expect(observed).toBeGreaterThanOrEqual(Number(parseLsn(position!)))
    }
    expect(await valueOf(PINDB_METRICS.replicaLag, { 'pindb.server': 'default' })).toBeUndefined() // no lag for a primary
  }, 60_000)
})
