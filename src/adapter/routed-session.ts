/**
 * The routing rules of one logical connection (a checked-out client, an ORM's pooled connection),
 * shared by every adapter. A session may own a *home* connection (the server it connected to) and
 * borrows connections to other servers one statement at a time, holding a borrowed connection only
 * while the session is anchored to it — so a session never waits for a second connection while
 * holding one, and per-server pools cannot deadlock.
 *
 * - Reads go to a replica — the unit of work's sticky replica, or outside a unit of work the one
 *   this session already reads the set from (it never alternates) — with failover; writes go to
 *   the primary. After a write outside any unit of work, the session's reads follow its writes to
 *   the primary for the pin window.
 * - `BEGIN` / `START TRANSACTION` anchors the session on the primary (the transaction counts as a
 *   write: it pins, and strict mode needs a pin); `BEGIN READ ONLY` anchors it on the replica.
 *   Every statement until `COMMIT` / `ROLLBACK` runs on the anchor.
 * - Connection-setup settings (`SET TIME ZONE`, `SET search_path`, `SET NAMES`, …; see
 *   `session-settings.ts`) do not anchor: they are recorded and re-applied on whichever server the
 *   session's next statement runs.
 * - Other session state (`SET ROLE`, `PREPARE`, cursors, `LISTEN`, temporary tables, advisory
 *   locks, user variables, `USE`) is created on the primary and anchors the session there.
 *
 * @module
 */
import { PinDbError } from '../errors.js'
import type { PinDb } from '../pindb.js'
import type { RouteDecision } from '../route-event.js'
import type { RouteOptions } from '../router.js'
import { isServerFailure, readWithFailover, type WaitForPosition } from './failover.js'
import { seamOf, type RoutingSeam } from './seam.js'
import { applySettings, markApplied, SessionSettings, type SettingsApplier } from './session-settings.js'
import type { PlannedStatement, StatementPlan, StatementPlanner } from './statement-plan.js'

/** What a routed pool gives its sessions (the driver-specific half of the adapter contract). */
export interface SessionHost<Conn> {
  readonly pindb: PinDb<object>
  readonly planner: StatementPlanner
  /** Routes a planned statement (`extra` adds to or overrides its route options). */
  route(statement: PlannedStatement, extra?: RouteOptions): RouteDecision
  /** Borrows a real connection to `alias`. */
  acquire(alias: string): Promise<Conn>
  /** Gives a borrowed connection back; with an error, destroys it. */
  giveBack(conn: Conn, err?: unknown): void
  /** Causal reads with `waitMs`: wait on a replica for a position. */
  readonly waitForPosition?: WaitForPosition | undefined
  /** Re-applies connection-setup settings. Without it, settings anchor like other session state. */
  readonly settings?: SettingsApplier<Conn> | undefined
  /** Runs a statement under the liveness watch (see `liveness.ts`). */
  watch?<T>(alias: string, conn: Conn, run: () => Promise<T>): Promise<T>
}

/** Route options of a session anchored by session state: its reads stay on the primary. */
const SESSION_PRIMARY: RouteOptions = Object.freeze({ force: 'primary', reason: 'session' })
/** Route options of a session that wrote outside any unit of work: its own reads follow its writes. */
const CLIENT_PINNED: RouteOptions = Object.freeze({ force: 'primary', reason: 'pinned' })
/** How a replayable setting counts: neither a write nor session state (it is re-applied elsewhere). */
const SETTINGS_PLAN: StatementPlan = Object.freeze({ intent: 'read', session: false })
/** Route options of a read a replica refused as a write. */
const REFUSED: RouteOptions = Object.freeze({ force: 'primary', reason: 'refused' })

interface Transaction {
  readonly set: string | undefined
  readonly readWrite: boolean
}

interface Held<Conn> {
  readonly alias: string
  readonly conn: Conn
}

/** @internal See the module comment. */
export class RoutedSession<Conn extends object> {
  readonly #host: SessionHost<Conn>
  readonly #seam: RoutingSeam
  readonly #settings = new SessionSettings()
  /** Outside a unit of work: the replica this session reads each set from. */
  readonly #sticky = new Map<string, string>()
  #home: Held<Conn> | undefined
  #held: Held<Conn> | undefined
  #anchor: string | undefined
  #session = false
  #tx: Transaction | undefined
  #wroteAt = Number.NEGATIVE_INFINITY
  /** Where the last statement ran (a connection-state read must run there). */
  #lastAlias: string | undefined
  /** The statement running now. */
  #running: Held<Conn> | undefined
  #closed = false
  #queue: Promise<unknown> = Promise.resolve()
  /** Called when the home connection died (the owner stops using it). */
  onHomeLost: ((err: unknown) => void) | undefined

  constructor(host: SessionHost<Conn>) {
    this.#host = host
    this.#seam = seamOf(host.pindb)
  }

  /** The alias the session is anchored to (open transaction or session state), if any. */
  get anchoredTo(): string | undefined {
    return this.#anchor
  }

  /** Whether an explicit transaction is open. */
  get inTransaction(): boolean {
    return this.#tx !== undefined
  }

  /** Whether {@link RoutedSession.close} was called. */
  get released(): boolean {
    return this.#closed
  }

  /** The owned connection the session connected with, if any. */
  get home(): Held<Conn> | undefined {
    return this.#home
  }

  /** Sets the owned connection (statements routed to `alias` use it; it is never given back). */
  setHome(alias: string, conn: Conn): void {
    this.#home = { alias, conn }
  }

  /** The connection a statement to `alias` would use right now without borrowing, if any. */
  connectionFor(alias: string): Conn | undefined {
    return this.#home?.alias === alias ? this.#home.conn : this.#held?.alias === alias ? this.#held.conn : undefined
  }

  /** The alias of the connection `fn` is running on (set for the duration of each statement). */
  aliasOf(conn: Conn): string | undefined {
    return this.#running?.conn === conn ? this.#running.alias : undefined
  }

  /** Routes `sql` and runs `fn` on the chosen connection; statements run in call order, as on one connection. */
  run<R>(sql: string, fn: (conn: Conn) => Promise<R>): Promise<R> {
    const result = this.#queue.then(() => this.#exec(sql, fn))
    this.#queue = result.catch(() => {})
    return result
  }

  async #exec<R>(sql: string, fn: (conn: Conn) => Promise<R>): Promise<R> {
    if (this.#closed) throw new PinDbError('PINDB_CLOSED', '[adapter] this connection has been released or ended; check out another.')
    const host = this.#host
    const statement = host.planner.plan(sql)
    const plan = statement.plan
    if (this.#tx !== undefined && this.#anchor !== undefined) {
      const anchor = this.#anchor
      const topology = this.#seam.topology
      const role = topology.sets.has(anchor) ? 'primary' : topology.replicaToSet.has(anchor) ? 'replica' : 'unmanaged'
      this.#seam.emitRoute({ intent: plan.intent, alias: anchor, set: this.#tx.set, role, reason: 'transaction' }, sql)
      const done = this.#seam.track(anchor)
      try {
        return await this.#runOn(anchor, this.#tx.set, plan, fn)
      } finally {
        done()
      }
    }
    if (this.#anchor === undefined && host.settings !== undefined) {
      const settings = host.planner.settingsOf(sql)
      if (settings !== undefined) {
        const alias = this.#home?.alias ?? host.route(statement, SESSION_PRIMARY).alias
        return this.#runOn(alias, undefined, SETTINGS_PLAN, fn, () => this.#settings.record(settings))
      }
    }
    if (plan.connectionRead === true && this.#anchor === undefined) {
      // The connection whose state it reads: the last statement's if this session still has it
      // (its home, or one it holds), else its home (what `processID` names), else where it ran.
      const last = this.#lastAlias !== undefined && this.connectionFor(this.#lastAlias) !== undefined ? this.#lastAlias : undefined
      const alias = last ?? this.#home?.alias ?? this.#lastAlias ?? host.route(statement).alias
      if (alias === this.#lastAlias || alias === this.#home?.alias) {
        const topology = this.#seam.topology
        const set = topology.sets.has(alias) ? alias : topology.replicaToSet.get(alias)
        this.#seam.emitRoute({ intent: 'read', alias, set, role: topology.sets.has(alias) ? 'primary' : 'replica', reason: 'session' }, sql)
      }
      return this.#runOn(alias, undefined, plan, fn)
    }
    const forced: RouteOptions | undefined = this.#anchor !== undefined
      ? SESSION_PRIMARY
      : !this.#seam.inContext && this.#seam.now() - this.#wroteAt < this.#seam.options.pinMs ? CLIENT_PINNED : undefined
    if (plan.intent === 'write' || this.#anchor !== undefined) {
      const decision = host.route(statement, plan.intent === 'read' ? forced : undefined)
      const alias = this.#anchor ?? decision.alias
      const done = this.#seam.track(alias)
      try {
        return await this.#runOn(alias, decision.set, plan, fn)
      } finally {
        done()
      }
    }
    // An unanchored read (or BEGIN READ ONLY): a replica, with failover.
    // Inside a unit of work its sticky replica decides; outside, this session's own.
    const prefer = this.#sticky.size === 0 || this.#seam.inContext ? undefined : this.#sticky
    return readWithFailover(this.#seam, {
      sql,
      route: (exclude, noWait) => host.route(statement, exclude === undefined && !noWait && prefer === undefined
        ? forced
        : { ...forced, ...(exclude === undefined ? {} : { exclude, reason: 'failover' as const }), noWait, ...(prefer === undefined ? {} : { prefer }) }),
      routePrimary: () => host.route(statement, REFUSED),
      run: (decision) => {
        if (decision.role === 'replica' && decision.set !== undefined) this.#sticky.set(decision.set, decision.alias)
        return this.#runOn(decision.alias, decision.set, plan, fn)
      },
      waitForPosition: host.waitForPosition,
      onRefused: (text) => host.planner.learnWrite(text),
      abandoned: () => this.#closed,
    })
  }

  /** Runs `fn` on a connection to `alias`, then updates anchoring and gives back what is not kept. */
  async #runOn<R>(alias: string, set: string | undefined, plan: StatementPlan, fn: (conn: Conn) => Promise<R>, recordSettings?: () => void): Promise<R> {
    const kept = this.connectionFor(alias)
    const conn = kept ?? await this.#borrow(alias)
    let result: R
    try {
      const replaying = this.#host.settings === undefined ? undefined : applySettings(conn, this.#settings, this.#host.settings)
      if (replaying !== undefined) await replaying
      this.#running = { alias, conn }
      result = this.#host.watch === undefined ? await fn(conn) : await this.#host.watch(alias, conn, () => fn(conn))
      this.#running = undefined
    } catch (err) {
      this.#running = undefined
      const dead = isServerFailure(err, true)
      if (kept === undefined) this.#host.giveBack(conn, dead ? err : undefined)
      else if (dead) this.#lose(alias, err)
      throw err
    }
    if (recordSettings !== undefined) {
      recordSettings()
      markApplied(conn, this.#settings)
    }
    this.#lastAlias = alias
    this.#after(plan, alias, set)
    if (kept === undefined) {
      if (this.#anchor === alias && !this.#closed) this.#held = { alias, conn }
      else this.#host.giveBack(conn)
    } else if (this.#held !== undefined && this.#anchor === undefined) {
      const held = this.#held
      this.#held = undefined
      this.#host.giveBack(held.conn)
    }
    return result
  }

  async #borrow(alias: string): Promise<Conn> {
    const conn = await this.#host.acquire(alias)
    if (this.#closed) {
      this.#host.giveBack(conn)
      throw new PinDbError('PINDB_CLOSED', '[adapter] the connection was released while a statement was being routed.')
    }
    return conn
  }

  /** A kept connection died: forget it, and the transaction or session state it carried. */
  #lose(alias: string, err: unknown): void {
    if (this.#held?.alias === alias) {
      this.#host.giveBack(this.#held.conn, err)
      this.#held = undefined
    }
    if (this.#home?.alias === alias) {
      this.#home = undefined
      this.onHomeLost?.(err)
    }
    if (this.#anchor === alias) {
      this.#anchor = undefined
      this.#tx = undefined
      this.#session = false
    }
  }

  /** Updates anchoring after a statement succeeded on `alias`. */
  #after(plan: StatementPlan, alias: string, set: string | undefined): void {
    const t = plan.transaction
    if (t === 'begin' || t === 'begin-read-only') {
      this.#anchor = alias
      this.#tx = { set, readWrite: t === 'begin' }
    } else if (t === 'commit' || t === 'rollback' || t === 'prepare-transaction') {
      const tx = this.#tx
      this.#tx = undefined
      if (!this.#session) this.#anchor = undefined
      if (t !== 'rollback' && tx?.readWrite === true && tx.set !== undefined) this.#seam.noteWrite(tx.set)
    }
    if (plan.session) {
      this.#anchor = alias
      this.#session = true
    }
    if (plan.intent === 'write' && t === undefined) {
      if (!this.#seam.inContext) this.#wroteAt = this.#seam.now()
      if (this.#tx === undefined && set !== undefined) this.#seam.noteWrite(set)
    }
  }

  /**
   * A checkout of a pooled connection ended (the pool client was released): what belonged to that
   * caller — its own writes' read-your-writes window, its replica choice — does not carry over to
   * the next caller. Session state and open transactions stay, as on a pooled connection.
   */
  endCheckout(): void {
    this.#wroteAt = Number.NEGATIVE_INFINITY
    this.#sticky.clear()
    this.#lastAlias = undefined
  }

  /** Gives every borrowed connection back (destroys them with an error) and refuses further statements. */
  close(err?: unknown): void {
    this.#closed = true
    if (this.#held !== undefined) this.#host.giveBack(this.#held.conn, err)
    this.#held = undefined
  }

  /** @deprecated alias of {@link RoutedSession.close}, for adapters that check out one session per checkout. */
  release(err?: unknown): void {
    this.close(err)
  }
}

/** Routes a planned statement; `extra` adds to (or overrides) its frozen route options. */
export function routePlanned(pindb: PinDb<object>, statement: PlannedStatement, extra?: RouteOptions): RouteDecision {
  return seamOf(pindb).route(statement.plan.intent, statement.hints, extra === undefined ? statement.options : { ...statement.options, ...extra })
}

/**
 * Routes one statement outside any connection (a pool's own `query`): writes to the primary
 * (noting the write for causal reads), reads to a replica with failover.
 */
export function runPooled<R>(
  host: Pick<SessionHost<unknown>, 'pindb' | 'planner' | 'route' | 'waitForPosition'>,
  sql: string,
  fn: (alias: string) => Promise<R>,
): Promise<R> {
  const seam = seamOf(host.pindb)
  const statement = host.planner.plan(sql)
  if (statement.plan.intent === 'write') return runWrite(seam, host, statement, fn)
  return readWithFailover(seam, {
    sql,
    route: (exclude, noWait) => host.route(statement, exclude === undefined ? (noWait ? NO_WAIT : undefined) : { exclude, reason: 'failover', noWait }),
    routePrimary: () => host.route(statement, REFUSED),
    run: (d) => fn(d.alias),
    waitForPosition: host.waitForPosition,
    onRefused: (text) => host.planner.learnWrite(text),
  })
}

async function runWrite<R>(seam: RoutingSeam, host: Pick<SessionHost<unknown>, 'route'>, statement: PlannedStatement, fn: (alias: string) => Promise<R>): Promise<R> {
  const decision = host.route(statement)
  const done = seam.track(decision.alias)
  try {
    const result = await fn(decision.alias)
    if (decision.set !== undefined) seam.noteWrite(decision.set)
    return result
  } finally {
    done()
  }
}

/** Route options of an attempt that must not be offered a causal wait (again). */
const NO_WAIT: RouteOptions = Object.freeze({ noWait: true })
