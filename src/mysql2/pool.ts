/**
 * `PinDbMysqlPool`: a drop-in for mysql2's promise pool (`query`, `execute`, `getConnection`,
 * `end`) that routes every statement over one real pool per alias.
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
import { mysqlProbe } from './probe.js'
import { PinDbMysqlConnection, sqlOf } from './connection.js'
import type { MysqlModuleLike, MysqlPoolLike, MysqlQueryOptions, MysqlResult } from './types.js'

/** Options of {@link createMysqlPool}. */
export interface MysqlPoolOptions {
  /** Tie the pool to one DB set; default: the delegates choose per statement from `{ sql }` hints. */
  set?: string
  /** The `mysql2/promise` module (or `{ createPool }`). Default: `import('mysql2/promise')` on first use. */
  mysql?: MysqlModuleLike
  /** Builds the real pool of one alias. Default: `mysql.createPool(pindb.databases[alias])`. */
  createPool?: (alias: string, config: object) => MysqlPoolLike
  /** Function names whose call makes a statement a write (beyond `GET_LOCK`, `NEXTVAL`, …). */
  writeFunctions?: readonly string[]
  /**
   * Start a replica monitor for the pool's sets (replay positions, lag, health; needed by
   * `maxLag` and causal reads). Stops when the pool ends. Default off.
   */
  monitor?: boolean | MonitorOptions
}

/** A mysql2 promise pool look-alike routed by pindb. */
export class PinDbMysqlPool extends EventEmitter {
  readonly pindb: PinDb<object>
  readonly planner: StatementPlanner
  readonly set: string | undefined
  readonly #options: MysqlPoolOptions
  readonly #pools = new Map<string, Promise<MysqlPoolLike>>()
  readonly #unregister: (() => void)[] = []
  #mysql: Promise<MysqlModuleLike> | undefined
  #ended = false
  readonly #monitor: ReplicaMonitor | undefined
  /** @internal Causal reads with `waitMs`. */
  readonly waitForPosition: WaitForPosition

  constructor(pindb: PinDb<object>, options: MysqlPoolOptions = {}) {
    super()
    this.pindb = pindb
    this.#options = options
    this.set = options.set
    if (options.set !== undefined && pindb.dbSetOf(options.set) !== options.set) {
      throw new PinDbConfigError('set', `"${options.set}" is not a DB set (primary alias); tie the pool to a primary.`)
    }
    this.planner = new StatementPlanner('mysql', options.writeFunctions)
    const sets = options.set === undefined ? [...pindb.topology.sets.keys()] : [options.set]
    const probe = mysqlProbe((alias) => this.poolFor(alias))
    this.waitForPosition = probe.waitForPosition
    for (const set of sets) this.#unregister.push(pindb.registerPositionSource(set, () => probe.primaryPosition(set)))
    this.#unregister.push(pindb.onClose(() => this.end()))
    this.#monitor = options.monitor ? new ReplicaMonitor(pindb, probe, sets, options.monitor === true ? {} : options.monitor) : undefined
    void this.#monitor?.start()
  }

  /** @internal */
  route(plan: StatementPlan, sql: string, extra?: RouteOptions): RouteDecision {
    return routePlanned(this.pindb, this.set, plan, sql, extra)
  }

  /** @internal The real pool of one alias, created on first use. */
  poolFor(alias: string): Promise<MysqlPoolLike> {
    if (this.#ended) return Promise.reject(new PinDbError('PINDB_CLOSED', '[mysql2] the pool has ended; create a new one.'))
    let pool = this.#pools.get(alias)
    if (pool === undefined) {
      pool = this.#createPool(alias)
      this.#pools.set(alias, pool)
    }
    return pool
  }

  async #createPool(alias: string): Promise<MysqlPoolLike> {
    const config = this.pindb.databases[alias] ?? {}
    let pool: MysqlPoolLike
    if (this.#options.createPool !== undefined) pool = this.#options.createPool(alias, config)
    else {
      this.#mysql ??= this.#options.mysql !== undefined ? Promise.resolve(this.#options.mysql) : loadMysql()
      pool = (await this.#mysql).createPool(config)
    }
    for (const event of ['connection', 'acquire', 'release', 'enqueue'] as const) {
      pool.on(event, (...args: unknown[]) => this.emit(event, ...args))
    }
    return pool
  }

  /** Routed `query(sql, values?)`. */
  query(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult> {
    return runPooled(this, sqlOf(sql), async (alias) => (await this.poolFor(alias)).query(sql, values))
  }

  /** Routed `execute(sql, values?)`. */
  execute(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult> {
    return runPooled(this, sqlOf(sql), async (alias) => (await this.poolFor(alias)).execute(sql, values))
  }

  /** Checks out a routed connection; see the README for how its statements are routed. */
  async getConnection(): Promise<PinDbMysqlConnection> {
    if (this.#ended) throw new PinDbError('PINDB_CLOSED', '[mysql2] the pool has ended; create a new one.')
    return new PinDbMysqlConnection(this)
  }

  /** Ends every underlying pool. */
  async end(): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    for (const unregister of this.#unregister.splice(0)) unregister()
    await this.#monitor?.stop()
    const pools = await Promise.allSettled(this.#pools.values())
    await Promise.all(pools.map((p) => (p.status === 'fulfilled' ? p.value.end() : undefined)))
  }
}

async function loadMysql(): Promise<MysqlModuleLike> {
  try {
    const mod = (await import('mysql2/promise')) as { default?: MysqlModuleLike } & Partial<MysqlModuleLike>
    const mysql = typeof mod.createPool === 'function' ? (mod as MysqlModuleLike) : mod.default
    if (mysql === undefined || typeof mysql.createPool !== 'function') throw new TypeError('mysql2/promise has no createPool')
    return mysql
  } catch (cause) {
    throw new PinDbError('PINDB_DRIVER_MISSING', '[mysql2] could not load "mysql2/promise". Install it (`npm install mysql2`) or pass `{ mysql }` to createMysqlPool.', { cause })
  }
}

/**
 * Creates a routed mysql2 promise pool look-alike for a pindb instance.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise'
 * import { createMysqlPool } from 'pindb/mysql2'
 * const pool = createMysqlPool(pindb, { mysql })
 * await pindb.run(() => pool.query('SELECT * FROM notes WHERE id = ?', [id]))
 * ```
 */
export function createMysqlPool(pindb: PinDb<object>, options: MysqlPoolOptions = {}): PinDbMysqlPool {
  return new PinDbMysqlPool(pindb, options)
}
