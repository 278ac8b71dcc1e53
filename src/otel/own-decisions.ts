/**
 * Tells one pindb instance's route events apart from other instances' on the process-wide
 * `pindb:route` channel, whose events do not name their instance.
 *
 * It relies on how the router publishes: it increments the alias's `reads` / `writes` counter in
 * `pindb.servers` and then publishes, synchronously, to every subscriber. So an event is this
 * instance's exactly when that counter is ahead of the events seen so far for the alias; another
 * instance's event (even with the same alias names) leaves this instance's counters unchanged.
 * Consuming one count per event (rather than jumping to the counter) keeps re-entrant decisions —
 * a subscriber that routes a statement while handling an event — attributed correctly.
 *
 * @module
 */
import type { PinDb } from '../pindb.js'
import type { RouteEvent } from '../route-event.js'
import type { ServerCounters } from '../server-state.js'

interface Seen {
  readonly counters: ServerCounters
  reads: number
  writes: number
  failovers: number
}

/** @internal See the module comment. */
export class OwnDecisions {
  readonly #seen = new Map<string, Seen>()
  readonly #sets: ReadonlyMap<string, readonly string[]>

  constructor(pindb: PinDb<object>) {
    this.#sets = pindb.topology.sets
    for (const s of pindb.servers.all()) {
      const { reads, writes, failovers } = s.counters
      this.#seen.set(s.alias, { counters: s.counters, reads, writes, failovers })
    }
  }

  /** True when this instance published `event` (call once per event, in publication order). */
  owns(event: RouteEvent): boolean {
    if (typeof event !== 'object' || event === null) return false
    const seen = this.#seen.get(event.alias)
    if (seen === undefined) return false
    if (event.intent === 'read') {
      if (seen.counters.reads <= seen.reads) return false
      seen.reads++
      return true
    }
    if (event.intent !== 'write' || seen.counters.writes <= seen.writes) return false
    seen.writes++
    return true
  }

  /**
   * At a `failover` decision for `set`: the replica whose failure count rose since the last such
   * call, when exactly one did (the adapters report the failure and route the retry in one
   * synchronous step, so normally exactly one did). Call on every failover decision.
   */
  failedReplica(set: string | undefined): string | undefined {
    if (set === undefined) return undefined
    let failed: string | undefined
    let count = 0
    for (const alias of this.#sets.get(set) ?? []) {
      const seen = this.#seen.get(alias)
      if (seen === undefined || seen.counters.failovers === seen.failovers) continue
      seen.failovers = seen.counters.failovers
      failed = alias
      count++
    }
    return count === 1 ? failed : undefined
  }
}
