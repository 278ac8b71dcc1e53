/**
 * Loads the optional peer `@opentelemetry/api` when {@link instrumentPinDb} is first called, so
 * that importing `pindb/otel` never fails and its types do not need the package. Any copy of the
 * API works: it keeps the registered context manager and providers on a global symbol, shared by
 * its CommonJS and ESM builds and by duplicate installs of the same major version.
 *
 * @module
 */
import { createRequire } from 'node:module'
import type * as OtelApiModule from '@opentelemetry/api'
import { PinDbConfigError, PinDbError } from '../errors.js'

/** @internal The parts of `@opentelemetry/api` that `pindb/otel` uses. */
export type OtelApi = Pick<typeof OtelApiModule, 'trace' | 'metrics' | 'ValueType'>

let required: OtelApi | undefined

function isApi(mod: unknown): mod is OtelApi {
  const m = mod as Partial<Record<keyof OtelApi, Record<string, unknown>>> | null
  return typeof m === 'object' && m !== null && typeof m.trace?.['getActiveSpan'] === 'function' &&
    typeof m.metrics?.['getMeterProvider'] === 'function' && typeof m.ValueType?.['INT'] === 'number'
}

/** @internal The module passed as `api`, or `@opentelemetry/api` loaded once. */
export function otelApi(given: unknown): OtelApi {
  if (given !== undefined) {
    if (!isApi(given)) throw new PinDbConfigError('api', "must be the @opentelemetry/api module (import * as api from '@opentelemetry/api').")
    return given
  }
  if (required !== undefined) return required
  let mod: unknown
  try {
    mod = createRequire(import.meta.url)('@opentelemetry/api')
  } catch (cause) {
    throw new PinDbError('PINDB_DRIVER_MISSING', '[otel] could not load "@opentelemetry/api". Install it (`npm install @opentelemetry/api`) ' +
      "or pass `{ api }` (import * as api from '@opentelemetry/api') to instrumentPinDb().", { cause })
  }
  if (!isApi(mod)) {
    throw new PinDbError('PINDB_DRIVER_MISSING', '[otel] "@opentelemetry/api" loaded but lacks trace, metrics or ValueType: install @opentelemetry/api 1.3 or later, ' +
      "or pass `{ api }` (import * as api from '@opentelemetry/api') to instrumentPinDb().")
  }
  return (required = mod)
}
