/**
 * The routing rules: which alias serves a read or a write, given the DB set the delegates chose,
 * the unit of work's pins, the active overrides, the mode and what is known about each replica.
 *
 * @module
 */
import { findOverride, type ContextStore, type PinContext } from './context.js'
import { NoReplicaAvailableError, PinDbConfigError, UnpinnedWriteError } from './errors.js'
import type { NormalizedOptions, RouteHints } from './options.js'
import { positionReached } from './position.js'
import type { ReplicaChooser } from './replica-choice.js'
import { routeChannel, type RouteDecision, type RouteReason } from './route-event.js'
import type { ServerRegistry } from './server-state.js'
import { onUnscopedWrite } from './unscoped-write.js'
import { roleOf, type Topology } from './topology.js'

/** Options an adapter passes when routing one statement. */
export interface RouteOptions {
  /** Aliases that already failed for this statement: choose another (failover). */
  exclude?: ReadonlySet<string>
  /** SQL text, for route events only. */
  sql?: string
  /** Report this reason instead of the computed one (adapters: `transaction`, `session`, `hint`, `failover`). */
  reason?: RouteReason
  /** Route within this DB set, skipping the delegates (a pool tied to one set). */
  set?: string
  /**
   * Reads only: force the target. `'primary'`: the set's primary without pinning (connection-bound
   * session state, a `pindb:primary` hint). `'replica'`: a replica even if the set is pinned (a
   * `pindb:replica` hint), unless a `withPrimary` scope covers the set.
   */
  force?: 'primary' | 'replica'
  /** Causal reads: do not offer a wait (the adapter already waited). */
  noWait?: boolean
  /**
   * Outside a unit of work: the replica a checked-out connection already reads each set from, so
   * that one connection never alternates between replicas (used when still eligible).
   */
  prefer?: ReadonlyMap<string, string>
}

const NO_HINTS: RouteHints = Object.freeze({})

/** The replica a context reads a set from, or why there is none. */
export type ReplicaPick = { alias: string; none?: undefined } | { alias?: undefined; none: 'no-replicas' | 'unavailable' | 'lagging' }

/** @internal */
export class Router {
  readonly #topology: Topology
  readonly #options: NormalizedOptions
  readonly #store: ContextStore
  readonly #servers: ServerRegistry
  readonly #choose: ReplicaChooser
  /** Where a query goes when no delegate answers, resolved once (undefined: no `default` alias). */
  readonly #default: { readonly alias: string; readonly set: string | undefined } | undefined

  constructor(topology: Topology, options: NormalizedOptions, store: ContextStore, servers: ServerRegistry, choose: ReplicaChooser) {
    this.#topology = topology
    this.#options = options
    this.#store = store
    this.#servers = servers
    this.#choose = choose
    const role = roleOf(topology, 'default')
    this.#default = role === undefined ? undefined : Object.freeze(role === 'unmanaged' ? { alias: 'default', set: undefined } : { alias: 'default', set: 'default' })
  }

  /** Maps any known alias to its DB set (replicas to their primary); undefined for unmanaged; throws for unknown. */
  setOf(alias: string, option: string): string | undefined {
    if (typeof alias !== 'string') throw new PinDbConfigError(option, `expects an alias string; got ${typeof alias}.`)
    const role = roleOf(this.#topology, alias)
    if (role === 'primary') return alias
    if (role === 'replica') return this.#topology.replicaToSet.get(alias)
    if (role === 'unmanaged') return undefined
    throw new PinDbConfigError(option, `"${alias}" is not a known alias. Known DB sets: ${[...this.#topology.sets.keys()].join(', ')}` +
      `${this.#topology.unmanaged.size ? `; unmanaged: ${[...this.#topology.unmanaged].join(', ')}` : ''}.`, { code: 'PINDB_UNKNOWN_ALIAS' })
  }

  /** Asks the delegates which alias a query belongs to (`'default'` when none answers). */
  resolve(intent: 'read' | 'write', hints: RouteHints): { alias: string; set: string | undefined } {
    if (this.#options.delegates.length === 0 && this.#default !== undefined) return this.#default
    let answer: unknown
    for (const delegate of this.#options.delegates) {
      answer = intent === 'read' ? delegate.dbForRead?.(hints) : delegate.dbForWrite?.(hints)
      if (answer !== undefined && answer !== null && answer !== '') break
    }
    const alias = answer === undefined || answer === null || answer === '' ? 'default' : answer
    if (typeof alias !== 'string') {
      throw new PinDbConfigError('delegates', `a delegate's ${intent === 'read' ? 'dbForRead' : 'dbForWrite'} returned ${typeof alias}; return an alias string or undefined.`)
    }
    if (alias === 'default' && roleOf(this.#topology, alias) === undefined) {
      throw new PinDbConfigError('delegates', 'no delegate chose a database for this query and there is no "default" alias. Make a delegate answer, or define "default".')
    }
    const role = roleOf(this.#topology, alias)
    if (role === undefined) {
      throw new PinDbConfigError('delegates', `a delegate returned "${alias}", which is not a primary, replica or unmanaged alias.`, { code: 'PINDB_UNKNOWN_ALIAS' })
    }
    if (role === 'unmanaged') return { alias, set: undefined }
    // A replica alias (e.g. the server an entity was loaded from) is routed as its set: django-pindb sent such writes to the replica.
    const set = role === 'replica' ? this.#topology.replicaToSet.get(alias)! : alias
    return { alias: set, set }
  }

  #fixed(alias: string): { alias: string; set: string | undefined } {
    const set = this.setOf(alias, 'set')
    return { alias: set ?? alias, set }
  }

  route(intent: 'read' | 'write', hints: RouteHints = NO_HINTS, opts?: RouteOptions): RouteDecision {
    const resolved = opts?.set === undefined ? this.resolve(intent, hints) : this.#fixed(opts.set)
    const { alias, set } = resolved
    const decision = set === undefined
      ? { intent, alias, set, role: 'unmanaged' as const, reason: 'unmanaged' as const }
      : intent === 'read' ? this.#read(set, opts) : this.#write(set, opts)
    if (decision.waitFor !== undefined) return decision
    return this.emit(opts?.reason === undefined ? decision : { ...decision, reason: opts.reason }, opts?.sql)
  }

  /** Counts a decision and publishes it to subscribers. */
  emit(decision: RouteDecision, sql: string | undefined): RouteDecision {
    const counters = this.#servers.get(decision.alias).counters
    if (decision.intent === 'read') counters.reads++
    else counters.writes++
    if (routeChannel.hasSubscribers || this.#options.onRoute) {
      const event = sql === undefined ? decision : { ...decision, sql }
      if (routeChannel.hasSubscribers) routeChannel.publish(event)
      this.#options.onRoute?.(event)
    }
    return decision
  }

  #primary(intent: 'read' | 'write', set: string, reason: RouteReason): RouteDecision {
    return { intent, alias: set, set, role: 'primary', reason }
  }

  #read(set: string, opts: RouteOptions | undefined): RouteDecision {
    if (!this.#options.enabled()) return this.#primary('read', set, 'disabled')
    const scope = this.#store.current()
    const override = findOverride(scope?.overrides, set)
    if (override?.kind === 'primary') return this.#primary('read', set, 'override')
    if (opts?.force === 'primary') return this.#primary('read', set, 'hint')
    const ctx = scope?.ctx
    const pin = override === undefined && opts?.force !== 'replica' ? ctx?.pins.get(set) : undefined
    if (pin !== undefined) {
      const position = pin.position
      if (!this.#options.causal || position === undefined || pin.positionPending === true) return this.#primary('read', set, 'pinned')
      const caughtUp = this.pickReplica(set, ctx, opts?.exclude, (alias) => positionReached(this.#servers.get(alias).position, position), true, opts?.prefer)
      if (caughtUp.alias !== undefined) return { intent: 'read', alias: caughtUp.alias, set, role: 'replica', reason: 'causal' }
      const waitMs = this.#options.causalWaitMs
      const candidate = waitMs > 0 && opts?.noWait !== true ? this.pickReplica(set, ctx, opts?.exclude, undefined, true, opts?.prefer).alias : undefined
      return candidate === undefined
        ? this.#primary('read', set, 'behind')
        : { ...this.#primary('read', set, 'behind'), waitFor: { alias: candidate, position, timeoutMs: waitMs } }
    }
    const replica = this.pickReplica(set, ctx, opts?.exclude, undefined, false, opts?.prefer)
    if (replica.alias !== undefined) {
      return { intent: 'read', alias: replica.alias, set, role: 'replica', reason: override !== undefined ? 'override' : opts?.force === 'replica' ? 'hint' : 'replica' }
    }
    if (replica.none !== 'no-replicas' && this.#options.noReplica === 'throw') {
      throw new NoReplicaAvailableError(set, replica.none === 'lagging' ? 'every replica lags more than maxLag or has unknown lag' : 'every replica is down')
    }
    return this.#primary('read', set, replica.none)
  }

  /** Strict mode: throws as {@link Router.route} would for a write, without publishing or pinning. */
  assertWritable(hints: RouteHints = NO_HINTS, opts?: RouteOptions): void {
    if (this.#options.mode !== 'strict' || !this.#options.enabled()) return
    const { set } = opts?.set === undefined ? this.resolve('write', hints) : this.#fixed(opts.set)
    if (set === undefined) return
    const scope = this.#store.current()
    const override = findOverride(scope?.overrides, set)
    if (override?.kind === 'primary') return
    if (override?.kind === 'replica' || scope?.ctx?.pins.has(set) !== true) throw new UnpinnedWriteError(set)
  }

  #write(set: string, opts: RouteOptions | undefined): RouteDecision {
    if (!this.#options.enabled()) return this.#primary('write', set, 'disabled')
    const scope = this.#store.current()
    const override = findOverride(scope?.overrides, set)
    if (override?.kind === 'primary') return this.#primary('write', set, 'override')
    const ctx = scope?.ctx
    if (this.#options.mode === 'strict') {
      if (override?.kind === 'replica' || ctx?.pins.has(set) !== true) throw new UnpinnedWriteError(set)
    } else if (ctx !== undefined) {
      pinSet(ctx, set)
    } else {
      onUnscopedWrite(this.#options.unscopedWrites, set, opts?.sql)
    }
    return this.#primary('write', set, 'write')
  }

  /**
   * The context's sticky replica for a set, re-chosen when it is no longer eligible; or why none
   * can serve. `accept` narrows eligibility further (causal reads); `exact` says the read checks the
   * replica's position itself, so causal mode's implicit lag bound (for pin-less reads) does not apply.
   */
  pickReplica(
    set: string,
    ctx: PinContext | undefined,
    exclude?: ReadonlySet<string>,
    accept?: (alias: string) => boolean,
    exact = false,
    prefer?: ReadonlyMap<string, string>,
  ): ReplicaPick {
    const replicas = this.#topology.sets.get(set)!
    if (replicas.length === 0) return { none: 'no-replicas' }
    const now = this.#options.clock()
    let sawAvailable = false
    const eligible = (alias: string): boolean => {
      if (exclude?.has(alias) === true || this.#servers.isDown(alias, now)) return false
      sawAvailable = true
      return !this.#lagging(alias, now, exact) && (accept === undefined || accept(alias))
    }
    const sticky = ctx?.chosenReplicas.get(set) ?? prefer?.get(set)
    if (sticky !== undefined && eligible(sticky)) return { alias: sticky }
    const candidates = replicas.filter(eligible)
    if (candidates.length === 0) return { none: sawAvailable ? 'lagging' : 'unavailable' }
    const choice = candidates.length === 1 ? candidates[0]! : this.#choose({
      set,
      candidates,
      random: this.#options.random,
      outstanding: (alias) => this.#servers.get(alias).outstanding,
    })
    if (!candidates.includes(choice)) {
      throw new PinDbConfigError('replicaChoice', `the custom strategy returned "${String(choice)}", which is not one of ${candidates.join(', ')}.`)
    }
    ctx?.choose(set, choice)
    return { alias: choice }
  }

  #lagging(alias: string, now: number, exact: boolean): boolean {
    const { maxLagMs, maxLagBytes } = this.#options
    const s = this.#servers.get(alias)
    if (maxLagMs === undefined && maxLagBytes === undefined) {
      if (exact) return false
      // Causal mode closes the gap a pin's expiry leaves: a unit of work whose last write is older
      // than the pin window carries no pin, so only a replica that may lack data older than the
      // window could serve it stale data. `caughtUpAt` bounds that from above: everything committed
      // before it is on the replica. Applies to monitored replicas (checkedAt > 0).
      return this.#options.causal && s.checkedAt > 0 && (s.caughtUpAt === undefined || now - s.caughtUpAt > this.#options.pinMs)
    }
    if (s.lagMs === undefined && s.lagBytes === undefined) return true
    if (maxLagMs !== undefined && (s.lagMs === undefined || s.lagMs > maxLagMs)) return true
    return maxLagBytes !== undefined && s.lagBytes !== undefined && s.lagBytes > maxLagBytes
  }
}

/** @internal Pins a set as new in a context, keeping any position already known. */
export function pinSet(ctx: PinContext, set: string): void {
  const pin = ctx.pins.get(set)
  if (pin === undefined) ctx.setPin(set, { newly: true })
  else pin.newly = true
}
