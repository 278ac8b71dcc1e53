/**
 * {@link instrumentPinDb}: routing decisions on OpenTelemetry spans, and pindb's counters, lag and
 * back-off as OpenTelemetry metrics.
 *
 * @module
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { PinDbError } from '../errors.js'
import { TOKEN_CHANNEL } from '../jobs.js'
import type { PinDb } from '../pindb.js'
import { ROUTE_CHANNEL, type RouteEvent } from '../route-event.js'
import { otelApi } from './api.js'
import { DecisionAttributeCache } from './decision-attributes.js'
import { validateOptions, type InstrumentPinDbOptions } from './options.js'
import { OwnDecisions } from './own-decisions.js'
import { RouteMetrics } from './route-metrics.js'
import { observeServers } from './server-metrics.js'
import { SpanRecorder } from './span-recorder.js'
import { tokenRecorder } from './token-events.js'
import { seamOf } from '../adapter/seam.js'

/** A running instrumentation, returned by {@link instrumentPinDb}. */
export interface PinDbInstrumentation {
  /** Stops recording: unsubscribes from pindb's channels and stops observing `pindb.servers`. Idempotent. */
  disable(): void
}

/** Reasons that say the read followed a pin even when no unit of work holds one (a checked-out client that wrote). */
const PINNED_REASONS = new Set(['pinned', 'causal', 'behind'])
const active = new WeakSet<object>()

/**
 * Records pindb's routing on OpenTelemetry: each routed statement's decision on the active span
 * (a `pindb.route` span event, and `pindb.*` attributes), and metrics — reads, writes and
 * stale-read protections by reason, failovers, queries in flight, back-off, replica lag and
 * replay position. Does nothing per statement when no span is recording beyond counting it.
 *
 * Call it after the OpenTelemetry SDK is registered (or pass `meterProvider`): spans are read from
 * the global context at each decision, the meter is taken once.
 *
 * @throws `PinDbConfigError` for a bad option; {@link PinDbError} `PINDB_CONFIG` when this
 * instance is already instrumented (call `disable()` on the first one), `PINDB_DRIVER_MISSING`
 * when `@opentelemetry/api` is not installed.
 *
 * @example
 * ```ts
 * import { instrumentPinDb } from 'pindb/otel'
 * const otel = instrumentPinDb(pindb)            // global tracer context and meter provider
 * // … on shutdown: otel.disable()
 * ```
 */
export function instrumentPinDb(pindb: PinDb<object>, options: InstrumentPinDbOptions = {}): PinDbInstrumentation {
  const opts = validateOptions(pindb, options)
  const api = otelApi(options.api)
  if (active.has(pindb)) {
    throw new PinDbError('PINDB_CONFIG', '[otel] instrumentPinDb(pindb): this pindb instance is already instrumented. ' +
      'Call disable() on the first instrumentation, or send its metrics to several exporters through one MeterProvider.')
  }
  const extra = Object.freeze({ ...opts.attributes })
  const meter = opts.metrics ? (opts.meterProvider ?? api.metrics.getMeterProvider()).getMeter('pindb') : undefined
  const own = new OwnDecisions(pindb)
  const cache = new DecisionAttributeCache(extra)
  const routeMetrics = meter === undefined ? undefined : new RouteMetrics(meter, api)
  const spans = opts.spans.events || opts.spans.attributes ? new SpanRecorder(opts.spans) : undefined

  const onRoute = (message: unknown): void => {
    const event = message as RouteEvent
    if (!own.owns(event)) return
    try {
      const failover = event.reason === 'failover'
      const failedFrom = failover ? own.failedReplica(event.set) : undefined
      const attrs = cache.get(event)
      routeMetrics?.record(event, attrs.metric)
      if (spans === undefined) return
      const span = api.trace.getActiveSpan()
      if (span === undefined || !span.isRecording()) return
      const pinned = PINNED_REASONS.has(event.reason) || (event.set !== undefined && pindb.isPinned(event.set))
      spans.record(span, attrs.span, pinned, failover, failedFrom)
    } catch (err) {
      warnOnce(err)
    }
  }
  const onToken = opts.tokens ? tokenRecorder(api, meter, spans !== undefined, extra) : undefined
  const stopObserving = meter === undefined ? undefined : observeServers(meter, api, pindb, extra)
  subscribe(ROUTE_CHANNEL, onRoute)
  if (onToken !== undefined) subscribe(TOKEN_CHANNEL, onToken)
  active.add(pindb)

  let enabled = true
  const disable = (): void => {
    if (!enabled) return
    enabled = false
    unsubscribe(ROUTE_CHANNEL, onRoute)
    if (onToken !== undefined) unsubscribe(TOKEN_CHANNEL, onToken)
    stopObserving?.()
    unregisterClose()
    active.delete(pindb)
  }
  const unregisterClose = seamOf(pindb).onClose(disable)
  return { disable }
}

let warned = false
function warnOnce(err: unknown): void {
  if (warned) return
  warned = true
  process.emitWarning(`[pindb] [otel] recording a routing decision failed (later failures are not reported): ${err instanceof Error ? err.message : String(err)}`, 'PinDbWarning')
}
