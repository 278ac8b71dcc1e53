/**
 * Counters fed by routing decisions: reads and writes by server, role, reason and DB set, and
 * the reads that routing protected from stale data.
 *
 * @module
 */
import type { Attributes, Counter, Meter } from '@opentelemetry/api'
import type { RouteEvent } from '../route-event.js'
import type { OtelApi } from './api.js'
import { PINDB_METRICS as M, STALE_PROTECTION_REASONS } from './names.js'

const STALE: ReadonlySet<string> = new Set(STALE_PROTECTION_REASONS)

/** @internal See the module comment. */
export class RouteMetrics {
  readonly #reads: Counter
  readonly #writes: Counter
  readonly #stale: Counter

  constructor(meter: Meter, api: OtelApi) {
    const valueType = api.ValueType.INT
    this.#reads = meter.createCounter(M.reads, {
      description: 'Reads routed by pindb, by server, role, reason and DB set.',
      unit: '{read}',
      valueType,
    })
    this.#writes = meter.createCounter(M.writes, {
      description: 'Writes routed by pindb, by server, role, reason and DB set.',
      unit: '{write}',
      valueType,
    })
    this.#stale = meter.createCounter(M.staleProtections, {
      description: 'Reads routed to avoid stale data: pinned (primary), causal (a replica known to have replayed the write), behind and lagging (primary).',
      unit: '{read}',
      valueType,
    })
  }

  /** Counts one decision; `attrs` are its metric attributes. */
  record(event: RouteEvent, attrs: Attributes): void {
    if (event.intent === 'write') {
      this.#writes.add(1, attrs)
      return
    }
    this.#reads.add(1, attrs)
    if (STALE.has(event.reason)) this.#stale.add(1, attrs)
  }
}
