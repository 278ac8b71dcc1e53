/**
 * What every routed pool shares, whatever the driver: one real pool per alias created on first
 * use, statement planning and routing within an optional fixed DB set, the position source for
 * causal pins, the optional replica monitor, and an orderly end.
 *
 * @module
 */
import type { EventEmitter } from 'node:events'
import { PinDbConfigError, PinDbError } from '../errors.js'
import { ReplicaMonitor, type MonitorOptions, type PositionProbe } from '../monitor/replica-monitor.js'
import type { PinDb } from '../pindb.js'
import type { RouteDecision } from '../route-event.js'
import type { RouteOptions } from '../router.js'
import type { SqlDialect } from '../sql/index.js'
import type { WaitForPosition } from './failover.js'
import { Liveness, LIVENESS_DEFAULTS, type LivenessBounds, type LivenessOptions } from './liveness.js'
import { PositionWatchers } from './position-watcher.js'
import { routePlanned, type SessionHost } from './routed-session.js'
import { seamOf, type RoutingSeam } from './seam.js'
import { StatementPlanner, type PlannedStatement } from './statement-plan.js'

/** Options every routed pool accepts. */
export interface RoutedPoolOptions {
  /**
   * Tie the pool to one DB set: every statement routes within it and the delegates are not asked.
   * Default: the delegates choose the set per statement from `{ sql }` hints.
   */
  set?: string
  /** Function names whose call makes a statement a write (beyond the built-in list). */
  writeFunctions?: readonly string[]
  /**
   * Start a replica monitor for the pool's sets (replay positions, lag, health; needed by
   * `maxLag` and causal reads). Stops when the pool ends. Default off.
   */
  monitor?: boolean | MonitorOptions
  /**
   * Bounds on how long a caller may wait on a dead or hung server (see the reliability guide):
   * `connectTimeoutMs` (2000), `probeAfterMs` (1000), `probeTimeoutMs` (1000), `recoverEveryMs` (500).
   */
  liveness?: LivenessOptions
}

/** @internal How a driver plugs into {@link RoutedPoolCore}. Optional capabilities are optional. */
export interface PoolDriver<P, Conn = unknown> {
  /** `'pg'` or `'mysql2'`, for messages. */
  readonly name: string
  readonly dialect: SqlDialect
  /** Builds the real pool of one alias (`connectTimeoutMs` bounds its connection attempts). */
  create(alias: string, config: object, connectTimeoutMs: number): Promise<P>
  /** Ends a real pool. */
  end(pool: P): Promise<void>
  /** Replication positions of this driver's servers (needed by `causal` and `monitor`). */
  probe?(poolFor: (alias: string) => Promise<P>): PositionProbe & { waitForPosition?: WaitForPosition }
  /** Opens a fresh connection to `alias`, runs a trivial query, closes it (liveness). */
  ping?(alias: string, config: object, timeoutMs: number): Promise<void>
  /** Destroys a connection whose server stopped answering. */
  abort?(conn: Conn): void
}

/** @internal The driver-independent half of a routed pool; also the host of its sessions. */
export class RoutedPoolCore<P, Conn = unknown> implements Omit<SessionHost<object>, 'acquire' | 'giveBack' | 'watch'> {
  readonly pindb: PinDb<object>
  readonly seam: RoutingSeam
  readonly planner: StatementPlanner
  readonly set: string | undefined
  readonly waitForPosition: WaitForPosition | undefined
  readonly liveness: LivenessBounds
  /** Causal waits: one position watcher per replica (undefined without a probe). */
  readonly watchers: PositionWatchers | undefined
  readonly #driver: PoolDriver<P, Conn>
  readonly #prober: Liveness<Conn> | undefined
  readonly #pools = new Map<string, Promise<P>>()
  /** Pools already created, for the synchronous fast path. */
  readonly #ready = new Map<string, P>()
  readonly #unregister: (() => void)[] = []
  readonly #monitor: ReplicaMonitor | undefined
  #ended = false

  constructor(pindb: PinDb<object>, driver: PoolDriver<P, Conn>, options: RoutedPoolOptions) {
    this.pindb = pindb
    this.seam = seamOf(pindb)
    this.#driver = driver
    this.set = options.set
    if (options.set !== undefined && pindb.dbSetOf(options.set) !== options.set) {
      throw new PinDbConfigError('set', `"${options.set}" is not a DB set (primary alias); tie the pool to a primary.`)
    }
    this.liveness = { ...LIVENESS_DEFAULTS, ...options.liveness }
    this.planner = new StatementPlanner(driver.dialect, options.writeFunctions, options.set)
    const sets = options.set === undefined ? [...pindb.topology.sets.keys()] : [options.set]
    const probe = driver.probe?.((alias) => this.poolFor(alias))
    if (probe === undefined && (options.monitor || this.seam.options.causal)) {
      throw new PinDbConfigError(options.monitor ? 'monitor' : 'causal', `the ${driver.name} adapter cannot read replication positions, so it supports neither \`causal\` nor \`monitor\`. Turn them off for this pool.`)
    }
    this.watchers = probe === undefined ? undefined : new PositionWatchers((alias) => probe.replicaPosition(alias))
    this.waitForPosition = this.watchers === undefined ? undefined : (alias, position, timeoutMs) => this.watchers!.wait(alias, position, timeoutMs)
    if (probe !== undefined) for (const set of sets) this.#unregister.push(this.seam.registerPositionSource(set, () => probe.primaryPosition(set)))
    this.#unregister.push(this.seam.onClose(() => this.end()))
    const replicas = sets.flatMap((set) => pindb.topology.sets.get(set) ?? [])
    const { ping, abort } = driver
    this.#prober = ping === undefined || abort === undefined ? undefined : new Liveness<Conn>(this.seam, {
      ping: (alias, timeoutMs) => ping(alias, pindb.databases[alias] ?? {}, timeoutMs),
      abort,
    }, this.liveness, replicas)
    this.#monitor = options.monitor && probe !== undefined ? new ReplicaMonitor(pindb, probe, sets, options.monitor === true ? {} : options.monitor) : undefined
    void this.#monitor?.start()
  }

  /** Runs a statement on `conn` (a connection to `alias`) under the liveness watch. */
  watch<T>(alias: string, conn: Conn, run: () => Promise<T>): Promise<T> {
    return this.#prober === undefined ? run() : this.#prober.watch(alias, conn, run)
  }

  /** Whether {@link RoutedPoolCore.end} was called. */
  get ended(): boolean {
    return this.#ended
  }

  /** Routes a planned statement for this pool. */
  route(statement: PlannedStatement, extra?: RouteOptions): RouteDecision {
    return routePlanned(this.pindb, statement, extra)
  }

  /** The real pool of one alias, created on first use. */
  poolFor(alias: string): Promise<P> {
    if (this.#ended) return Promise.reject(this.closedError())
    let pool = this.#pools.get(alias)
    if (pool === undefined) {
      pool = this.#driver.create(alias, this.pindb.databases[alias] ?? {}, this.liveness.connectTimeoutMs)
      pool.then((ready) => this.#ready.set(alias, ready), () => this.#pools.delete(alias))
      this.#pools.set(alias, pool)
    }
    return pool
  }

  /** The real pool of an alias if it already exists (saves an `await` per statement). */
  readyPool(alias: string): P | undefined {
    return this.#ended ? undefined : this.#ready.get(alias)
  }

  /** The error for a pool used after `end()`. */
  closedError(): PinDbError {
    return new PinDbError('PINDB_CLOSED', `[${this.#driver.name}] the pool has ended; create a new one.`)
  }

  /** Stops the monitor, unregisters position sources and ends every real pool. */
  async end(): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    for (const unregister of this.#unregister.splice(0)) unregister()
    this.#prober?.close()
    await this.#monitor?.stop()
    const pools = await Promise.allSettled(this.#pools.values())
    await Promise.all(pools.map((p) => (p.status === 'fulfilled' ? this.#driver.end(p.value) : undefined)))
  }
}

/**
 * @internal Re-emits the real pools' events on the routed pool — only the events someone listens
 * for, attached when the first listener arrives, since forwarding costs on every query.
 */
export class EventForwarder {
  readonly #target: EventEmitter
  readonly #events: ReadonlySet<string>
  readonly #forwarded = new Set<string>()
  readonly #sources: { on(event: string, listener: (...args: unknown[]) => void): unknown }[] = []

  constructor(target: EventEmitter, events: readonly string[]) {
    this.#target = target
    this.#events = new Set(events)
    target.on('newListener', (event: string | symbol) => {
      if (typeof event !== 'string' || !this.#events.has(event) || this.#forwarded.has(event)) return
      this.#forwarded.add(event)
      for (const source of this.#sources) this.#forward(source, event)
    })
  }

  /** A new real pool: forward the events already listened for. */
  add(source: { on(event: string, listener: (...args: unknown[]) => void): unknown }): void {
    this.#sources.push(source)
    for (const event of this.#forwarded) this.#forward(source, event)
  }

  #forward(source: { on(event: string, listener: (...args: unknown[]) => void): unknown }, event: string): void {
    source.on(event, (...args: unknown[]) => this.#target.emit(event, ...args))
  }
}

/** @internal Loads an optional peer dependency, with an error naming the package and the fix. */
export async function loadDriver<T>(adapter: string, specifier: string, option: string, pick: (mod: Record<string, unknown>) => T | undefined): Promise<T> {
  try {
    const mod = (await import(specifier)) as Record<string, unknown>
    const found = pick(mod) ?? pick((mod['default'] ?? {}) as Record<string, unknown>)
    if (found === undefined) throw new TypeError(`"${specifier}" does not export what pindb needs`)
    return found
  } catch (cause) {
    throw new PinDbError('PINDB_DRIVER_MISSING', `[${adapter}] could not load "${specifier}". Install it (\`npm install ${specifier.split('/')[0]}\`) or pass \`{ ${option} }\` to the pool factory.`, { cause })
  }
}
