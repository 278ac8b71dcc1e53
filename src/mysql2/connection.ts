/**
 * `PinDbMysqlConnection`: what `PinDbMysqlPool.getConnection()` gives — a mysql2 promise pool
 * connection look-alike routed statement by statement by the shared {@link RoutedSession} rules
 * (transactions and session state anchor it to one server; see the README).
 *
 * @module
 */
import { RoutedSession } from '../adapter/routed-session.js'
import { PinDbError } from '../errors.js'
import type { RoutedPoolCore } from '../adapter/routed-pool.js'
import type { MysqlPoolConnectionLike, MysqlPoolLike, MysqlQueryOptions, MysqlResult } from './types.js'

/** @internal The SQL text of a `query` / `execute` first argument. */
export function sqlOf(sql: string | MysqlQueryOptions): string {
  if (typeof sql === 'string') return sql
  if (typeof sql === 'object' && sql !== null && typeof sql.sql === 'string') return sql.sql
  throw new TypeError('[pindb] [mysql2] query expects SQL text or a { sql, values } options object')
}

/** A routed connection checked out of a `PinDbMysqlPool`. Call {@link PinDbMysqlConnection.release} when done. */
export class PinDbMysqlConnection {
  readonly #session: RoutedSession<MysqlPoolConnectionLike>

  /** @internal Use `pool.getConnection()`. */
  constructor(pool: RoutedPoolCore<MysqlPoolLike>) {
    this.#session = new RoutedSession({
      pindb: pool.pindb,
      planner: pool.planner,
      route: (statement, extra) => pool.route(statement, extra),
      waitForPosition: pool.waitForPosition,
      acquire: async (alias) => (await pool.poolFor(alias)).getConnection(),
      giveBack: (conn, err) => (err === undefined ? conn.release() : conn.destroy()),
    })
  }

  /** The alias this connection is anchored to (open transaction or session state), if any. */
  get anchoredTo(): string | undefined {
    return this.#session.anchoredTo
  }

  #run<R>(sql: string, fn: (conn: MysqlPoolConnectionLike) => Promise<R>): Promise<R> {
    if (this.#session.released) {
      return Promise.reject(new PinDbError('PINDB_CLOSED', '[mysql2] this connection has been released; check out another with pool.getConnection().'))
    }
    return this.#session.run(sql, fn)
  }

  /** Routed `query(sql, values?)`. */
  query(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult> {
    return this.#run(sqlOf(sql), (c) => c.query(sql, values))
  }

  /** Routed `execute(sql, values?)` (a server-side prepared statement on the chosen connection). */
  execute(sql: string | MysqlQueryOptions, values?: unknown): Promise<MysqlResult> {
    return this.#run(sqlOf(sql), (c) => c.execute(sql, values))
  }

  /** `START TRANSACTION` on the primary: the transaction counts as a write. */
  beginTransaction(): Promise<void> {
    return this.#run('START TRANSACTION', (c) => c.beginTransaction())
  }

  /** `COMMIT`. */
  commit(): Promise<void> {
    return this.#run('COMMIT', (c) => c.commit())
  }

  /** `ROLLBACK`. */
  rollback(): Promise<void> {
    return this.#run('ROLLBACK', (c) => c.rollback())
  }

  /** Returns every underlying connection to its pool. */
  release(): void {
    if (!this.#session.released) this.#session.release()
  }

  /** Destroys every underlying connection instead of returning it. */
  destroy(): void {
    if (!this.#session.released) this.#session.release(true)
  }
}
