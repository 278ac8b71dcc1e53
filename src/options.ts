/**
 * `createPinDb` options: their types, defaults and validation (once, at construction).
 *
 * @module
 */
import { PINDB_OPTIONS_SCHEMA } from './config/schemas.js'
import { describeValue } from './config/describe.js'
import { validateOptions } from './config/validate.js'
import { PinDbConfigError } from './errors.js'
import type { ReplicaChoice } from './replica-choice.js'
import type { BackoffOptions } from './server-state.js'
import type { ReplicaOverrides } from './topology.js'
import type { RouteEvent } from './route-event.js'
import type { UnscopedWrites } from './unscoped-write.js'

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
  /**
   * A write routed outside any unit of work (no `pindb.run`, middleware or job wrapper around it)
   * leaves no pin, so the next request may read stale data. `'warn'` (default): one process
   * warning `PINDB_UNSCOPED_WRITE`, and a `pindb:unscoped-write` diagnostics-channel event every
   * time. `'throw'`: throw a `PinDbError` (`PINDB_UNSCOPED_WRITE`). `'ignore'`: neither.
   */
  unscopedWrites?: UnscopedWrites
  /** Called for every routing decision. Prefer `node:diagnostics_channel` channel `pindb:route` for tracing. */
  onRoute?: (event: RouteEvent) => void
  /** Epoch-ms clock, injectable for tests. Default `Date.now`. */
  clock?: () => number
  /** Uniform random source in [0, 1), injectable for tests. Default `Math.random`. */
  random?: () => number
}

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
  readonly unscopedWrites: UnscopedWrites
  readonly backoff: Required<BackoffOptions>
  readonly onRoute: ((event: RouteEvent) => void) | undefined
  readonly clock: () => number
  readonly random: () => number
}

/**
 * @internal Validates every option (nested ones included) against {@link PINDB_OPTIONS_SCHEMA},
 * then applies the defaults. The user's object is not changed.
 * @throws {@link PinDbConfigError} naming the option path, the expected type and the fix.
 */
export function normalizeOptions(options: PinDbOptions<object>): NormalizedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PinDbConfigError('options', `createPinDb needs an options object with \`primaries\` and \`replicas\`; got ${describeValue(options)}.`)
  }
  validateOptions(PINDB_OPTIONS_SCHEMA, options, { where: 'createPinDb' })
  const enabledOpt = options.enabled ?? true
  const causal = options.causal ?? false
  const backoff = options.backoff ?? {}
  const pinSeconds = options.pinSeconds ?? 15
  return Object.freeze({
    mode: options.mode ?? 'greedy',
    delegates: Object.freeze([...(options.delegates ?? [])]),
    enabled: typeof enabledOpt === 'function' ? () => Boolean(enabledOpt()) : () => enabledOpt,
    pinSeconds,
    pinMs: pinSeconds * 1000,
    causal: causal !== false,
    causalWaitMs: typeof causal === 'object' ? causal.waitMs ?? 0 : 0,
    maxLagMs: options.maxLag?.ms,
    maxLagBytes: options.maxLag?.bytes,
    noReplica: options.noReplica ?? 'primary',
    unscopedWrites: options.unscopedWrites ?? 'warn',
    backoff: { baseMs: backoff.baseMs ?? 1000, maxMs: backoff.maxMs ?? 30_000 },
    onRoute: options.onRoute,
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
  })
}
