/**
 * The logical client of `pindb/pg`: a real subclass of the user's `pg.Client`. `connect()` opens a
 * real *home* connection — the primary of its DB set, or a replica when the primary does not answer
 * — so connection errors, timeouts, `processID` and `connection` are pg's own. Each statement is
 * then routed by the shared session rules: it runs on the home connection when routed there, and
 * otherwise on a connection borrowed from that server's pool for the statement (held only while a
 * transaction or session state anchors the client to it).
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { isServerFailure } from '../adapter/failover.js'
import type { RoutedPoolCore } from '../adapter/routed-pool.js'
import { RoutedSession } from '../adapter/routed-session.js'
import { PinDbError } from '../errors.js'
import { boundedConnectTimeout, pgSettings, sessionConfig } from './physical.js'
import { queryArgs, settle } from './query-args.js'
import type { PgClientLike, PgModuleLike, PgPoolLike, PgQueryConfig, PgQueryResult, PgSubmittable } from './types.js'

/** The routing core a logical client belongs to, and the DB set it connects to. */
export interface LogicalClientBinding {
  readonly core: RoutedPoolCore<PgPoolLike, PgClientLike>
  readonly homeSet: string
}

/** @internal Where a pool passes its binding to the clients it creates (`new Client(pool.options)`). */
export const BINDING = Symbol.for('pindb.pg.binding')

/** Properties pg's constructor assigns that the logical client answers from its home connection. */
const shadow = new WeakMap<object, { connection?: unknown }>()
/** The `release` pg-pool gave each checked-out logical client. */
const releases = new WeakMap<object, (err?: Error | boolean) => void>()

type Ctor = new (config?: any) => any

/** Logical clients by the backend PID of their home connection (what `processID` and `pg_backend_pid()` answer). */
const byHomePid = new Map<number, WeakRef<{ cancelTarget(): { alias: string; pid: number } | undefined }>>()

/** `SELECT pg_cancel_backend($1)` / `pg_terminate_backend(123)`: how Knex, Kysely and DBAs cancel a statement. */
const CANCEL = /^\s*select\s+pg_(cancel|terminate)_backend\s*\(\s*(\$1|\d+)\s*(?:::\s*int\w*\s*)?\)\s*(?:as\s+\w+\s*)?;?\s*$/i

const guardedConns = new WeakSet<object>()
/**
 * A borrowed connection's `error` event (its server went away while it was checked out) reaches
 * the statement running on it; the event itself must not crash the process.
 */
function guarded<C extends PgClientLike>(conn: C): C {
  if (!guardedConns.has(conn)) {
    guardedConns.add(conn)
    conn.on('error', () => {})
  }
  return conn
}

/** Defines the logical client class over a pg module's `Client`. */
export function defineLogicalClient(pg: PgModuleLike, fallback: () => LogicalClientBinding): Ctor {
  const Base = pg.Client as Ctor

  /** A `pg.Client` whose statements pindb routes; see the module comment. */
  class PinDbPgClient extends Base {
    readonly #binding: LogicalClientBinding
    readonly #session: RoutedSession<PgClientLike>
    readonly #config: Record<string, unknown>
    #home: PgClientLike | undefined
    /** The home connection's pg `Connection`, kept after `end()` (pg's `client.connection` never changes). */
    #homeConnection: unknown
    #connecting: PgClientLike | undefined
    #ready: Promise<void> | undefined
    #busy = 0
    /** The connection and server of the statement running now (for a cancel aimed at this client). */
    #active: { alias: string; conn: PgClientLike } | undefined

    constructor(config: Record<string, unknown> = {}) {
      super(config)
      this.#config = config
      this.#binding = (config[BINDING as unknown as string] as LogicalClientBinding | undefined) ?? fallback()
      const core = this.#binding.core
      this.#session = new RoutedSession<PgClientLike>({
        pindb: core.pindb,
        planner: core.planner,
        route: (statement, extra) => core.route(statement, extra),
        waitForPosition: core.waitForPosition,
        settings: pgSettings,
        acquire: async (alias) => guarded(await (await core.poolFor(alias)).connect()),
        giveBack: (conn, err) => conn.release?.(err === undefined ? undefined : err instanceof Error ? err : true),
        watch: (alias, conn, run) => core.watch(alias, conn, run),
      })
      this.#session.onHomeLost = () => {
        this.#home = undefined
        ;(this as unknown as { _queryable: boolean })._queryable = false
      }
    }

    /** The alias this client is anchored to (open transaction or session state), if any. */
    get anchoredTo(): string | undefined {
      return this.#session.anchoredTo
    }

    /** The alias of the home connection (undefined before `connect()`). */
    get homeAlias(): string | undefined {
      return this.#session.home?.alias
    }

    // pg's constructor assigns these; the logical client answers them from its home connection.
    get connection(): unknown {
      return this.#home?.connection ?? this.#connecting?.connection ?? this.#homeConnection ?? shadow.get(this)?.connection
    }
    set connection(value: unknown) {
      shadow.set(this, { connection: value })
    }
    get processID(): number | null {
      return this.#home?.processID ?? null
    }
    set processID(_value: number | null) {}
    get secretKey(): number | null {
      return this.#home?.secretKey ?? null
    }
    set secretKey(_value: number | null) {}

    // pg-pool assigns `client.release` at each checkout; the logical client ends that caller's
    // checkout first (its read-your-writes window and replica choice), then releases as pg-pool does.
    get release(): ((err?: Error | boolean) => void) | undefined {
      const release = releases.get(this)
      if (release === undefined) return undefined
      return (err?: Error | boolean) => {
        this.#session.endCheckout()
        release(err)
      }
    }
    set release(value: ((err?: Error | boolean) => void) | undefined) {
      if (value === undefined) releases.delete(this)
      else releases.set(this, value)
    }

    connect(callback?: (err?: Error) => void): Promise<void> | undefined {
      if (this.#ready !== undefined) {
        const err = new Error('Client has already been connected. You cannot reuse a client.')
        if (callback === undefined) return Promise.reject(err)
        process.nextTick(() => callback(err))
        return undefined
      }
      const ready = this.#connect()
      this.#ready = ready
      if (callback === undefined) return ready
      ready.then(() => process.nextTick(() => callback()), (err: Error) => process.nextTick(() => callback(err)))
      return undefined
    }

    async #connect(): Promise<void> {
      const self = this as unknown as { _connecting: boolean; _connected: boolean; _connectionError: boolean; _queryable: boolean }
      self._connecting = true
      const { core, homeSet } = this.#binding
      const seam = core.seam
      const now = seam.now()
      const candidates = [homeSet, ...(seam.topology.sets.get(homeSet) ?? []).filter((alias) => !seam.servers.isDown(alias, now))]
      let first: unknown
      for (const alias of candidates) {
        try {
          const conn = await this.#open(alias)
          this.#home = conn
          this.#homeConnection = conn.connection
          this.#session.setHome(alias, conn)
          if (typeof conn.processID === 'number') byHomePid.set(conn.processID, new WeakRef(this))
          self._connecting = false
          self._connected = true
          this.emit('connect')
          return
        } catch (err) {
          first ??= err
          // A refused or timed-out home on a live network: read from a replica meanwhile.
          if (!isServerFailure(err, true) || this._ending === true) break
          if (alias !== homeSet) seam.reportFailure(alias)
        }
      }
      self._connecting = false
      self._connectionError = true
      self._queryable = false
      throw first
    }

    async #open(alias: string): Promise<PgClientLike> {
      const { core } = this.#binding
      const config = {
        ...sessionConfig(this.#config),
        ...core.pindb.databases[alias],
        connectionTimeoutMillis: boundedConnectTimeout(this.#config['connectionTimeoutMillis'], core.liveness.connectTimeoutMs),
      }
      const conn = new (pg.Client as Ctor)(config) as PgClientLike
      this.#connecting = conn
      try {
        await conn.connect()
      } catch (err) {
        conn.end().catch(() => {})
        throw err
      } finally {
        this.#connecting = undefined
      }
      conn.on('error', (err: Error) => {
        this.#session.onHomeLost?.(err)
        // An error while a statement runs reaches that statement (and may fail over); an idle
        // client's error is pg's `error` event (pg-pool removes the client).
        if (this.#busy === 0 && this.listenerCount('error') > 0) this.emit('error', err)
      })
      conn.on('notice', (msg: unknown) => this.emit('notice', msg))
      conn.on('notification', (msg: unknown) => this.emit('notification', msg))
      conn.on('end', () => {
        if (this.#home === conn) this.#session.onHomeLost?.(new Error('Connection terminated'))
      })
      return conn
    }

    query(...args: unknown[]): unknown {
      const submittable = typeof (args[0] as PgSubmittable | null)?.submit === 'function' ? args[0] as PgSubmittable & { callback?: unknown } : undefined
      if (submittable !== undefined) {
        // As pg: a callback passed beside a Submittable becomes its callback.
        if (submittable.callback === undefined || submittable.callback === null) {
          const callback = typeof args[1] === 'function' ? args[1] : typeof args[2] === 'function' ? args[2] : undefined
          if (callback !== undefined) submittable.callback = callback
        }
        return this.#submit(submittable)
      }
      let parsed: ReturnType<typeof queryArgs>
      try {
        parsed = queryArgs(args)
      } catch (err) {
        const callback = args.find((a) => typeof a === 'function') as ((err: Error) => void) | undefined
        if (callback === undefined) return Promise.reject(err)
        process.nextTick(() => callback(err as Error))
        return undefined
      }
      const { query, values, callback } = parsed
      const sql = typeof query === 'string' ? query : query.text
      const cancel = this.#redirectCancel(sql, values ?? (typeof query === 'string' ? undefined : query.values))
      if (cancel !== undefined) return settle(cancel, callback)
      const config = this.#withTypes(query)
      return settle(this.#run(sql, (conn) => conn.query(config, values) as Promise<PgQueryResult>), callback)
    }

    /**
     * A cancel aimed at a logical client's `processID` (its home backend) reaches the backend that
     * runs that client's statement now — a replica's, when it is a read — instead of an unrelated
     * session on the primary.
     */
    #redirectCancel(sql: string, values: unknown[] | undefined): Promise<PgQueryResult> | undefined {
      const m = CANCEL.exec(sql)
      if (m === null) return undefined
      const pid = Number(m[2] === '$1' ? values?.[0] : m[2])
      const target = Number.isInteger(pid) ? byHomePid.get(pid)?.deref()?.cancelTarget() : undefined
      if (target === undefined) return undefined
      const { core } = this.#binding
      const seam = core.seam
      const set = seam.topology.sets.has(target.alias) ? target.alias : seam.topology.replicaToSet.get(target.alias)
      seam.emitRoute({ intent: 'write', alias: target.alias, set, role: seam.topology.sets.has(target.alias) ? 'primary' : 'replica', reason: 'session' }, sql)
      return core.poolFor(target.alias).then((pool) => pool.query(`SELECT pg_${m[1]!.toLowerCase()}_backend($1)`, [target.pid]) as Promise<PgQueryResult>)
    }

    /** @internal Where a cancel aimed at this client's `processID` must go: the backend running its statement now. */
    cancelTarget(): { alias: string; pid: number } | undefined {
      const active = this.#active
      if (active === undefined || active.conn === this.#home || typeof active.conn.processID !== 'number') return undefined
      return { alias: active.alias, pid: active.conn.processID }
    }

    /** Passes the client's own type parsers (`setTypeParser`) to whichever connection runs the query. */
    #withTypes(query: string | PgQueryConfig): string | PgQueryConfig {
      const types = (this as unknown as { _types?: { text?: object; binary?: object } })._types
      const custom = types !== undefined && (Object.keys(types.text ?? {}).length > 0 || Object.keys(types.binary ?? {}).length > 0)
      if (!custom && this.#config['types'] === undefined) return query
      if (typeof query === 'string') return { text: query, types }
      return query.types === undefined ? { ...query, types } : query
    }

    #run<R>(sql: string, fn: (conn: PgClientLike) => Promise<R>): Promise<R> {
      const self = this as unknown as { _queryable: boolean; _ending: boolean }
      if (self._ending || !self._queryable) {
        return Promise.reject(new Error(self._ending ? 'Client was closed and is not queryable' : 'Client has encountered a connection error and is not queryable'))
      }
      this.#busy++
      const ready = this.#ready ?? Promise.reject(new PinDbError('PINDB_SESSION', '[pg] call client.connect() before querying.'))
      const tracked = (conn: PgClientLike): Promise<R> => {
        const alias = this.#session.aliasOf(conn)
        this.#active = alias === undefined ? undefined : { alias, conn }
        return fn(conn).finally(() => {
          this.#active = undefined
        })
      }
      return ready.then(() => this.#session.run(sql, tracked)).finally(() => {
        this.#busy--
      })
    }

    /** A Submittable (pg-cursor, pg-query-stream, `pg.Query`): returned at once, submitted once routed. */
    #submit<S extends PgSubmittable>(submittable: S): S {
      const sql = typeof submittable.text === 'string' ? submittable.text : ''
      this.#run(sql, (conn) => new Promise<void>((resolve, reject) => {
        // It is over at ReadyForQuery — or at its error: pg drops a failed query before calling
        // `handleError`, and never calls its `handleReadyForQuery`.
        const done = submittable.handleReadyForQuery
        submittable.handleReadyForQuery = function (this: S, ...a: unknown[]) {
          try {
            return done?.apply(this, a as [unknown])
          } finally {
            cleanup()
            resolve()
          }
        }
        const failed = submittable.handleError
        if (typeof failed === 'function') {
          submittable.handleError = function (this: S, ...a: unknown[]) {
            try {
              return failed.apply(this, a as [Error, unknown])
            } finally {
              cleanup()
              resolve()
            }
          }
        }
        const onEnd = (): void => {
          cleanup()
          reject(new Error('Connection terminated unexpectedly'))
        }
        const cleanup = (): void => {
          conn.removeListener('end', onEnd)
        }
        conn.on('end', onEnd)
        conn.query(submittable)
      })).catch((err: Error) => {
        // Routing failed before submission (strict mode, no server): the Submittable reports it.
        if (typeof submittable.handleError === 'function') submittable.handleError(err, undefined)
        else (submittable as unknown as EventEmitter).emit?.('error', err)
      })
      return submittable
    }

    end(callback?: (err?: Error) => void): Promise<void> | undefined {
      const self = this as unknown as { _ending: boolean; _ended: boolean; _queryable: boolean }
      self._ending = true
      // As pg's end(): a statement in flight is cut off (on a borrowed connection, that one is destroyed).
      const active = this.#active
      if (active !== undefined && active.conn !== this.#home) active.conn.connection?.stream?.destroy()
      this.#session.close()
      const home = this.#home
      this.#home = undefined
      if (typeof home?.processID === 'number' && byHomePid.get(home.processID)?.deref() === this) byHomePid.delete(home.processID)
      const ended = (home === undefined ? Promise.resolve() : home.end().catch(() => {})).then(() => {
        const first = !self._ended
        self._ended = true
        self._queryable = false
        if (first) this.emit('end')
      })
      if (callback === undefined) return ended
      ended.then(() => callback(), callback)
      return undefined
    }
  }
  return PinDbPgClient
}
