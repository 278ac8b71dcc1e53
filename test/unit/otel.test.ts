/**
 * `pindb/otel` in process: decisions made with `pindb.route(...)` recorded on OpenTelemetry spans
 * (in-memory span exporter, AsyncLocalStorage context manager) and metrics (a manual
 * `MetricReader.collect()`), and the observable instruments reading `pindb.servers`.
 */
import { context, INVALID_SPAN_CONTEXT, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinCodec, createPinDb, isPinDbError, PinDbConfigError, runWithJobPins, type PinDb, type PinDbOptions } from '../../src/index.js'
import { instrumentPinDb, PINDB_METRICS, type InstrumentPinDbOptions, type PinDbInstrumentation } from '../../src/otel/index.js'
import { seamOf } from '../../src/adapter/seam.js'

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onForceFlush(): Promise<void> { return Promise.resolve() }
  protected override onShutdown(): Promise<void> { return Promise.resolve() }
}

const contextManager = new AsyncLocalStorageContextManager()
const exporter = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer: Tracer = tracerProvider.getTracer('otel-unit')
const offTracer: Tracer = new BasicTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('off')

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable())
})
afterAll(() => {
  context.disable()
})

let reader: TestReader
let meterProvider: MeterProvider | undefined
const instrumentations: PinDbInstrumentation[] = []
afterEach(async () => {
  for (const i of instrumentations.splice(0)) i.disable()
  exporter.reset()
  await meterProvider?.shutdown()
  meterProvider = undefined
})

let now = 1_000_000
function setup(options: Partial<PinDbOptions> = {}, otel: InstrumentPinDbOptions = {}): PinDb {
  const pindb = createPinDb({
    primaries: { default: { host: 'p' } },
    replicas: { default: [{ host: 'r0' }, { host: 'r1' }] },
    replicaChoice: ({ candidates }) => candidates[0]!,
    clock: () => now,
    ...options,
  })
  reader = new TestReader()
  const provider = new MeterProvider({ readers: [reader] })
  meterProvider = provider
  instrumentations.push(instrumentPinDb(pindb, { meterProvider: provider, ...otel }))
  return pindb
}

/** The data points of one metric, as `{ attributes, value }`. */
async function points(name: string): Promise<{ attributes: Attributes; value: number }[]> {
  const { resourceMetrics, errors } = await reader.collect()
  expect(errors).toEqual([])
  const metric: MetricData | undefined = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value as number }))
}

/** The value of the point whose attributes include `match`; undefined when none. */
async function valueOf(name: string, match: Attributes): Promise<number | undefined> {
  const found = (await points(name)).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
  expect(found.length).toBeLessThanOrEqual(1)
  return found[0]?.value
}

/** Runs `fn` inside an active recording span and returns the finished span. */
function inSpan(fn: (span: Span) => void): ReadableSpan {
  tracer.startActiveSpan('unit-of-work', (span) => {
    fn(span)
    span.end()
  })
  const spans = exporter.getFinishedSpans()
  return spans[spans.length - 1]!
}

const routeEvents = (span: ReadableSpan): Attributes[] => span.events.filter((e) => e.name === 'pindb.route').map((e) => e.attributes ?? {})

describe('spans', () => {
  it('a replica read, a write and the pinned read after it: one event each, attributes of the last', () => {
    const pindb = setup()
    const span = inSpan(() => pindb.run(() => {
      expect(pindb.route('read').alias).toBe('default-0')
      expect(pindb.route('write').alias).toBe('default')
      expect(pindb.route('read').alias).toBe('default')
    }))
    expect(routeEvents(span)).toEqual([
      { 'pindb.server': 'default-0', 'pindb.role': 'replica', 'pindb.reason': 'replica', 'pindb.db_set': 'default', 'pindb.intent': 'read', 'pindb.pinned': false },
      { 'pindb.server': 'default', 'pindb.role': 'primary', 'pindb.reason': 'write', 'pindb.db_set': 'default', 'pindb.intent': 'write', 'pindb.pinned': true },
      { 'pindb.server': 'default', 'pindb.role': 'primary', 'pindb.reason': 'pinned', 'pindb.db_set': 'default', 'pindb.intent': 'read', 'pindb.pinned': true },
    ])
    expect(span.attributes).toEqual({
      'pindb.server': 'default', 'pindb.role': 'primary', 'pindb.reason': 'pinned', 'pindb.db_set': 'default',
      'pindb.intent': 'read', 'pindb.pinned': true, 'pindb.decisions': 3,
    })
  })

  it('each span gets its own decisions: a child span active for one statement holds only that one', () => {
    const pindb = setup()
    let inner: ReadableSpan | undefined
    const outer = inSpan(() => pindb.run(() => {
      pindb.route('read')
      tracer.startActiveSpan('orm-operation', (span) => {
        pindb.route('write')
        span.end()
      })
      inner = exporter.getFinishedSpans().find((s) => s.name === 'orm-operation')
    }))
    expect(routeEvents(inner!).map((e) => e['pindb.reason'])).toEqual(['write'])
    expect(inner!.attributes['pindb.decisions']).toBe(1)
    expect(routeEvents(outer).map((e) => e['pindb.reason'])).toEqual(['replica'])
    expect(outer.attributes['pindb.reason']).toBe('replica')
  })

  it('a failover retry: the event names the failed replica, the span counts the attempt', () => {
    const pindb = setup()
    const span = inSpan(() => pindb.run(() => {
      expect(pindb.route('read').alias).toBe('default-0')
      seamOf(pindb).reportFailure('default-0') // what the adapters do when the replica dies, then they route the retry
      expect(pindb.route('read', {}, { exclude: new Set(['default-0']), reason: 'failover' }).alias).toBe('default-1')
    }))
    expect(routeEvents(span)[1]).toEqual({
      'pindb.server': 'default-1', 'pindb.role': 'replica', 'pindb.reason': 'failover', 'pindb.db_set': 'default',
      'pindb.intent': 'read', 'pindb.pinned': false, 'pindb.failover.from': 'default-0',
    })
    expect(span.attributes['pindb.failover.attempts']).toBe(1)
    expect(span.attributes['pindb.decisions']).toBe(2)
  })

  it('adapter decisions reported with emitRoute (a statement inside a transaction) are recorded too', () => {
    const pindb = setup()
    const span = inSpan(() => seamOf(pindb).emitRoute({ intent: 'read', alias: 'default', set: 'default', role: 'primary', reason: 'transaction' }, 'SELECT 1'))
    expect(routeEvents(span)).toEqual([expect.objectContaining({ 'pindb.reason': 'transaction', 'pindb.pinned': false })])
  })

  it('a checked-out client that wrote outside any unit of work reads its writes back pinned: pindb.pinned is true without a context pin', () => {
    const pindb = setup()
    // What the adapters route for such a client's reads (no unit of work holds a pin).
    const span = inSpan(() => pindb.route('read', {}, { force: 'primary', reason: 'pinned' }))
    expect(pindb.isPinned('default')).toBe(false)
    expect(routeEvents(span)).toEqual([expect.objectContaining({ 'pindb.server': 'default', 'pindb.reason': 'pinned', 'pindb.pinned': true })])
  })

  it('unmanaged aliases carry no DB set', () => {
    const pindb = setup({ unmanaged: { legacy: { host: 'l' } }, delegates: [{ dbForRead: () => 'legacy' }] })
    const span = inSpan(() => pindb.route('read'))
    expect(routeEvents(span)).toEqual([{ 'pindb.server': 'legacy', 'pindb.role': 'unmanaged', 'pindb.reason': 'unmanaged', 'pindb.intent': 'read', 'pindb.pinned': false }])
  })

  it('spans: { events: false } sets only attributes; { attributes: false } adds only events', () => {
    const a = setup({}, { spans: { events: false } })
    const attrsOnly = inSpan(() => a.route('read'))
    expect(attrsOnly.events).toEqual([])
    expect(attrsOnly.attributes['pindb.server']).toBe('default-0')
    instrumentations.splice(0).forEach((i) => i.disable())
    const b = setup({}, { spans: { attributes: false } })
    const eventsOnly = inSpan(() => b.route('read'))
    expect(eventsOnly.attributes).toEqual({})
    expect(routeEvents(eventsOnly)).toHaveLength(1)
  })

  it('does nothing to a span that is not recording, or when no span is active (metrics still count)', async () => {
    const pindb = setup()
    const calls: string[] = []
    const probe = {
      isRecording: () => false,
      spanContext: () => INVALID_SPAN_CONTEXT,
      addEvent: () => { calls.push('addEvent') },
      setAttributes: () => { calls.push('setAttributes') },
      setAttribute: () => { calls.push('setAttribute') },
    } as unknown as Span
    context.with(trace.setSpan(context.active(), probe), () => pindb.route('read'))
    offTracer.startActiveSpan('sampled-out', (span) => {
      pindb.route('read')
      span.end()
    })
    pindb.route('read')
    expect(calls).toEqual([])
    expect(exporter.getFinishedSpans()).toEqual([])
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.server': 'default-0' })).toBe(3)
  })
})

describe('metrics', () => {
  it('counts reads by role and reason, writes, and stale protections by reason', async () => {
    const pindb = setup({ maxLag: { ms: 100 } })
    // maxLag with no monitor: every replica's lag is unknown, so unpinned reads are "lagging" reads on the primary.
    pindb.run(() => {
      pindb.route('read')
      pindb.route('write')
      pindb.route('read')
      pindb.route('read')
    })
    pindb.servers.get('default-0').lagMs = 5
    pindb.run(() => pindb.route('read'))
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.reason': 'lagging' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.reason': 'pinned', 'pindb.role': 'primary', 'pindb.server': 'default', 'pindb.db_set': 'default' })).toBe(2)
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.reason': 'replica', 'pindb.role': 'replica', 'pindb.server': 'default-0' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.writes, { 'pindb.reason': 'write', 'pindb.server': 'default' })).toBe(1)
    const stale = await points(PINDB_METRICS.staleProtections)
    expect(stale.map((p) => [p.attributes['pindb.reason'], p.value]).sort()).toEqual([['lagging', 1], ['pinned', 2]])
  })

  it('causal and behind reads are stale protections', async () => {
    const pindb = setup({ causal: true })
    const position = '0/3000060'
    pindb.run(() => pindb.route('read'), { pins: [{ set: 'default', expiresAt: now + 5_000, position }] }) // no replica has replayed it: behind
    pindb.servers.get('default-1').position = '0/3000060'
    pindb.run(() => pindb.route('read'), { pins: [{ set: 'default', expiresAt: now + 5_000, position }] }) // default-1 has: causal
    const stale = await points(PINDB_METRICS.staleProtections)
    expect(stale.map((p) => [p.attributes['pindb.reason'], p.attributes['pindb.server'], p.value]).sort()).toEqual([['behind', 'default', 1], ['causal', 'default-1', 1]])
  })

  it('observes lag, staleness bound, replay positions, queries in flight, back-off and failovers from pindb.servers', async () => {
    const pindb = setup({ backoff: { baseMs: 1000, maxMs: 1000 } })
    const r0 = pindb.servers.get('default-0')
    Object.assign(r0, { lagMs: 12, lagBytes: 4096, position: '1/0000000A', caughtUpAt: now - 250 })
    pindb.servers.get('default-1').position = '0-1-42,1-2-7' // a GTID list, as a MariaDB monitor reports
    const done = seamOf(pindb).track('default')
    seamOf(pindb).track('default')
    seamOf(pindb).reportFailure('default-1')
    const at = (name: string, server: string) => valueOf(name, { 'pindb.server': server })
    expect(await at(PINDB_METRICS.replicaLag, 'default-0')).toBe(12)
    expect(await at(PINDB_METRICS.replicaLag, 'default-1')).toBeUndefined() // unknown: no point
    expect(await at(PINDB_METRICS.replicaLagBytes, 'default-0')).toBe(4096)
    expect(await at(PINDB_METRICS.replicaStaleness, 'default-0')).toBe(250)
    expect(await at(PINDB_METRICS.replicaReplayLsn, 'default-0')).toBe(2 ** 32 + 10)
    const gtid = await points(PINDB_METRICS.replicaReplayGtid)
    expect(gtid.map((p) => [p.attributes['pindb.server'], p.attributes['pindb.gtid_domain'], p.value])).toEqual([['default-1', 0, 42], ['default-1', 1, 7]])
    expect(await at(PINDB_METRICS.outstanding, 'default')).toBe(2)
    done()
    expect(await at(PINDB_METRICS.outstanding, 'default')).toBe(1)
    expect(await at(PINDB_METRICS.backoff, 'default-1')).toBe(1)
    expect(await at(PINDB_METRICS.backoff, 'default-0')).toBe(0)
    expect(await at(PINDB_METRICS.failures, 'default-1')).toBe(1)
    expect(await at(PINDB_METRICS.failovers, 'default-1')).toBe(1)
    expect(await at(PINDB_METRICS.failovers, 'default')).toBeUndefined() // primaries never fail over
    now += 1001
    expect(await at(PINDB_METRICS.backoff, 'default-1')).toBe(0) // back-off over
  })

  it('adds the `attributes` option to every metric point, not to spans', async () => {
    const pindb = setup({}, { attributes: { 'pindb.instance': 'orders' } })
    const span = inSpan(() => pindb.route('read'))
    expect(span.attributes['pindb.instance']).toBeUndefined()
    expect((await points(PINDB_METRICS.reads))[0]!.attributes).toEqual({
      'pindb.instance': 'orders', 'pindb.server': 'default-0', 'pindb.role': 'replica', 'pindb.reason': 'replica', 'pindb.db_set': 'default',
    })
    expect((await points(PINDB_METRICS.outstanding)).every((p) => p.attributes['pindb.instance'] === 'orders')).toBe(true)
  })

  it('counts rejected pin tokens and adds a span event', async () => {
    const pindb = setup()
    const codec = createPinCodec(pindb, ['0123456789abcdef0123456789abcdef'])
    const span = inSpan(() => runWithJobPins(pindb, codec, 'not-a-token', () => undefined))
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([['pindb.pin_token.rejected', { 'pindb.token.source': 'job', 'pindb.token.reason': 'malformed' }]])
    expect(await valueOf(PINDB_METRICS.tokenRejections, { 'pindb.token.reason': 'malformed' })).toBe(1)
  })
})

describe('loading @opentelemetry/api', () => {
  it('works with the module passed as `api`, and with the copy it loads itself (CommonJS build, sharing the ESM build\'s global context manager)', async () => {
    const pindb = setup({}, { api: await import('@opentelemetry/api') })
    expect(routeEvents(inSpan(() => pindb.route('read')))).toHaveLength(1)
    instrumentations.splice(0).forEach((i) => i.disable())
    instrumentations.push(instrumentPinDb(pindb, { meterProvider: meterProvider! })) // no `api`: require('@opentelemetry/api')
    expect(routeEvents(inSpan(() => pindb.route('read')))).toHaveLength(1)
  })
})

describe('instances and lifecycle', () => {
  it('regression: decisions of another pindb instance with the same aliases are not recorded (the pindb:route channel is process-wide)', async () => {
    const pindb = setup()
    const other = createPinDb({ primaries: { default: {} }, replicas: { default: [{}, {}] } })
    const span = inSpan(() => other.run(() => {
      other.route('read')
      other.route('write')
      pindb.route('read')
    }))
    expect(routeEvents(span)).toHaveLength(1)
    expect(await points(PINDB_METRICS.writes)).toEqual([])
    expect((await points(PINDB_METRICS.reads)).map((p) => p.value)).toEqual([1])
  })

  it('two instances on one MeterProvider, told apart by the `attributes` option, each count their own decisions', async () => {
    const orders = setup({}, { attributes: { 'pindb.instance': 'orders' } })
    const users = createPinDb({ primaries: { default: {} }, replicas: { default: [{}, {}] }, replicaChoice: ({ candidates }) => candidates[0]! })
    instrumentations.push(instrumentPinDb(users, { meterProvider: meterProvider!, attributes: { 'pindb.instance': 'users' }, tokens: false }))
    orders.run(() => orders.route('read'))
    users.run(() => { users.route('read'); users.route('read') })
    const track = seamOf(users).track('default-0')
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.instance': 'orders' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.instance': 'users' })).toBe(2)
    expect(await valueOf(PINDB_METRICS.outstanding, { 'pindb.instance': 'users', 'pindb.server': 'default-0' })).toBe(1)
    expect(await valueOf(PINDB_METRICS.outstanding, { 'pindb.instance': 'orders', 'pindb.server': 'default-0' })).toBe(0)
    track()
  })

  it('regression: a decision routed by another subscriber while an earlier one is being published is attributed, and so is the earlier one', async () => {
    // Both are reads of the same alias: when the nested one reaches us, the alias's read counter is
    // already 2. Jumping the seen count to the counter would then drop the outer decision as foreign.
    const pindb = setup()
    instrumentations.splice(0).forEach((i) => i.disable())
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel')
    let nested = false
    const reenter = (): void => {
      if (nested) return
      nested = true
      pindb.route('read')
    }
    subscribe('pindb:route', reenter) // before our subscriber, so the nested decision reaches us first
    try {
      instrumentations.push(instrumentPinDb(pindb, { meterProvider: meterProvider! }))
      const span = inSpan(() => pindb.run(() => pindb.route('read')))
      expect(routeEvents(span)).toHaveLength(2)
    } finally {
      unsubscribe('pindb:route', reenter)
    }
    expect(await valueOf(PINDB_METRICS.reads, { 'pindb.server': 'default-0' })).toBe(2)
  })

  it('disable() stops recording; close() disables; a second instrumentation of a live one throws', async () => {
    const pindb = setup()
    let err: unknown
    try {
      instrumentPinDb(pindb, { meterProvider: meterProvider! })
    } catch (e) {
      err = e
    }
    expect(isPinDbError(err) && err.code === 'PINDB_CONFIG' && err.message.startsWith('[pindb] [otel]')).toBe(true)
    instrumentations[0]!.disable()
    instrumentations[0]!.disable() // idempotent
    const span = inSpan(() => pindb.route('read'))
    expect(span.events).toEqual([])
    expect(await points(PINDB_METRICS.reads)).toEqual([])
    expect(await points(PINDB_METRICS.outstanding)).toEqual([])
    const again = instrumentPinDb(pindb, { meterProvider: meterProvider! })
    await pindb.close()
    expect(inSpan(() => pindb.route('read')).events).toEqual([])
    again.disable()
    instrumentations.push(instrumentPinDb(pindb, { meterProvider: meterProvider! })) // allowed again after close disabled it
  })

  it('validates options, naming the option', () => {
    const pindb = createPinDb({ primaries: { default: {} }, replicas: { default: [] } })
    const bad: [unknown, string][] = [
      [{ spans: 'yes' }, 'spans'],
      [{ spans: { events: 1 } }, 'spans'],
      [{ metrics: 'no' }, 'metrics'],
      [{ meterProvider: {} }, 'meterProvider'],
      [{ attributes: [] }, 'attributes'],
      [{ tracerProvider: {} }, 'tracerProvider'],
      [{ api: { trace: {} } }, 'api'],
    ]
    for (const [options, option] of bad) {
      expect(() => instrumentPinDb(pindb, options as InstrumentPinDbOptions)).toThrow(PinDbConfigError)
      try {
        instrumentPinDb(pindb, options as InstrumentPinDbOptions)
      } catch (e) {
        expect((e as PinDbConfigError).option).toBe(option)
      }
    }
    expect(() => instrumentPinDb({} as PinDb)).toThrow(PinDbConfigError)
  })
})
