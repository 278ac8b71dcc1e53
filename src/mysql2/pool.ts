/**
 * `PinDbMysqlPool`: a drop-in for mysql2's promise pool (`query`, `execute`, `getConnection`,
 * `end`) that routes every statement over one real pool per alias.
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { EventForwarder, RoutedPoolCore, loadDriver, type RoutedPoolOptions } from '../adapter/routed-pool.js'
import { runPooled } from '../adapter/routed-session.js'
import type { PinDb } from '../pindb.js'
import { PinDbMysqlConnection, sqlOf } from './connection.js'
import { mysqlProbe } from './probe.js'
import type { MysqlModuleLike, MysqlPoolLike, MysqlQueryOptions, MysqlResult } from './types.js'

/** Options of {@link createMysqlPool}. */
export interface MysqlPoolOptions extends RoutedPoolOptions {
  /** The `mysql2/promise` module (or `{ createPool }`). Default: `import('mysql2/promise')` on first use. */
  mysql?: MysqlModuleLike
  /** Builds the real pool of one alias. Default: `mysql.createPool(pindb.databases[alias])`. */
  createPool?: (alias: string, config: object) => MysqlPoolLike
}

/** A mysql2 promise pool look-alike routed by pindb. */
export class PinDbMysqlPool extends EventEmitter {
  /** @internal */
  readonly core: RoutedPoolCore<MysqlPoolLike>
  readonly #events = new EventForwarder(this, ['connection', 'acquire', 'release', 'enqueue'])
  #mysql: Promise<MysqlModuleLike> | undefined

  constructor(pindb: PinDb<object>, options: MysqlPoolOptions = {}) {
    super()
    this.core = new RoutedPoolCore(pindb, {
      name: 'mysql2',
      dialect: 'mysql',
      create: (alias, config) => this.#createPool(alias, config, options),
      end: (pool) => pool.end(),
      probe: mysqlProbe,
    }, options)
  }

  /** The pindb instance this pool routes for. */
  get pindb(): PinDb<object> { return this.core.pindb }

  async #createPool(alias: string, config: object, options: MysqlPoolOptions): Promise<MysqlPoolLike> {
    let pool: MysqlPoolLike
    if (options.createPool !== undefined) pool = options.createPool(alias, config)
    else {
      this.#mysql ??= options.mysql !== undefined
        ? Promise.resolve(options.mysql)
        : loadDriver('mysql2', 'mysql2/promise', 'mysql', (m) => (typeof m['createPool'] === 'function' ? (m as unknown as MysqlModuleLike) : undefined))
      pool = (await this.#mysql).createPool(config)
    }
    this.#events.add(pool)
    return pool
  }

  /** Routed `query(sql, values?)`. */
  query(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult> {
    return runPooled(this.core, sqlOf(sql), (alias) => this.#on(alias, (pool) => pool.query(sql, values)))
  }

  /** Routed `execute(sql, values?)`. */
  execute(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult> {
    return runPooled(this.core, sqlOf(sql), (alias) => this.#on(alias, (pool) => pool.execute(sql, values)))
  }

  #on(alias: string, fn: (pool: MysqlPoolLike) => Promise<MysqlResult>): Promise<MysqlResult> {
    const ready = this.core.readyPool(alias)
    return ready !== undefined ? fn(ready) : this.core.poolFor(alias).then(fn)
  }

  /** Checks out a routed connection; see the README for how its statements are routed. */
  async getConnection(): Promise<PinDbMysqlConnection> {
    if (this.core.ended) throw this.core.closedError()
    return new PinDbMysqlConnection(this.core)
  }

  /** Ends every underlying pool (and the replica monitor). */
  end(): Promise<void> {
    return this.core.end()
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
