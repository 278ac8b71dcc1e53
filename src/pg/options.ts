/**
 * Validation of `pindb/pg`'s options at construction: pindb's own (`set`, `writeFunctions`,
 * `monitor`, `liveness`, `createPool`) by the shared schema, and every other key against what a
 * `pg.Pool` / `pg.Client` config may hold — so a typo (`monitr: true`) throws instead of passing
 * silently into pg, which ignores unknown keys.
 *
 * @module
 */
import { ROUTED_POOL_OPTIONS_SCHEMA } from '../config/schemas.js'
import { validateOptions, type FieldSpec, type Schema } from '../config/validate.js'
import { CLIENT_KEYS, POOL_KEYS } from './physical.js'

const any: FieldSpec = { type: ['string', 'number', 'boolean', 'function', 'object', 'array'] }

const PG_SCHEMA: Schema = {
  pg: { type: ['object', 'function'], expected: "the `pg` module (import pg from 'pg')" },
  ...ROUTED_POOL_OPTIONS_SCHEMA,
  createPool: { type: 'function', expected: 'a function (alias, config) => pg.Pool' },
  max: { type: 'number', integer: true, min: 1 },
  connectionTimeoutMillis: { type: 'number', min: 0 },
  idleTimeoutMillis: { type: 'number', min: 0 },
  ...Object.fromEntries([...POOL_KEYS, ...CLIENT_KEYS].filter((k) => !['max', 'connectionTimeoutMillis', 'idleTimeoutMillis'].includes(k)).map((k) => [k, any])),
}

/** Throws `PinDbConfigError` for an unknown key or a wrong type among `pindb/pg`'s options. */
export function validatePgOptions(options: Record<string, unknown>, where: string): void {
  const defined: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) if (value !== undefined && value !== null) defined[key] = value
  validateOptions(PG_SCHEMA, defined, { where })
}
