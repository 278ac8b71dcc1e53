/**
 * Where a query went, and why: the routing decision, published on the `node:diagnostics_channel`
 * channel {@link ROUTE_CHANNEL} (only when someone subscribes) and to the `onRoute` hook.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('pindb:route', (event) => console.log(event))
 * ```
 * @module
 */
import { channel } from 'node:diagnostics_channel'
import type { AliasRole } from './topology.js'

/**
 * Why a query went where it did.
 * - `replica`: an unpinned read, sent to the context's replica.
 * - `pinned`: a read of a pinned set, sent to its primary.
 * - `causal`: a read of a pinned set with a known position, sent to a replica that has replayed it.
 * - `behind`: a causal read sent to the primary because no replica was known to have caught up.
 * - `no-replicas`: the set has no replicas.
 * - `unavailable`: every replica is down (in back-off); read sent to the primary.
 * - `lagging`: every available replica lags more than `maxLag` (or its lag is unknown).
 * - `override`: inside `withPrimary` / `withUnpinnedReplica`.
 * - `write`: a write, sent to the set's primary.
 * - `disabled`: pindb's kill switch is off.
 * - `unmanaged`: an unmanaged alias, passed through.
 * - `failover`: a retry of a read after its server failed.
 * - `refused`: a read a replica refused as a write (a function that writes), re-run on the primary.
 * - `transaction`, `session`, `hint`: adapter decisions (an open transaction, connection-bound session state, a SQL hint comment).
 */
export type RouteReason =
  | 'replica' | 'pinned' | 'causal' | 'behind' | 'no-replicas' | 'unavailable' | 'lagging'
  | 'override' | 'write' | 'disabled' | 'unmanaged' | 'failover' | 'refused' | 'transaction' | 'session' | 'hint'

/** One routing decision. */
export interface RouteDecision {
  /** What the caller asked for. */
  readonly intent: 'read' | 'write'
  /** The alias to use. */
  readonly alias: string
  /** The DB set (primary alias), or undefined for an unmanaged alias. */
  readonly set: string | undefined
  /** The chosen alias's role. */
  readonly role: AliasRole
  /** Why. */
  readonly reason: RouteReason
  /**
   * Provisional decisions only (never published): a causal read may wait up to `timeoutMs` for
   * replica `alias` to replay `position`, then must be routed again with `noWait`.
   */
  readonly waitFor?: { readonly alias: string; readonly position: string; readonly timeoutMs: number }
}

/** What subscribers receive: the decision, plus the SQL when an adapter routed a statement. */
export interface RouteEvent extends RouteDecision {
  readonly sql?: string
}

/** Name of the diagnostics channel pindb publishes {@link RouteEvent}s on. */
export const ROUTE_CHANNEL = 'pindb:route'

/** @internal */
export const routeChannel = channel(ROUTE_CHANNEL)
