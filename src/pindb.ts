/**
 * {@link createPinDb}: one pindb instance — its topology, pinning contexts and routing.
 *
 * @module
 */
import { registerSeam, type RoutingSeam } from './adapter/seam.js'
import { ContextStore, PinContext } from './context.js'
import { PinDbError, UnpinnedWriteError } from './errors.js'
import { normalizeOptions, type NormalizedOptions, type PinDbOptions, type RouteHints } from './options.js'
import type { PinRecord } from './pin-record.js'
import { isPosition, laterPosition } from './position.js'
import { createChooser } from './replica-choice.js'
import type { RouteDecision } from './route-event.js'
import { Router, pinSet, type RouteOptions } from './router.js'
import { ServerRegistry, type ServerState } from './server-state.js'
import { buildTopology, type Topology } from './topology.js'

/** Options of {@link PinDb.run}. */
export interface RunOptions {
  /** Pins carried in from an earlier unit of work (a request's cookie, a job's data). Expired and unknown ones are dropped. */
  pins?: readonly PinRecord[]
}

/** A pindb instance. Create one per process with {@link createPinDb}. */
export class PinDb<C extends object = Record<string, unknown>> {
  /** The validated DB sets, replica aliases, unmanaged aliases and every alias's config. */
  readonly topology: Topology<C>
  /** What pindb knows about each server (back-off, lag, position, counters). For adapters, monitors and dashboards. */
  readonly servers: ServerRegistry
  /** @internal */
  readonly options: NormalizedOptions
  readonly #store = new ContextStore()
  readonly #router: Router
  readonly #closeHooks = new Set<() => Promise<void> | void>()
  readonly #positionSources = new Map<string, () => Promise<string | undefined>>()

  /** @internal Use {@link createPinDb}. */
  constructor(options: PinDbOptions<C>) {
    this.options = normalizeOptions(options as PinDbOptions<object>)
    this.topology = buildTopology(options.primaries, options.replicas, options.unmanaged ?? {}, {
      ...(options.unmanagedDefault === undefined ? {} : { unmanagedDefault: options.unmanagedDefault }),
    })
    this.servers = new ServerRegistry(Object.keys(this.topology.databases), this.options.backoff)
    this.#router = new Router(this.topology, this.options, this.#store, this.servers, createChooser(options.replicaChoice ?? 'round-robin'))
    registerSeam(this, this.#seam())
  }

  /** The adapters' interface to this instance (see `src/adapter/seam.ts`): kept off the user's API. */
  #seam(): RoutingSeam {
    const self = this
    const known = (alias: string, api: string): void => {
      this.#router.setOf(alias, api)
    }
    return {
      topology: this.topology,
      servers: this.servers,
      options: this.options,
      now: this.options.clock,
      get inContext() { return self.inContext },
      route: (intent, hints, opts) => this.#router.route(intent, hints, opts),
      assertWritable: (hints, opts) => this.#router.assertWritable(hints, opts),
      emitRoute: (decision, sql) => { this.#router.emit(decision, sql) },
      notePosition: (set, position) => {
        const dbSet = this.#router.setOf(set, 'notePosition(set)')
        if (dbSet === undefined) return
        const pin = this.#store.current()?.ctx?.pins.get(dbSet)
        if (pin !== undefined && isPosition(position)) pin.position = laterPosition(pin.position, position)
      },
      noteWrite: (set) => {
        // With `causal`, the set's position becomes pending: its reads go to the primary until
        // settlePositions() (called by the middleware and job wrappers) fetches the position once.
        if (!this.options.causal) return
        const pin = this.#store.current()?.ctx?.pins.get(set)
        if (pin !== undefined) pin.positionPending = true
      },
      refusedAsWrite: (set, sql) => {
        const ctx = this.#store.current()?.ctx
        if (this.options.mode === 'strict') {
          if (ctx?.pins.has(set) !== true) throw new UnpinnedWriteError(set, sql)
        } else if (ctx !== undefined) {
          pinSet(ctx, set)
        }
      },
      registerPositionSource: (set, source) => {
        known(set, 'registerPositionSource(set)')
        this.#positionSources.set(set, source)
        return () => {
          if (this.#positionSources.get(set) === source) this.#positionSources.delete(set)
        }
      },
      reportFailure: (alias) => {
        known(alias, 'reportFailure(alias)')
        const began = this.servers.fail(alias, this.options.clock())
        if (this.topology.replicaToSet.has(alias)) this.servers.get(alias).counters.failovers++
        return began
      },
      reportSuccess: (alias) => {
        known(alias, 'reportSuccess(alias)')
        this.servers.succeed(alias)
      },
      track: (alias) => {
        known(alias, 'track(alias)')
        const state = this.servers.get(alias)
        state.outstanding++
        let done = false
        return () => {
          if (!done) {
            done = true
            state.outstanding--
          }
        }
      },
      bindToContext: (fn) => this.#store.bind(fn),
      onClose: (hook) => {
        this.#closeHooks.add(hook)
        return () => this.#closeHooks.delete(hook)
      },
    }
  }

  /** The flat `{ alias: config }` map, as {@link populateReplicas} builds it, plus unmanaged aliases. */
  get databases(): Readonly<Record<string, C>> {
    return this.topology.databases
  }

  /**
   * The DB set an alias belongs to: a primary is its own set, a replica maps to its primary,
   * an unmanaged alias gives undefined.
   * @throws {@link PinDbConfigError} for an alias pindb does not know.
   */
  dbSetOf(alias: string): string | undefined {
    return this.#router.setOf(alias, 'dbSetOf(alias)')
  }

  /** The DB-set mode. */
  get mode(): 'strict' | 'greedy' {
    return this.options.mode
  }

  /** Whether routing is on right now (the `enabled` kill switch). */
  get enabled(): boolean {
    return this.options.enabled()
  }

  /**
   * Runs `fn` (sync or async) as a fresh unit of work, with its own pins and replica choices,
   * and returns its result. Nothing leaks between runs, however they interleave.
   *
   * @example
   * ```ts
   * await pindb.run(async () => { await pool.query('insert …'); await pool.query('select …') })
   * ```
   */
  run<T>(fn: () => T, options: RunOptions = {}): T {
    const ctx = new PinContext()
    const carried = options.pins
    if (carried !== undefined && carried.length > 0) this.#carry(ctx, carried)
    return this.#store.runFresh(ctx, fn)
  }

  /** Restores carried pins into a new context: unknown sets and expired pins dropped, expiries clamped. */
  #carry(ctx: PinContext, carried: readonly PinRecord[]): void {
    const now = this.options.clock()
    for (const record of carried) {
      if (typeof record !== 'object' || record === null || typeof record.set !== 'string') continue
      if (!this.topology.sets.has(record.set) || !(record.expiresAt > now)) continue
      const expiresAt = Math.min(record.expiresAt, now + this.options.pinMs)
      ctx.setPin(record.set, {
        newly: false,
        carriedExpiresAt: expiresAt,
        ...(typeof record.position === 'string' && isPosition(record.position) ? { position: record.position } : {}),
      })
    }
  }

  /** True inside {@link PinDb.run} (or a middleware / job wrapper built on it). */
  get inContext(): boolean {
    return this.#store.current()?.ctx !== undefined
  }

  #requireContext(api: string): PinContext {
    const ctx = this.#store.current()?.ctx
    if (ctx === undefined) {
      throw new PinDbError('PINDB_NO_CONTEXT', `${api} needs a pinning context, and there is none here. ` +
        'Wrap the unit of work in pindb.run(fn), or install the middleware (pindb/express, pindb/fastify, pindb/fetch) or job wrapper (pindb/bullmq).')
    }
    return ctx
  }

  /**
   * Pins a DB set for the rest of this unit of work (and, through the middleware or job wrapper,
   * `pinSeconds` beyond it): its reads go to the primary, and strict mode allows its writes.
   * A replica alias pins its set.
   * @throws {@link PinDbError} `PINDB_NO_CONTEXT` outside a context; {@link PinDbConfigError} for an unknown or unmanaged alias.
   */
  pin(alias: string): void {
    const set = this.#router.setOf(alias, 'pin(alias)')
    if (set === undefined) {
      throw new PinDbError('PINDB_UNKNOWN_ALIAS', `pin("${alias}"): "${alias}" is unmanaged, so it always routes to itself and cannot be pinned. Pin a DB set instead.`)
    }
    pinSet(this.#requireContext(`pin("${alias}")`), set)
  }

  /** Forgets every pin and sticky replica choice of this unit of work. A no-op outside a context. */
  unpinAll(): void {
    this.#store.current()?.ctx?.clear()
  }

  /** Whether a set (or a replica's set) is pinned in this unit of work. Unmanaged aliases are never pinned. */
  isPinned(alias: string): boolean {
    const set = this.#router.setOf(alias, 'isPinned(alias)')
    return set !== undefined && this.#store.current()?.ctx?.pins.has(set) === true
  }

  /** Whether a set was pinned during this unit of work (a pin carried in from elsewhere is pinned but not new). */
  isNewlyPinned(alias: string): boolean {
    const set = this.#router.setOf(alias, 'isNewlyPinned(alias)')
    return set !== undefined && this.#store.current()?.ctx?.pins.get(set)?.newly === true
  }

  /** A copy of the pinned sets. */
  getPinned(): Set<string> {
    return new Set(this.#store.current()?.ctx?.pins.keys() ?? [])
  }

  /** A copy of the sets pinned during this unit of work. */
  getNewlyPinned(): Set<string> {
    const out = new Set<string>()
    for (const [set, pin] of this.#store.current()?.ctx?.pins ?? []) if (pin.newly) out.add(set)
    return out
  }

  /**
   * The replica this unit of work reads a set from: chosen once per context (monotonic reads),
   * spread across contexts by `replicaChoice`, skipping replicas that are down or lagging. The
   * primary when the set has no replica (or none is eligible); an unmanaged alias unchanged.
   * Ignores pins and the kill switch: it answers "which replica would be used".
   */
  getReplica(alias: string): string {
    const set = this.#router.setOf(alias, 'getReplica(alias)')
    if (set === undefined) return alias
    return this.#router.pickReplica(set, this.#store.current()?.ctx).alias ?? set
  }

  /** The alias a read should use (django-pindb's `db_for_read`). `hints` go to the delegates. */
  dbForRead(hints?: RouteHints): string {
    return this.#router.route('read', hints).alias
  }

  /**
   * The alias a write should use (django-pindb's `db_for_write`). Greedy: pins the set.
   * @throws {@link UnpinnedWriteError} in strict mode when the set is not pinned.
   */
  dbForWrite(hints?: RouteHints): string {
    return this.#router.route('write', hints).alias
  }

  /** The full routing decision (alias, set, role, reason, and its route event). Same rules as {@link PinDb.dbForRead} / {@link PinDb.dbForWrite}. */
  route(intent: 'read' | 'write', hints?: RouteHints, options?: RouteOptions): RouteDecision {
    return this.#router.route(intent, hints, options)
  }

  /**
   * Runs `fn` with reads and writes of a set going to its primary (django-pindb's `master()`):
   * strict mode allows writes, and writes inside leave no pin. Scoped to `fn`'s own async chain;
   * restores on return or throw; nests. An explicit `pin()` inside is kept.
   */
  withPrimary<T>(alias: string, fn: () => T): T {
    const set = this.#router.setOf(alias, 'withPrimary(alias)')
    return set === undefined ? fn() : this.#store.runWithOverride(set, 'primary', fn)
  }

  /**
   * Runs `fn` with reads of a set going to a replica even if it is pinned (django-pindb's
   * `unpinned_replica`). Strict writes inside throw; greedy writes inside pin as usual (the pin
   * lasts after `fn`). Scoped to `fn`'s own async chain; restores on return or throw; nests.
   */
  withUnpinnedReplica<T>(alias: string, fn: () => T): T {
    const set = this.#router.setOf(alias, 'withUnpinnedReplica(alias)')
    return set === undefined ? fn() : this.#store.runWithOverride(set, 'replica', fn)
  }

  /**
   * The live pins to carry to a later unit of work: carried pins keep their expiry, pins made in
   * this unit of work expire `pinSeconds` from now, expired ones are dropped. Empty when disabled
   * or outside a context.
   */
  capturePins(): PinRecord[] {
    const ctx = this.#store.current()?.ctx
    if (ctx === undefined || !this.options.enabled()) return []
    const now = this.options.clock()
    const out: PinRecord[] = []
    for (const [set, pin] of ctx.pins) {
      const expiresAt = pin.newly ? now + this.options.pinMs : pin.carriedExpiresAt ?? 0
      if (expiresAt <= now) continue
      // A pending position is older than the last write: carry the pin without it (reads go to the primary).
      const position = pin.positionPending === true ? undefined : pin.position
      out.push(position === undefined ? { set, expiresAt } : { set, expiresAt, position })
    }
    return out.sort((a, b) => (a.set < b.set ? -1 : a.set > b.set ? 1 : 0))
  }

  /**
   * Fetches the primary position of every set written in this unit of work whose position is
   * pending — one round trip per such set, however many writes it had — so that
   * {@link PinDb.capturePins} can carry it. A failed fetch leaves the pin without a position
   * (reads then go to the primary for the pin's life: safe). A no-op unless `causal`.
   */
  async settlePositions(): Promise<void> {
    const ctx = this.#store.current()?.ctx
    if (ctx === undefined || !this.options.causal) return
    await Promise.all([...ctx.pins].map(async ([set, pin]) => {
      const source = this.#positionSources.get(set)
      if (pin.positionPending !== true || source === undefined) return
      try {
        const position = await source()
        if (position !== undefined && isPosition(position)) {
          pin.position = laterPosition(pin.position, position)
          pin.positionPending = false
        }
      } catch {
        // Keep it pending: the pin is carried without a position, so its reads use the primary.
      }
    }))
  }

  /** A snapshot of every server's state and counters. */
  stats(): Record<string, Readonly<ServerState>> {
    const out: Record<string, ServerState> = {}
    for (const s of this.servers.all()) out[s.alias] = { ...s, counters: { ...s.counters } }
    return out
  }

  /** Ends every routed pool, replica monitor and instrumentation created for this instance. */
  async close(): Promise<void> {
    const hooks = [...this.#closeHooks]
    this.#closeHooks.clear()
    await Promise.all(hooks.map((hook) => hook()))
  }
}

/**
 * Creates a pindb instance: validates the options once (throwing {@link PinDbConfigError} naming
 * the option and the fix), then routes against them.
 *
 * @example
 * ```ts
 * const pindb = createPinDb({
 *   primaries: { default: { host: 'db-primary', database: 'app' } },
 *   replicas: { default: [{ host: 'db-replica-1' }, { host: 'db-replica-2' }] },
 * })
 * ```
 */
export function createPinDb<C extends object = Record<string, unknown>>(options: PinDbOptions<C>): PinDb<C> {
  return new PinDb(options)
}
