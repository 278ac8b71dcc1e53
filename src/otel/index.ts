/**
 * `pindb/otel`: pindb's routing decisions on OpenTelemetry spans, and its counters, replica lag
 * and back-off as OpenTelemetry metrics. Needs the optional peer `@opentelemetry/api`, loaded when
 * {@link instrumentPinDb} is first called (importing this entry does not need it); no other entry
 * uses it. See `docs/observability.md` for every attribute and metric.
 *
 * @example
 * ```ts
 * import { instrumentPinDb } from 'pindb/otel'
 * const otel = instrumentPinDb(pindb, { attributes: { 'pindb.instance': 'orders' } })
 * ```
 *
 * @module
 */
export { instrumentPinDb, type PinDbInstrumentation } from './instrument.js'
export type { InstrumentPinDbOptions, MeterProviderLike, AttributeValueLike } from './options.js'
export { PINDB_ATTRIBUTES, PINDB_EVENTS, PINDB_METRICS, STALE_PROTECTION_REASONS } from './names.js'
