/**
 * `createPinDb` options: their types, defaults and validation (once, at construction).
 *
 * @module
 */
import { PinDbConfigError } from './errors.js'
import type { ReplicaChoice } from './replica-choice.js'
import type { BackoffOptions } from './server-state.js'
import type { ReplicaOverrides } from './topology.js'
import type { RouteEvent } from './route-event.js'

/** What routing is told about a query, passed to the delegates. Any extra keys are passed through. */
export interface RouteHints {
  /** A model or entity name, as your delegates understand it. */
  model?: unknown
  /** The table the statement touches, when known. */
  table?: string
  /** The SQL text, when routing a statement. */
  sql?: string
  readonly [key: string]: unknown
}

/**
 * Chooses the DB set (a primary alias) or an unmanaged alias for a query — django-pindb's delegate
 * routers. Return `undefined`/`null`/`''` for "no opinion"; the first answer wins, `'default'` when
 * none answers. Returning a replica alias is allowed: it is mapped to its primary.
 */
export interface Delegate {
  dbForRead?(hints: RouteHints): string | null | undefined
  dbForWrite?(hints: RouteHints): string | null | undefined
}

/** Options of {@link createPinDb}. `C` is your connection config type (a pg `PoolConfig`, mysql2 options, …). */
export interface PinDbOptions<C extends object = Record<string, unknown>> {
  /** DB set name (primary alias) → the primary's connection config. Must include `default` unless `unmanagedDefault`. */
  primaries: Readonly<Record<string, C>>
  /** DB set name → replica overrides, shallow-merged over the primary's config. `[]` for a set without replicas. */
  replicas: ReplicaOverrides<C>
  /** Databases pindb passes through untouched: never replica-routed, never pinned, writes always allowed. */
  unmanaged?: Readonly<Record<string, C>>
  /** Allow no `default` primary; then `default` should be an unmanaged alias. Default false. */
  unmanagedDefault?: boolean
  /**
   * `'greedy'` (default): a write pins its set. `'strict'`: a write to a set the unit of work has
   * not pinned throws {@link UnpinnedWriteError} before reaching any server.
   */
  mode?: 'strict' | 'greedy'
  /** Choose the DB set per query; see {@link Delegate}. Default: everything is `default`. */
  delegates?: readonly Delegate[]
  /**
   * Kill switch, read on every routing decision: when false every route returns the delegates'
   * primary, never a replica; nothing throws or pins. Default true.
   */
  enabled?: boolean | (() => boolean)
  /** How long a new pin lasts when carried to later units of work (cookie, header, job). Default 15. */
  pinSeconds?: number
  /** How a context picks its replica. Default `'round-robin'` across contexts. */
  replicaChoice?: ReplicaChoice
  /**
   * Causal reads: a pin that carries the primary's replication position lets reads of that set go
   * to a replica known (from a replica monitor) to have replayed it; otherwise to the primary, or —
   * with `{ waitMs }` — the read first waits up to `waitMs` on a replica for that position
   * (MariaDB `MASTER_GTID_WAIT`, PostgreSQL polling `pg_last_wal_replay_lsn()`). Default false:
   * pinned reads always go to the primary.
   *
   * Unless `maxLag` is set, causal mode also keeps every read off a monitored replica that lags
   * more than `pinSeconds`: a unit of work whose last write is older than that carries no pin, so
   * only such a replica could serve it stale data. Causal reads then have no stale window at all.
   */
  causal?: boolean | { waitMs?: number }
  /**
   * Exclude replicas whose measured lag exceeds this (time in ms, bytes for PostgreSQL). Unknown
   * lag counts as lagging. Needs a replica monitor. With `causal` and no `maxLag`, monitored
   * replicas lagging more than `pinSeconds` are excluded.
   */
  maxLag?: { ms?: number; bytes?: number }
  /** When every replica of a set is excluded: read from the primary (default) or throw {@link NoReplicaAvailableError}. */
  noReplica?: 'primary' | 'throw'
  /** Back-off for a replica that refused a connection or died mid-query. */
  backoff?: BackoffOptions
  /** Called for every routing decision. Prefer `node:diagnostics_channel` channel `pindb:route` for tracing. */
  onRoute?: (event: RouteEvent) => void
  /** Epoch-ms clock, injectable for tests. Default `Date.now`. */
  clock?: () => number
  /** Uniform random source in [0, 1), injectable for tests. Default `Math.random`. */
  random?: () => number
}

const KNOWN_OPTIONS = new Set([
  'primaries', 'replicas', 'unmanaged', 'unmanagedDefault', 'mode', 'delegates', 'enabled', 'pinSeconds',
  'replicaChoice', 'causal', 'maxLag', 'noReplica', 'backoff', 'onRoute', 'clock', 'random',
])

/** @internal Options after validation and defaults. */
export interface NormalizedOptions {
  readonly mode: 'strict' | 'greedy'
  readonly delegates: readonly Delegate[]
  readonly enabled: () => boolean
  readonly pinMs: number
  readonly pinSeconds: number
  readonly causal: boolean
  readonly causalWaitMs: number
  readonly maxLagMs: number | undefined
  readonly maxLagBytes: number | undefined
  readonly noReplica: 'primary' | 'throw'
  readonly backoff: Required<BackoffOptions>
  readonly onRoute: ((event: RouteEvent) => void) | undefined
  readonly clock: () => number
  readonly random: () => number
}

function positive(option: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new PinDbConfigError(option, `must be a finite number ${allowZero ? '≥ 0' : '> 0'}; got ${String(value)}.`)
  }
  return value
}

function fn<T>(option: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw new PinDbConfigError(option, `must be a function; got ${typeof value}.`)
  return value as T
}

/** @internal */
export function normalizeOptions(options: PinDbOptions<object>): NormalizedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PinDbConfigError('options', 'createPinDb needs an options object with `primaries` and `replicas`.')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new PinDbConfigError(key, `is not a pindb option. Known options: ${[...KNOWN_OPTIONS].join(', ')}.`)
    }
  }
  const mode = options.mode ?? 'greedy'
  if (mode !== 'strict' && mode !== 'greedy') throw new PinDbConfigError('mode', `must be 'strict' or 'greedy'; got ${JSON.stringify(mode)}.`)
  const delegates = options.delegates ?? []
  if (!Array.isArray(delegates)) throw new PinDbConfigError('delegates', 'must be an array of { dbForRead?, dbForWrite? } objects.')
  delegates.forEach((d: unknown, i) => {
    const ok = typeof d === 'object' && d !== null &&
      ['dbForRead', 'dbForWrite'].every((m) => (d as Record<string, unknown>)[m] === undefined || typeof (d as Record<string, unknown>)[m] === 'function')
    if (!ok) throw new PinDbConfigError(`delegates[${i}]`, 'must be an object whose optional dbForRead / dbForWrite are functions.')
  })
  const enabledOpt = options.enabled ?? true
  if (typeof enabledOpt !== 'boolean' && typeof enabledOpt !== 'function') {
    throw new PinDbConfigError('enabled', 'must be a boolean or a function returning one.')
  }
  const enabled = typeof enabledOpt === 'function' ? () => Boolean(enabledOpt()) : () => enabledOpt
  const pinSeconds = positive('pinSeconds', options.pinSeconds, 15)
  const maxLag = options.maxLag
  if (maxLag !== undefined && (typeof maxLag !== 'object' || maxLag === null)) {
    throw new PinDbConfigError('maxLag', 'must be an object like { ms: 1000 } or { ms: 1000, bytes: 16_000_000 }.')
  }
  if (options.causal !== undefined && typeof options.causal !== 'boolean' && (typeof options.causal !== 'object' || options.causal === null)) {
    throw new PinDbConfigError('causal', 'must be true, false, or { waitMs: number }.')
  }
  if (options.unmanagedDefault !== undefined && typeof options.unmanagedDefault !== 'boolean') {
    throw new PinDbConfigError('unmanagedDefault', 'must be a boolean.')
  }
  if (options.backoff !== undefined && (typeof options.backoff !== 'object' || options.backoff === null)) {
    throw new PinDbConfigError('backoff', 'must be an object like { baseMs: 1000, maxMs: 30000 }.')
  }
  const noReplica = options.noReplica ?? 'primary'
  if (noReplica !== 'primary' && noReplica !== 'throw') throw new PinDbConfigError('noReplica', "must be 'primary' or 'throw'.")
  const backoff = options.backoff ?? {}
  return Object.freeze({
    mode,
    delegates: Object.freeze([...delegates]),
    enabled,
    pinSeconds,
    pinMs: pinSeconds * 1000,
    causal: options.causal === true || (typeof options.causal === 'object' && options.causal !== null),
    causalWaitMs: typeof options.causal === 'object' && options.causal !== null ? positive('causal.waitMs', options.causal.waitMs, 0, true) : 0,
    maxLagMs: maxLag?.ms === undefined ? undefined : positive('maxLag.ms', maxLag.ms, 0, true),
    maxLagBytes: maxLag?.bytes === undefined ? undefined : positive('maxLag.bytes', maxLag.bytes, 0, true),
    noReplica,
    backoff: {
      baseMs: positive('backoff.baseMs', backoff.baseMs, 1000),
      maxMs: positive('backoff.maxMs', backoff.maxMs, 30_000),
    },
    onRoute: fn('onRoute', options.onRoute, undefined),
    clock: fn('clock', options.clock, Date.now),
    random: fn('random', options.random, Math.random),
  })
}
