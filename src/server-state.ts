/**
 * What pindb knows about each server, shared by all contexts of one instance: failure back-off
 * (failover), queries in flight (least-outstanding choice), lag and replay position (reported by
 * a replica monitor), and per-target routing counters.
 *
 * @module
 */

/** Live facts about one alias. Read-only to users; updated by adapters and monitors. */
export interface ServerState {
  readonly alias: string
  /** Consecutive failures since the last success. */
  failures: number
  /** Epoch ms before which the server is skipped for reads (0 = available). */
  downUntil: number
  /** Queries in flight through pindb's adapters. */
  outstanding: number
  /** Replication lag in ms as last measured by a monitor; undefined = unknown. */
  lagMs: number | undefined
  /** Replication lag in bytes (PostgreSQL) as last measured; undefined = unknown. */
  lagBytes: number | undefined
  /** Last replay position reported by a monitor (PostgreSQL LSN or MariaDB GTID list). */
  position: string | undefined
  /**
   * The latest time (epoch ms) at which a monitor observed the primary at a position this replica
   * has replayed: everything committed before it is on the replica, so its lag is at most
   * `now - caughtUpAt`. Undefined when unknown.
   */
  caughtUpAt: number | undefined
  /** Epoch ms of the last monitor report; 0 = never. */
  checkedAt: number
  /** Routing counters. */
  readonly counters: ServerCounters
}

/** Routing counters of one alias. */
export interface ServerCounters {
  /** Reads routed here. */
  reads: number
  /** Writes routed here. */
  writes: number
  /** Reads that failed here with a connection error and were retried elsewhere. */
  failovers: number
}

/** Back-off policy for a server that refused a connection or died mid-query. */
export interface BackoffOptions {
  /** First back-off after a failure, ms. Default 1000. */
  baseMs?: number
  /** Longest back-off, ms. Default 30000. */
  maxMs?: number
}

/** Registry of {@link ServerState} for every alias of an instance (`pindb.servers`). */
export class ServerRegistry {
  readonly #states = new Map<string, ServerState>()
  readonly #baseMs: number
  readonly #maxMs: number

  constructor(aliases: Iterable<string>, backoff: Required<BackoffOptions>) {
    this.#baseMs = backoff.baseMs
    this.#maxMs = backoff.maxMs
    for (const alias of aliases) {
      this.#states.set(alias, {
        alias,
        failures: 0,
        downUntil: 0,
        outstanding: 0,
        lagMs: undefined,
        lagBytes: undefined,
        position: undefined,
        caughtUpAt: undefined,
        checkedAt: 0,
        counters: { reads: 0, writes: 0, failovers: 0 },
      })
    }
  }

  /** The live state of an alias (throws for an alias this instance does not have). */
  get(alias: string): ServerState {
    const state = this.#states.get(alias)
    if (state === undefined) throw new Error(`[pindb] internal: no server state for "${alias}"`)
    return state
  }

  /** Every alias's state. */
  all(): IterableIterator<ServerState> {
    return this.#states.values()
  }

  /**
   * A connection-level failure: skip the server for an exponentially growing back-off. One outage
   * is one step: failures reported while the server is already in back-off (every connection of a
   * pool failing at once) do not lengthen it. Returns true when this report started a new step.
   */
  fail(alias: string, now: number): boolean {
    const s = this.get(alias)
    if (s.downUntil > now) return false
    s.failures++
    s.downUntil = now + Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(s.failures - 1, 20))
    return true
  }

  /** The server answered: clear its back-off. */
  succeed(alias: string): void {
    const s = this.get(alias)
    if (s.failures !== 0 || s.downUntil !== 0) {
      s.failures = 0
      s.downUntil = 0
    }
  }

  /** Whether the alias is in back-off at time `now`. */
  isDown(alias: string, now: number): boolean {
    return this.get(alias).downUntil > now
  }
}
