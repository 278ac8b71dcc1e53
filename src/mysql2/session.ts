/**
 * The routed session behind every `pindb/mysql2` connection, and the two ways it gets real
 * connections: borrowed from the routed pool's real pools (`pool.getConnection()`), or owned —
 * one dedicated connection per server — by a logical connection (`createConnection()`).
 *
 * Session reads (`LAST_INSERT_ID()`, `@@identity`, `FOUND_ROWS()`, `CONNECTION_ID()` …) run where the
 * session's previous statement ran; on that *connection*, too: a borrowed connection is parked
 * until the next statement needs another server, so borrowing the same alias again gets it back
 * (a pool's free list would hand out another connection, with another session's values).
 *
 * @module
 */
import type { RoutedPoolCore } from '../adapter/routed-pool.js'
import { RoutedSession, type SessionHost } from '../adapter/routed-session.js'
import type { SettingsApplier } from '../adapter/session-settings.js'
import { PinDbError } from '../errors.js'
import type { MysqlPoolConnectionLike, MysqlPoolLike } from './types.js'

type Conn = MysqlPoolConnectionLike

/** Where a session's real connections come from. */
export interface ConnectionSource {
  acquire(alias: string): Promise<Conn>
  giveBack(conn: Conn, err?: unknown): void
  /** Ends what the source still holds (with an error: destroys it). */
  close(err?: unknown): void
  readonly settings?: SettingsApplier<Conn>
}

/**
 * Re-applies connection-setup settings (`SET time_zone`, `SET NAMES`, …) on a mysql2 connection;
 * a connection that has other settings is reset first (`COM_RESET_CONNECTION`).
 */
export const mysqlSettings: SettingsApplier<MysqlPoolConnectionLike> = {
  async exec(conn, statements) {
    for (const statement of statements) await conn.query(statement)
  },
  async reset(conn) {
    if (typeof conn.reset !== 'function') throw new PinDbError('PINDB_UNSUPPORTED', '[mysql2] changing a recorded setting needs connection.reset() (mysql2 >= 3).')
    await conn.reset()
  },
}

/** Borrows from the routed pool's real pools; keeps the last connection parked for the next statement. */
export function borrowedSource(core: RoutedPoolCore<MysqlPoolLike>): ConnectionSource {
  let parked: { alias: string; conn: Conn } | undefined
  const aliasOf = new WeakMap<Conn, string>()
  const unpark = (err?: unknown): void => {
    const p = parked
    parked = undefined
    if (p !== undefined) err === undefined ? p.conn.release?.() : p.conn.destroy()
  }
  return {
    async acquire(alias) {
      if (parked?.alias === alias) {
        const { conn } = parked
        parked = undefined
        return conn
      }
      unpark()
      const conn = await (await core.poolFor(alias)).getConnection()
      aliasOf.set(conn, alias)
      return conn
    },
    giveBack(conn, err) {
      if (err !== undefined) {
        conn.destroy()
        return
      }
      unpark()
      parked = { alias: aliasOf.get(conn) ?? '', conn }
    },
    close: unpark,
    settings: mysqlSettings,
  }
}

/** @internal A routed session plus what the mysql2 views share. */
export class MysqlSessionCore {
  readonly session: RoutedSession<Conn>
  readonly #source: ConnectionSource

  constructor(core: RoutedPoolCore<MysqlPoolLike>, source: ConnectionSource) {
    this.#source = source
    const host: SessionHost<Conn> = {
      pindb: core.pindb,
      planner: core.planner,
      route: (statement, extra) => core.route(statement, extra),
      acquire: (alias) => source.acquire(alias),
      giveBack: (conn, err) => source.giveBack(conn, err),
      waitForPosition: core.waitForPosition,
      settings: source.settings,
      watch: (alias, conn, run) => core.watch(alias, conn, run),
    }
    this.session = new RoutedSession(host)
  }

  /** Ends the session and gives back (or closes) its real connections. */
  close(err?: unknown): void {
    if (this.session.released) return
    this.session.close(err)
    this.#source.close(err)
  }
}
