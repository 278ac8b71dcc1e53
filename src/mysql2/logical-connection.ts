/**
 * `createConnection()` of the mysql2 driver module: a routed *logical* connection that an ORM keeps
 * in its own pool (Sequelize). It owns at most one real connection per server, opened on first use
 * with the ORM's connection options, and routes statement by statement with the shared session
 * rules: it is never stuck on one server outside a transaction or real session state, and the
 * setup statements ORMs send on connect (`SET time_zone = …`, `SET NAMES …`, `SET SESSION sql_mode
 * …`, `SET SESSION TRANSACTION ISOLATION LEVEL …`) are recorded and re-applied on whichever server
 * its next statement runs, instead of anchoring it on the primary.
 *
 * @module
 */
import { PinDbError } from '../errors.js'
import { PinDbMysqlCallbackConnection, type ConnectionParts } from './connection.js'
import { mergeConfig, type PinDbMysqlPool } from './pool.js'
import { mysqlSettings, MysqlSessionCore, type ConnectionSource } from './session.js'
import type { MysqlCallback, MysqlModuleLike, MysqlPoolConnectionLike } from './types.js'

type Conn = MysqlPoolConnectionLike

/** Settings replay on a MySQL/MariaDB connection: run the `SET`s; reset with `COM_RESET_CONNECTION`. */
/** Opens one real connection with mysql2's `createConnection` (promise or callback module). */
async function openConnection(mysql: MysqlModuleLike, config: object): Promise<Conn> {
  if (typeof mysql.createConnection !== 'function') {
    throw new PinDbError('PINDB_DRIVER_MISSING', '[mysql2] createConnection() needs the mysql2 module: pass `{ mysql }` (mysql2 or mysql2/promise) to createMysqlModule.')
  }
  const made = mysql.createConnection(config) as Conn | Promise<Conn> | (Conn & { promise(): Conn; once(e: string, l: (...a: unknown[]) => void): unknown })
  if (typeof (made as Promise<Conn>).then === 'function') return made as Promise<Conn>
  const core = made as Conn & { promise(): Conn; once(e: string, l: (...a: unknown[]) => void): unknown }
  await new Promise<void>((resolve, reject) => {
    core.once('connect', () => resolve())
    core.once('error', reject)
  })
  return core.promise()
}

/** The real connections of one logical connection: one per server, kept until it ends. */
function ownedSource(open: (alias: string) => Promise<Conn>): ConnectionSource & { end(): Promise<void> } {
  const conns = new Map<string, Promise<Conn>>()
  const aliasOf = new WeakMap<Conn, string>()
  const forget = (conn: Conn): void => {
    const alias = aliasOf.get(conn)
    if (alias !== undefined) conns.delete(alias)
  }
  return {
    acquire(alias) {
      let conn = conns.get(alias)
      if (conn === undefined) {
        conn = open(alias).then((c) => {
          aliasOf.set(c, alias)
          // A connection that dies while idle must not crash the process: forget it, reopen on next use.
          c.on?.('error', () => {
            forget(c)
            c.destroy()
          })
          return c
        })
        conns.set(alias, conn)
        conn.catch(() => conns.delete(alias))
      }
      return conn
    },
    giveBack(conn, err) {
      if (err === undefined) return
      forget(conn)
      conn.destroy()
    },
    close(err) {
      const all = [...conns.values()]
      conns.clear()
      for (const conn of all) void conn.then((c) => (err === undefined ? c.end?.() : c.destroy()), () => {})
    },
    async end() {
      const all = [...conns.values()]
      conns.clear()
      await Promise.all(all.map((conn) => conn.then((c) => c.end?.(), () => {})))
    },
    settings: mysqlSettings,
  }
}

/**
 * A routed logical connection with mysql2's callback API (`createMysqlModule(...).createConnection()`).
 * Emits `connect` once the primary accepted its first connection (`error` if it did not).
 */
export class PinDbMysqlLogicalConnection extends PinDbMysqlCallbackConnection {
  /** The connection options it was created with. */
  readonly config: object
  /** Set once {@link PinDbMysqlLogicalConnection.end} or `destroy()` was called (mysql2's field, read by ORMs). */
  _closing = false
  /** mysql2's fields, read by ORMs' connection validation: a logical connection has no fatal state. */
  readonly _fatalError = null
  /** @see PinDbMysqlLogicalConnection._fatalError */
  readonly _protocolError = null

  /** @internal Use `createMysqlModule(...).createConnection()`. */
  constructor(parts: ConnectionParts, config: object) {
    super(parts)
    this.config = config
  }

  /** mysql2's socket, as ORMs' validation reads it (`stream.destroyed`). */
  get stream(): { readonly destroyed: boolean } {
    return { destroyed: this._closing }
  }

  /** mysql2's connection state. */
  override get state(): 'authenticated' | 'disconnected' {
    return this._closing ? 'disconnected' : 'authenticated'
  }

  /** Closes every real connection. */
  override end(cb?: MysqlCallback): void {
    this._closing = true
    super.end(cb)
  }

  /** Destroys every real connection. */
  override destroy(): void {
    this._closing = true
    super.destroy()
  }

  /** Logical connections are not pooled: `release()` is `end()`. */
  override release(): void {
    this.end()
  }
}

/** @internal Creates a logical connection routed by `pool`'s core, with `callerConfig` as driver options. */
export function createLogicalConnection(pool: PinDbMysqlPool, mysql: MysqlModuleLike, callerConfig: object): PinDbMysqlLogicalConnection {
  const pindb = pool.pindb
  const timeoutMs = pool.core.liveness?.connectTimeoutMs
  const source = ownedSource((alias) => {
    const merged = mergeConfig(callerConfig, pindb.databases[alias] ?? {})
    return openConnection(mysql, timeoutMs === undefined || 'connectTimeout' in merged ? merged : { connectTimeout: timeoutMs, ...merged })
  })
  const core = new MysqlSessionCore(pool.core, source)
  const parts: ConnectionParts = {
    core,
    sql: pool.sql,
    end: async () => {
      core.session.close()
      await source.end()
    },
    destroy: () => core.close(true),
  }
  const conn = new PinDbMysqlLogicalConnection(parts, callerConfig)
  // Connect to the primary now, as mysql2 does, so that `connect` / `error` mean what they say. That
  // connection is the session's home: connection setup runs there first, then is replayed elsewhere.
  const home = pool.core.set ?? (pindb.topology.sets.has('default') ? 'default' : undefined)
  const ready = home === undefined ? Promise.resolve() : source.acquire(home).then((c) => core.session.setHome(home, c))
  const fail = (err: unknown): void => {
    conn._closing = true
    core.close()
    if (conn.listenerCount('error') > 0) conn.emit('error', err)
  }
  // The home connection died: the connection is unusable (as a mysql2 connection would be); the ORM's pool replaces it.
  core.session.onHomeLost = fail
  ready.then(() => conn.emit('connect'), fail)
  return conn
}
