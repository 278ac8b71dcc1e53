/**
 * The replica monitor: off the query path, once per interval, it reads the primary's position and
 * each replica's replay position (one short query per server), and records in `pindb.servers`
 * each replica's position, lag in time, lag in bytes (PostgreSQL) and health. Causal reads and
 * `maxLag` rely on it; a replica that answers again leaves its failover back-off at once.
 *
 * Lag in time is measured against a history of the primary's positions: a replica at position
 * P lags by at least the time since the primary was first seen past P (`lagMs`, for `maxLag`) and
 * by at most the time since the primary was last seen at or below P (`caughtUpAt`, for causal
 * mode's safety bound). Unlike `now() - last replay timestamp`, this reads 0 on an idle system and
 * is not fooled by WAL that carries no commit.
 *
 * @module
 */
import { MONITOR_OPTIONS_SCHEMA } from '../config/schemas.js'
import { validateOptions } from '../config/validate.js'
import type { PinDb } from '../pindb.js'
import { positionReached } from '../position.js'
import { seamOf } from '../adapter/seam.js'

/** Reads positions for one dialect. */
export interface PositionProbe {
  /** The primary's current position (PostgreSQL insert LSN, MariaDB `@@gtid_binlog_pos`). */
  primaryPosition(set: string): Promise<string>
  /** A replica's replay position (`pg_last_wal_replay_lsn()`, `@@gtid_slave_pos`). */
  replicaPosition(alias: string): Promise<string>
  /** Bytes between two positions, when the dialect has a byte measure (PostgreSQL). */
  bytesBetween?(behind: string, ahead: string): number | undefined
}

/** Monitor options, validated against `MONITOR_OPTIONS_SCHEMA` (`src/config/schemas.ts`). */
export interface MonitorOptions {
  /** Time between checks, ms. Default 1000 (the "at most 1 s"). */
  intervalMs?: number
  /** A check slower than this counts as failed, ms. Default: the interval. */
  timeoutMs?: number
}

interface Sample {
  readonly position: string
  /** When the primary was first observed at this position (the query's send time). */
  readonly at: number
  /** When it was last observed at it. */
  lastSeen: number
}

const HISTORY = 600

/** Monitors the replicas of some DB sets; see the module comment. */
export class ReplicaMonitor {
  readonly #pindb: PinDb<object>
  readonly #probe: PositionProbe
  readonly #sets: readonly string[]
  readonly #intervalMs: number
  readonly #timeoutMs: number
  readonly #history = new Map<string, Sample[]>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  /** @throws `PinDbConfigError` for an unknown option or an interval / timeout that is not a positive number of ms (≤ 2147483647). */
  constructor(pindb: PinDb<object>, probe: PositionProbe, sets: readonly string[], options: MonitorOptions = {}) {
    validateOptions(MONITOR_OPTIONS_SCHEMA, options, { path: 'monitor', where: 'the replica monitor' })
    this.#pindb = pindb
    this.#probe = probe
    this.#sets = sets.filter((set) => (pindb.topology.sets.get(set)?.length ?? 0) > 0)
    this.#intervalMs = options.intervalMs ?? 1000
    this.#timeoutMs = options.timeoutMs ?? this.#intervalMs
  }

  /** Starts checking (the first check runs at once). Resolves after the first check. */
  start(): Promise<void> {
    if (this.#timer !== undefined || this.#stopped) return this.#running ?? Promise.resolve()
    const first = this.checkNow()
    this.#timer = setInterval(() => void this.checkNow(), this.#intervalMs)
    this.#timer.unref()
    return first
  }

  /** Runs one check of every set now (skipped while a check is already running). */
  checkNow(): Promise<void> {
    if (this.#running !== undefined) return this.#running
    this.#running = Promise.all(this.#sets.map((set) => this.#check(set))).then(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Stops checking; waits for a running check to finish. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }

  async #check(set: string): Promise<void> {
    const pindb = this.#pindb
    const clock = pindb.options.clock
    let primary: string | undefined
    try {
      // Stamped with the send time: everything committed before it is at or below the position read.
      const sentAt = clock()
      primary = await this.#timed(this.#probe.primaryPosition(set))
      const history = this.#history.get(set) ?? []
      const last = history[history.length - 1]
      if (last !== undefined && last.position === primary) last.lastSeen = sentAt
      else history.push({ position: primary, at: sentAt, lastSeen: sentAt })
      if (history.length > HISTORY) history.splice(0, history.length - HISTORY)
      this.#history.set(set, history)
    } catch {
      // Without the primary's position, lag cannot be measured this round; replica positions still can.
    }
    await Promise.all(pindb.topology.sets.get(set)!.map(async (alias) => {
      const state = pindb.servers.get(alias)
      try {
        const position = await this.#timed(this.#probe.replicaPosition(alias))
        state.position = position
        state.checkedAt = clock()
        state.lagMs = this.#lagMs(set, position, primary)
        state.caughtUpAt = this.#caughtUpAt(set, position)
        state.lagBytes = primary === undefined ? undefined : this.#probe.bytesBetween?.(position, primary)
        seamOf(pindb).reportSuccess(alias)
      } catch {
        state.lagMs = undefined
        state.lagBytes = undefined
        state.caughtUpAt = undefined
        seamOf(pindb).reportFailure(alias)
      }
    }))
  }

  #lagMs(set: string, replica: string, primary: string | undefined): number | undefined {
    if (primary === undefined) return undefined
    if (positionReached(replica, primary)) return 0
    // The oldest primary sample the replica has not reached: it has been behind since then. If
    // it has not even reached the oldest sample we hold, the lag cannot be bounded: unknown
    // (which maxLag treats as lagging).
    const history = this.#history.get(set) ?? []
    for (let i = 0; i < history.length; i++) {
      const sample = history[i]!
      if (!positionReached(replica, sample.position)) return i === 0 ? undefined : Math.max(0, this.#pindb.options.clock() - sample.at)
    }
    return 0
  }

  /** The last time the primary was seen at a position the replica has replayed (upper bound of its lag). */
  #caughtUpAt(set: string, replica: string): number | undefined {
    const history = this.#history.get(set) ?? []
    for (let i = history.length - 1; i >= 0; i--) {
      const sample = history[i]!
      if (positionReached(replica, sample.position)) return sample.lastSeen
    }
    return undefined
  }

  #timed<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('[pindb] monitor check timed out')), this.#timeoutMs)
      timer.unref()
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }
}
