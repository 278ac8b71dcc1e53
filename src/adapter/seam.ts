/**
 * The adapter contract's core half: what a routed pool, client or monitor may ask of a pindb
 * instance. `PinDb` is the user's API; this is the adapters' — kept apart so that neither grows
 * members for the other (Kysely's `Kysely` vs `Driver`). The core owns every counter it exposes
 * here: adapters report facts (a write committed, a server failed) and never mutate state.
 *
 * @module
 */
import type { NormalizedOptions, RouteHints } from '../options.js'
import type { RouteDecision } from '../route-event.js'
import type { RouteOptions } from '../router.js'
import type { ServerRegistry } from '../server-state.js'
import type { Topology } from '../topology.js'

/** @internal The routing interface of one pindb instance, for adapters. */
export interface RoutingSeam {
  readonly topology: Topology<object>
  readonly servers: ServerRegistry
  readonly options: NormalizedOptions
  /** The current time, from the instance's clock. */
  now(): number
  /** Inside a unit of work? */
  readonly inContext: boolean
  /** Routes one statement (see `Router.route`). */
  route(intent: 'read' | 'write', hints: RouteHints | undefined, options?: RouteOptions): RouteDecision
  /** Strict mode: throws `UnpinnedWriteError` if a write with these hints would be refused (no event, no pin). */
  assertWritable(hints: RouteHints | undefined, options?: RouteOptions): void
  /** Counts and publishes a decision made without the routing rules (inside an open transaction). */
  emitRoute(decision: RouteDecision, sql?: string): void
  /** The primary's replication position after this unit of work's write to `set` (an adapter that learns it from the write). */
  notePosition(set: string, position: string): void
  /** A write to `set` committed in this unit of work (causal positions become pending). */
  noteWrite(set: string): void
  /**
   * A replica refused a read as a write (a function that writes): greedy mode pins the set for the
   * rest of the unit of work; strict mode throws `UnpinnedWriteError` unless the set is pinned.
   */
  refusedAsWrite(set: string, sql: string): void
  /** How to read a set's primary replication position. Returns an unregister function. */
  registerPositionSource(set: string, source: () => Promise<string | undefined>): () => void
  /** A server refused a connection, died or hung: one back-off step per outage. True when a new outage began. */
  reportFailure(alias: string): boolean
  /** A server answered: end its back-off. */
  reportSuccess(alias: string): void
  /** Starts counting a statement in flight on `alias`; the returned function stops (idempotent). */
  track(alias: string): () => void
  /** `fn`, bound to the current unit of work (pg-pool may call a waiter back from another caller's context). */
  bindToContext<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R
  /** Registers cleanup for `pindb.close()`. Returns an unregister function. */
  onClose(hook: () => Promise<void> | void): () => void
}

const seams = new WeakMap<object, RoutingSeam>()

/** @internal Called once by the `PinDb` constructor. */
export function registerSeam(pindb: object, seam: RoutingSeam): void {
  seams.set(pindb, seam)
}

/** @internal The adapter interface of a pindb instance. */
export function seamOf(pindb: object): RoutingSeam {
  const seam = seams.get(pindb)
  if (seam === undefined) throw new TypeError('[pindb] expected a pindb instance from createPinDb(); got something else.')
  return seam
}
