/**
 * `PinDbPgPool`: a drop-in for `pg.Pool` that routes every statement — reads to the unit of
 * work's replica, writes to the primary, pinning as the mode says — over one real `pg.Pool` per alias.
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { routePlanned, runPooled } from '../adapter/routed-session.js'
import { StatementPlanner, type StatementPlan } from '../adapter/statement-plan.js'
import { PinDbConfigError, PinDbError } from '../errors.js'
import type { PinDb } from '../pindb.js'
import type { RouteDecision } from '../route-event.js'
import type { RouteOptions } from '../router.js'
import type { WaitForPosition } from '../adapter/failover.js'
import { ReplicaMonitor, type MonitorOptions } from '../monitor/replica-monitor.js'
import { pgProbe } from './probe.js'
import { PinDbPgClient } from './client.js'
import { queryArgs, settle } from './query-args.js'
import type { PgCallback, PgModuleLike, PgPoolLike, PgQueryConfig, PgQueryResult } from './types.js'

/** Options of {@link createPgPool}. */
export interface PgPoolOptions {
  /**
   * Tie the pool to one DB set: every statement routes within it and the delegates are not asked.
   * Default: the delegates choose the set per statement from `{ sql }` hints.
   */
  set?: string
  /** The `pg` module (or `{ Pool }`). Default: `import('pg')` on first use. */
  pg?: PgModuleLike
  /** Builds the real pool of one alias. Default: `new pg.Pool(pindb.databases[alias])`. */
  createPool?: (alias: string, config: object) => PgPoolLike
  /** Function names whose call makes a statement a write (beyond `nextval`, `setval`, advisory locks, …). */
  writeFunctions?: readonly string[]
  /**
   * Start a replica monitor for the pool's sets (replay positions, lag, health; needed by
   * `maxLag` and causal reads). Stops when the pool ends. Default off.
   */
  monitor?: boolean | MonitorOptions
}

/**
 * A `pg.Pool` look-alike routed by pindb. Code written for `pg.Pool` — and Kysely's
 * `PostgresDialect` and Drizzle's `node-postgres` driver — uses it unchanged.
 */
export class PinDbPgPool extends EventEmitter {
  readonly pindb: PinDb<object>
  readonly planner: StatementPlanner
  readonly set: string | undefined
  readonly #options: PgPoolOptions
  readonly #pools = new Map<string, Promise<PgPoolLike>>()
  readonly #created: PgPoolLike[] = []
  readonly #unregister: (() => void)[] = []
  #pg: Promise<PgModuleLike> | undefined
  #ended = false
  readonly #monitor: ReplicaMonitor | undefined
  /** @internal Causal reads with `waitMs`. */
  readonly waitForPosition: WaitForPosition

  constructor(pindb: PinDb<object>, options: PgPoolOptions = {}) {
    super()
    this.pindb = pindb
    this.#options = options
    this.set = options.set
    if (options.set !== undefined && pindb.dbSetOf(options.set) !== options.set) {
      throw new PinDbConfigError('set', `"${options.set}" is not a DB set (primary alias); tie the pool to a primary.`)
    }
    this.planner = new StatementPlanner('postgres', options.writeFunctions)
    const sets = options.set === undefined ? [...pindb.topology.sets.keys()] : [options.set]
    const probe = pgProbe((alias) => this.poolFor(alias))
    this.waitForPosition = probe.waitForPosition
    for (const set of sets) this.#unregister.push(pindb.registerPositionSource(set, () => probe.primaryPosition(set)))
    this.#unregister.push(pindb.onClose(() => this.end()))
    this.#monitor = options.monitor ? new ReplicaMonitor(pindb, probe, sets, options.monitor === true ? {} : options.monitor) : undefined
    void this.#monitor?.start()
  }

  /** Sum over the underlying pools. */
  get totalCount(): number { return this.#created.reduce((n, p) => n + (p.totalCount ?? 0), 0) }
  /** Sum over the underlying pools. */
  get idleCount(): number { return this.#created.reduce((n, p) => n + (p.idleCount ?? 0), 0) }
  /** Sum over the underlying pools. */
  get waitingCount(): number { return this.#created.reduce((n, p) => n + (p.waitingCount ?? 0), 0) }
  /** Whether {@link PinDbPgPool.end} was called. */
  get ended(): boolean { return this.#ended }

  /** @internal */
  route(plan: StatementPlan, sql: string, extra?: RouteOptions): RouteDecision {
    return routePlanned(this.pindb, this.set, plan, sql, extra)
  }

  /** @internal The real pool of one alias, created on first use. */
  poolFor(alias: string): Promise<PgPoolLike> {
    if (this.#ended) return Promise.reject(new PinDbError('PINDB_CLOSED', '[pg] the pool has ended; create a new one.'))
    let pool = this.#pools.get(alias)
    if (pool === undefined) {
      pool = this.#createPool(alias)
      this.#pools.set(alias, pool)
    }
    return pool
  }

  async #createPool(alias: string): Promise<PgPoolLike> {
    const config = this.pindb.databases[alias] ?? {}
    let pool: PgPoolLike
    if (this.#options.createPool !== undefined) pool = this.#options.createPool(alias, config)
    else {
      this.#pg ??= this.#options.pg !== undefined ? Promise.resolve(this.#options.pg) : loadPg()
      const pg = await this.#pg
      pool = new pg.Pool(config)
    }
    this.#created.push(pool)
    for (const event of ['connect', 'acquire', 'release', 'remove'] as const) {
      pool.on(event, (...args: unknown[]) => this.emit(event, ...args))
    }
    // An idle client's error (a replica restarting) must not crash the process as an unhandled 'error' would.
    pool.on('error', (err: unknown, client: unknown) => {
      if (this.pindb.topology.replicaToSet.has(alias)) this.pindb.reportFailure(alias)
      if (this.listenerCount('error') > 0) this.emit('error', err, client)
    })
    return pool
  }

  /** Runs a statement on the routed server: `query(text, values?, callback?)` or `query(config, callback?)`. */
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, values?: unknown[]): Promise<R>
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, callback: PgCallback<R>): undefined
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, values: unknown[] | undefined, callback: PgCallback<R>): undefined
  query(...args: unknown[]): Promise<PgQueryResult> | undefined {
    const { query, values, callback } = queryArgs(args)
    return settle(this.#run(query, values), callback)
  }

  #run(query: string | PgQueryConfig, values: unknown[] | undefined): Promise<PgQueryResult> {
    const sql = typeof query === 'string' ? query : query.text
    return runPooled(this, sql, async (alias) => (await (await this.poolFor(alias)).query(query, values)) as PgQueryResult)
  }

  /** Checks out a routed client; see the README for how its statements are routed. */
  connect(): Promise<PinDbPgClient>
  connect(callback: (err: Error | undefined, client: PinDbPgClient | undefined, release: () => void) => void): void
  connect(callback?: (err: Error | undefined, client: PinDbPgClient | undefined, release: () => void) => void): Promise<PinDbPgClient> | void {
    const promise = this.#ended
      ? Promise.reject(new PinDbError('PINDB_CLOSED', '[pg] the pool has ended; create a new one.'))
      : Promise.resolve(new PinDbPgClient(this))
    if (callback === undefined) return promise
    promise.then((client) => callback(undefined, client, () => client.release()), (err: Error) => callback(err, undefined, () => {}))
  }

  /** Ends every underlying pool. */
  end(): Promise<void>
  end(callback: (err?: Error) => void): void
  end(callback?: (err?: Error) => void): Promise<void> | void {
    const promise = this.#end()
    if (callback === undefined) return promise
    promise.then(() => callback(), callback)
  }

  async #end(): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    for (const unregister of this.#unregister.splice(0)) unregister()
    await this.#monitor?.stop()
    const pools = await Promise.allSettled(this.#pools.values())
    await Promise.all(pools.map((p) => (p.status === 'fulfilled' ? p.value.end() : undefined)))
    this.emit('end')
  }
}

async function loadPg(): Promise<PgModuleLike> {
  try {
    const mod = (await import('pg')) as { default?: PgModuleLike } & Partial<PgModuleLike>
    const pg = mod.default ?? (mod as PgModuleLike)
    if (typeof pg.Pool !== 'function') throw new TypeError('pg.Pool is not a constructor')
    return pg
  } catch (cause) {
    throw new PinDbError('PINDB_DRIVER_MISSING', '[pg] could not load the "pg" package. Install it (`npm install pg`) or pass `{ pg }` to createPgPool.', { cause })
  }
}

/**
 * Creates a routed `pg.Pool` look-alike for a pindb instance.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createPgPool } from 'pindb/pg'
 * const pool = createPgPool(pindb, { pg })
 * await pindb.run(() => pool.query('SELECT * FROM notes WHERE id = $1', [id]))
 * ```
 */
export function createPgPool(pindb: PinDb<object>, options: PgPoolOptions = {}): PinDbPgPool {
  return new PinDbPgPool(pindb, options)
}
