/**
 * The options of {@link instrumentPinDb}, validated once (a typo throws, naming the option).
 *
 * @module
 */
import type { Attributes, MeterProvider } from '@opentelemetry/api'
import { PinDbConfigError } from '../errors.js'
import type { PinDb } from '../pindb.js'
import type { instrumentPinDb } from './instrument.js'
import type { SpanRecording } from './span-recorder.js'

/** An OpenTelemetry `MeterProvider` (typed structurally, so these types need no `@opentelemetry/api`). */
export interface MeterProviderLike {
  /** Returns a `Meter`. */
  getMeter(name: string, version?: string, options?: object): object
}

/** An OpenTelemetry attribute value. */
export type AttributeValueLike = string | number | boolean | readonly string[] | readonly number[] | readonly boolean[]

/** Options of {@link instrumentPinDb}. */
export interface InstrumentPinDbOptions {
  /** Where metrics go. Default: the global one (`metrics.getMeterProvider()` at the time of the call). */
  meterProvider?: MeterProviderLike
  /** Record metrics. Default `true`. */
  metrics?: boolean
  /**
   * Record decisions on the active span: `true` (default) for a `pindb.route` event per decision
   * plus span attributes describing the last one; `false` for none; or choose with
   * `{ events?, attributes? }` (each defaults to `true`).
   */
  spans?: boolean | { events?: boolean; attributes?: boolean }
  /** Record `pindb:token` problems (a metric and a span event). Process-wide: enable it on one instrumentation only. Default `true`. */
  tokens?: boolean
  /** Attributes added to every metric point, e.g. `{ 'pindb.instance': 'orders' }` to tell several instances apart. */
  attributes?: Readonly<Record<string, AttributeValueLike>>
  /**
   * The `@opentelemetry/api` module (`import * as api from '@opentelemetry/api'`). Default: loaded
   * on the first call; pass it where `require` cannot find it (some bundles).
   */
  api?: object
}

const KNOWN_OPTIONS = new Set(['meterProvider', 'metrics', 'spans', 'tokens', 'attributes', 'api'])

/** @internal Options after validation and defaults. */
export interface Validated {
  readonly meterProvider: MeterProvider | undefined
  readonly metrics: boolean
  readonly spans: SpanRecording
  readonly tokens: boolean
  readonly attributes: Attributes
}

/** @internal Validates {@link instrumentPinDb}'s arguments. */
export function validateOptions(pindb: PinDb<object>, options: InstrumentPinDbOptions): Validated {
  const p = pindb as Partial<PinDb<object>> | null
  if (typeof p !== 'object' || p === null || typeof p.route !== 'function' || typeof p.servers?.all !== 'function') {
    throw new PinDbConfigError('instrumentPinDb(pindb)', 'expects the instance createPinDb() returned.')
  }
  if (typeof options !== 'object' || options === null) throw new PinDbConfigError('instrumentPinDb(pindb, options)', 'options must be an object.')
  for (const key of Object.keys(options)) {
    if (key === 'tracerProvider') {
      throw new PinDbConfigError(key, 'instrumentPinDb starts no spans, so it takes no tracer provider: it annotates the span active in the ' +
        'global OpenTelemetry context when a statement is routed. Remove the option; register a context manager (the SDK does).')
    }
    if (!KNOWN_OPTIONS.has(key)) throw new PinDbConfigError(key, `unknown instrumentPinDb option. Known: ${[...KNOWN_OPTIONS].join(', ')}.`)
  }
  const { spans = true } = options
  const meterProvider = options.meterProvider as MeterProvider | undefined
  const attributes = (options.attributes ?? {}) as Attributes
  if (meterProvider !== undefined && typeof (meterProvider as Partial<MeterProvider> | null)?.getMeter !== 'function') {
    throw new PinDbConfigError('meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter()).')
  }
  const flag = (name: 'metrics' | 'tokens'): boolean => {
    const value = options[name]
    if (value !== undefined && typeof value !== 'boolean') throw new PinDbConfigError(name, `must be a boolean; got ${typeof value}.`)
    return value ?? true
  }
  let recording: SpanRecording
  if (typeof spans === 'boolean') recording = { events: spans, attributes: spans }
  else if (typeof spans === 'object' && spans !== null && [spans.events, spans.attributes].every((v) => v === undefined || typeof v === 'boolean')) {
    recording = { events: spans.events ?? true, attributes: spans.attributes ?? true }
  } else {
    throw new PinDbConfigError('spans', 'must be true, false or { events?: boolean, attributes?: boolean }.')
  }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new PinDbConfigError('attributes', 'must be an object of OpenTelemetry attribute values.')
  }
  return { meterProvider, metrics: flag('metrics'), spans: Object.freeze(recording), tokens: flag('tokens'), attributes }
}
