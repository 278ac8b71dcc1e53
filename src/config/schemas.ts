/**
 * The option schemas of `createPinDb` and of every routed pool (`createPgPool`, the mysql2 and
 * postgres.js pools), checked by {@link validateOptions}. `docs/configuration.md` documents each.
 *
 * @module
 */
import type { FieldSpec, Schema } from './validate.js'

/** Longest delay Node's timers accept (a larger one fires after 1 ms). */
export const TIMER_MAX_MS = 2_147_483_647

const positiveMs: FieldSpec = { type: 'number', min: 0, exclusiveMin: true, max: TIMER_MAX_MS }

/** `monitor: { intervalMs, timeoutMs }` of a routed pool. */
export const MONITOR_OPTIONS_SCHEMA: Schema = {
  intervalMs: { ...positiveMs, example: '1000' },
  timeoutMs: { ...positiveMs, example: '1000' },
}

/** `liveness` of a routed pool: how long a caller may wait on a dead or hung server. */
export const LIVENESS_OPTIONS_SCHEMA: Schema = {
  connectTimeoutMs: { ...positiveMs, example: '2000' },
  probeAfterMs: { ...positiveMs, example: '1000' },
  probeTimeoutMs: { ...positiveMs, example: '1000' },
  recoverEveryMs: { ...positiveMs, example: '500' },
}

/** The options every routed pool shares: `set`, `writeFunctions`, `monitor`, `liveness`. Adapters spread it into their own schema. */
export const ROUTED_POOL_OPTIONS_SCHEMA: Schema = {
  set: { type: 'string', nonEmpty: true, example: "'default'" },
  writeFunctions: { type: 'array', items: { type: 'string', nonEmpty: true, expected: 'a non-empty string (a function name)' }, example: "['audit_log']" },
  monitor: { type: ['boolean', 'object'], nested: MONITOR_OPTIONS_SCHEMA, expected: 'true, false or { intervalMs, timeoutMs } (positive milliseconds)', example: '{ intervalMs: 1000 }' },
  liveness: { type: 'object', nested: LIVENESS_OPTIONS_SCHEMA, expected: '{ connectTimeoutMs, probeAfterMs, probeTimeoutMs, recoverEveryMs } (positive milliseconds)' },
}

function delegateProblem(value: unknown): string | undefined {
  const d = value as Record<string, unknown>
  const methods = ['dbForRead', 'dbForWrite'] as const
  for (const m of methods) {
    if (d[m] !== undefined && typeof d[m] !== 'function') return `\`${m}\` must be a function (hints) => alias | undefined.`
  }
  if (methods.every((m) => d[m] === undefined)) {
    return 'a delegate needs a `dbForRead` or `dbForWrite` method (hints) => alias | undefined; this one has neither (check the spelling).'
  }
  return undefined
}

/** The options of `createPinDb`. */
export const PINDB_OPTIONS_SCHEMA: Schema = {
  primaries: { type: 'object', required: true, expected: 'an object { set: connection config }', example: "{ default: { host: 'db-primary' } }" },
  replicas: { type: 'object', required: true, expected: 'an object { set: [replica override, …] }', example: "{ default: [{ host: 'db-replica-1' }] }" },
  unmanaged: { type: 'object', expected: 'an object { alias: connection config }' },
  unmanagedDefault: { type: 'boolean' },
  mode: { type: 'string', enum: ['greedy', 'strict'] },
  delegates: { type: 'array', items: { type: 'object', openObject: true, expected: 'an object { dbForRead?, dbForWrite? }', check: delegateProblem } },
  enabled: { type: ['boolean', 'function'], expected: 'a boolean or a function returning one' },
  pinSeconds: { type: 'number', min: 0, exclusiveMin: true, example: '15' },
  replicaChoice: {
    type: ['string', 'function', 'object'],
    enum: ['round-robin', 'random', 'least-outstanding'],
    nested: { weights: { type: 'object', required: true, values: { type: 'number', min: 0 } } },
    expected: "'round-robin' | 'random' | 'least-outstanding' | { weights: { alias: n } } | a function",
  },
  causal: {
    type: ['boolean', 'object'],
    nested: { waitMs: { type: 'number', min: 0, max: TIMER_MAX_MS, example: '50' } },
    expected: 'true, false or { waitMs } (milliseconds ≥ 0)',
  },
  maxLag: {
    type: 'object',
    nested: { ms: { type: 'number', min: 0, example: '1000' }, bytes: { type: 'number', min: 0, example: '16_000_000' } },
    requireOneOf: ['ms', 'bytes'],
    expected: 'an object { ms?, bytes? } with at least one of them',
    example: '{ ms: 1000 }',
  },
  noReplica: { type: 'string', enum: ['primary', 'throw'] },
  backoff: {
    type: 'object',
    nested: { baseMs: { ...positiveMs, example: '1000' }, maxMs: { ...positiveMs, example: '30000' } },
    check: (value) => {
      const b = value as { baseMs?: number; maxMs?: number }
      return (b.baseMs ?? 1000) > (b.maxMs ?? 30_000) ? `\`baseMs\` (${b.baseMs ?? 1000}) is larger than \`maxMs\` (${b.maxMs ?? 30_000}); raise \`maxMs\` or lower \`baseMs\`.` : undefined
    },
  },
  unscopedWrites: { type: 'string', enum: ['warn', 'throw', 'ignore'] },
  onRoute: { type: 'function' },
  clock: { type: 'function' },
  random: { type: 'function' },
}
