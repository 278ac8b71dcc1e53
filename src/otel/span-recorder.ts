/**
 * Puts routing decisions on the span that is active when a statement is routed: the app's or the
 * ORM's span (a driver span such as `@opentelemetry/instrumentation-pg`'s starts after routing, as
 * a child of it). Several statements may share that span (a request span, an ORM operation that
 * runs three queries), so each decision is a span event, and the span's attributes describe the
 * last decision plus a count of decisions and failover retries.
 *
 * @module
 */
import type { Attributes, Span } from '@opentelemetry/api'
import { PINDB_ATTRIBUTES as A, PINDB_EVENTS } from './names.js'

interface Tally {
  decisions: number
  failovers: number
}

/** @internal What to record on spans. */
export interface SpanRecording {
  readonly attributes: boolean
  readonly events: boolean
}

/** @internal See the module comment. */
export class SpanRecorder {
  readonly #tallies = new WeakMap<Span, Tally>()
  readonly #recording: SpanRecording

  constructor(recording: SpanRecording) {
    this.#recording = recording
  }

  /** Records one decision on a recording span. `failedFrom` is set on failover retries when known. */
  record(span: Span, decision: Attributes, pinned: boolean, failover: boolean, failedFrom: string | undefined): void {
    if (this.#recording.events) {
      const event: Attributes = { ...decision, [A.pinned]: pinned }
      if (failedFrom !== undefined) event[A.failoverFrom] = failedFrom
      span.addEvent(PINDB_EVENTS.route, event)
    }
    if (!this.#recording.attributes) return
    let tally = this.#tallies.get(span)
    if (tally === undefined) this.#tallies.set(span, (tally = { decisions: 0, failovers: 0 }))
    tally.decisions++
    if (failover) tally.failovers++
    const attrs: Attributes = { ...decision, [A.pinned]: pinned, [A.decisions]: tally.decisions }
    if (tally.failovers > 0) attrs[A.failoverAttempts] = tally.failovers
    span.setAttributes(attrs)
  }
}
