/**
 * `PinDbPgClient`: what `PinDbPgPool.connect()` gives — a `pg.PoolClient` look-alike routed
 * statement by statement by the shared {@link RoutedSession} rules (transactions and session state
 * anchor it to one server; see `src/adapter/routed-session.ts` and the README).
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { RoutedSession } from '../adapter/routed-session.js'
import { PinDbError } from '../errors.js'
import type { RoutedPoolCore } from '../adapter/routed-pool.js'
import { queryArgs, settle } from './query-args.js'
import type { PgCallback, PgPoolClientLike, PgPoolLike, PgQueryConfig, PgQueryResult, PgSubmittable } from './types.js'

const FORWARDED = ['error', 'notice', 'notification'] as const

/** A routed client checked out of a `PinDbPgPool`. Call {@link PinDbPgClient.release} when done. */
export class PinDbPgClient extends EventEmitter {
  readonly #session: RoutedSession<PgPoolClientLike>
  readonly #detach = new Map<PgPoolClientLike, () => void>()

  /** @internal Use `pool.connect()`. */
  constructor(pool: RoutedPoolCore<PgPoolLike>) {
    super()
    this.#session = new RoutedSession({
      pindb: pool.pindb,
      planner: pool.planner,
      route: (statement, extra) => pool.route(statement, extra),
      waitForPosition: pool.waitForPosition,
      acquire: async (alias) => this.#attach(await (await pool.poolFor(alias)).connect()),
      giveBack: (client, err) => {
        this.#detach.get(client)?.()
        this.#detach.delete(client)
        client.release(err === undefined ? undefined : err instanceof Error ? err : true)
      },
    })
  }

  /** The alias this client is anchored to (open transaction or session state), if any. */
  get anchoredTo(): string | undefined {
    return this.#session.anchoredTo
  }

  /** Runs a statement: `query(text, values?, callback?)`, `query(config, callback?)` or `query(submittable)` (returned as given). */
  query<S extends PgSubmittable>(submittable: S): S
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, values?: unknown[]): Promise<R>
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, callback: PgCallback<R>): undefined
  query<R extends PgQueryResult = PgQueryResult>(query: string | PgQueryConfig, values: unknown[] | undefined, callback: PgCallback<R>): undefined
  query(...args: unknown[]): unknown {
    const { query, values, callback } = queryArgs(args)
    if (this.#session.released) {
      return settle(Promise.reject(new PinDbError('PINDB_CLOSED', '[pg] this client has been released; check out another with pool.connect().')), callback)
    }
    const sql = typeof query === 'string' ? query : query.text
    const run = this.#session.run(sql, async (client) => (await client.query(query, values)) as PgQueryResult)
    // A Submittable (pg-cursor, pg-query-stream) is returned as pg returns it, and submitted once routed.
    if (typeof query === 'object' && typeof (query as PgQueryConfig).submit === 'function') {
      run.catch((err: unknown) => {
        const emitter = query as unknown as Partial<EventEmitter>
        if (typeof emitter.emit === 'function') emitter.emit('error', err)
      })
      return query
    }
    return settle(run, callback)
  }

  /** Forwards a real client's events while this client holds it. */
  #attach(client: PgPoolClientLike): PgPoolClientLike {
    const listeners = FORWARDED.map((event) => {
      const listener = (...a: unknown[]): void => {
        if (event !== 'error' || this.listenerCount('error') > 0) this.emit(event, ...a)
      }
      client.on(event, listener)
      return [event, listener] as const
    })
    this.#detach.set(client, () => {
      for (const [event, listener] of listeners) client.removeListener(event, listener)
    })
    return client
  }

  /** Returns every underlying connection to its pool; `release(err)` / `release(true)` destroys them, as in pg. */
  release(err?: Error | boolean): void {
    if (this.#session.released) throw new Error('Release called on client which has already been released to the pool.')
    this.#session.release(err === undefined || err === false ? undefined : err)
  }

  /** As pg's `client.escapeIdentifier`. */
  escapeIdentifier(str: string): string {
    return `"${str.replace(/"/g, '""')}"`
  }

  /** As pg's `client.escapeLiteral`. */
  escapeLiteral(str: string): string {
    let hasBackslash = false
    let escaped = "'"
    for (const c of str) {
      if (c === "'") escaped += "''"
      else if (c === '\\') {
        escaped += '\\\\'
        hasBackslash = true
      } else escaped += c
    }
    return `${hasBackslash ? ' E' : ''}${escaped}'`
  }
}
