/**
 * Pin token problems (`pindb:token`: a rejected cookie, header or job token; pins that could not
 * be written) as a counter and as span events on the active span. Token events are process-wide:
 * they do not name a pindb instance.
 *
 * @module
 */
import type { Attributes, Counter, Meter } from '@opentelemetry/api'
import type { TokenRejectedEvent } from '../jobs.js'
import type { OtelApi } from './api.js'
import { PINDB_ATTRIBUTES as A, PINDB_EVENTS, PINDB_METRICS as M } from './names.js'

/** @internal Records `pindb:token` events; `meter` undefined: spans only. */
export function tokenRecorder(api: OtelApi, meter: Meter | undefined, spans: boolean, extra: Attributes): (message: unknown) => void {
  const counter: Counter | undefined = meter?.createCounter(M.tokenRejections, {
    description: 'Pin tokens rejected (cookie, header, job) or not written (response, job), process-wide.',
    unit: '{token}',
    valueType: api.ValueType.INT,
  })
  return (message) => {
    const event = message as TokenRejectedEvent
    if (typeof event !== 'object' || event === null || typeof event.reason !== 'string' || typeof event.source !== 'string') return
    const attrs: Attributes = { [A.tokenSource]: event.source, [A.tokenReason]: event.reason }
    counter?.add(1, { ...extra, ...attrs })
    if (!spans) return
    const span = api.trace.getActiveSpan()
    if (span !== undefined && span.isRecording()) span.addEvent(PINDB_EVENTS.tokenRejected, attrs)
  }
}
