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
import { routePlanned, type SessionHost } from './routed-session.js'
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
}

/** @internal How a driver plugs into {@link RoutedPoolCore}. */
export interface PoolDriver<P> {
  /** `'pg'` or `'mysql2'`, for messages. */
  readonly name: string
  readonly dialect: SqlDialect
  /** Builds the real pool of one alias. */
  create(alias: string, config: object): Promise<P>
  /** Ends a real pool. */
  end(pool: P): Promise<void>
  /** Replication positions of this driver's servers. */
  probe(poolFor: (alias: string) => Promise<P>): PositionProbe & { waitForPosition: WaitForPosition }
}

/** @internal The driver-independent half of a routed pool; also the host of its sessions. */
export class RoutedPoolCore<P> implements Omit<SessionHost<unknown>, 'acquire' | 'giveBack'> {
  readonly pindb: PinDb<object>
  readonly planner: StatementPlanner
  readonly set: string | undefined
  readonly waitForPosition: WaitForPosition
  readonly #driver: PoolDriver<P>
  readonly #pools = new Map<string, Promise<P>>()
  /** Pools already created, for the synchronous fast path. */
  readonly #ready = new Map<string, P>()
  readonly #unregister: (() => void)[] = []
  readonly #monitor: ReplicaMonitor | undefined
  #ended = false

  constructor(pindb: PinDb<object>, driver: PoolDriver<P>, options: RoutedPoolOptions) {
    this.pindb = pindb
    this.#driver = driver
    this.set = options.set
    if (options.set !== undefined && pindb.dbSetOf(options.set) !== options.set) {
      throw new PinDbConfigError('set', `"${options.set}" is not a DB set (primary alias); tie the pool to a primary.`)
    }
    this.planner = new StatementPlanner(driver.dialect, options.writeFunctions, options.set)
    const sets = options.set === undefined ? [...pindb.topology.sets.keys()] : [options.set]
    const probe = driver.probe((alias) => this.poolFor(alias))
    this.waitForPosition = probe.waitForPosition
    for (const set of sets) this.#unregister.push(pindb.registerPositionSource(set, () => probe.primaryPosition(set)))
    this.#unregister.push(pindb.onClose(() => this.end()))
    this.#monitor = options.monitor ? new ReplicaMonitor(pindb, probe, sets, options.monitor === true ? {} : options.monitor) : undefined
    void this.#monitor?.start()
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
      pool = this.#driver.create(alias, this.pindb.databases[alias] ?? {})
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
