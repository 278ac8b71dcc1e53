/**
 * The routing rules of a checked-out connection, shared by every adapter. A routed session holds
 * at most one real connection per alias and routes statement by statement until the connection
 * must not change any more:
 *
 * - reads go to the unit of work's replica (one connection, kept for the checkout), writes to
 *   the primary; after a write, the session's reads go to the primary even outside a context;
 * - `BEGIN` / `START TRANSACTION` anchors the session on the primary (the transaction counts as a
 *   write: it pins, and strict mode needs a pin); `BEGIN READ ONLY` anchors it on the replica.
 *   Every statement until `COMMIT` / `ROLLBACK` runs on the anchor;
 * - session state (`SET`, `PREPARE`, cursors, `LISTEN`, temporary tables, advisory locks, user
 *   variables, `USE`) is created on the primary and anchors the session there until release: it
 *   is never split across servers.
 *
 * @module
 */
import type { PinDb } from '../pindb.js'
import type { RouteDecision } from '../route-event.js'
import type { RouteOptions } from '../router.js'
import { readWithFailover, type WaitForPosition } from './failover.js'
import type { PlannedStatement, StatementPlan, StatementPlanner } from './statement-plan.js'

/** What a routed pool gives its sessions. */
export interface SessionHost<Conn> {
  readonly pindb: PinDb<object>
  readonly planner: StatementPlanner
  /** Routes a planned statement (`extra` adds to or overrides its route options). */
  route(statement: PlannedStatement, extra?: RouteOptions): RouteDecision
  /** Checks out a real connection to `alias`. */
  acquire(alias: string): Promise<Conn>
  /** Gives a connection back; with an error, destroys it. */
  giveBack(conn: Conn, err?: unknown): void
  /** Causal reads with `waitMs`: wait on a replica for a position. */
  readonly waitForPosition?: WaitForPosition
}

/** Route options of a session anchored by session state: its reads stay on the primary. */
const SESSION_PRIMARY: RouteOptions = Object.freeze({ force: 'primary', reason: 'session' })
/** Route options of a session that wrote outside any unit of work: its own reads follow its writes. */
const CLIENT_PINNED: RouteOptions = Object.freeze({ force: 'primary', reason: 'pinned' })

interface Transaction {
  readonly set: string | undefined
  readonly readWrite: boolean
}

/** @internal See the module comment. */
export class RoutedSession<Conn> {
  readonly #host: SessionHost<Conn>
  readonly #conns = new Map<string, Conn>()
  #anchor: string | undefined
  #session = false
  #tx: Transaction | undefined
  #wrote = false
  #released = false
  #queue: Promise<unknown> = Promise.resolve()

  constructor(host: SessionHost<Conn>) {
    this.#host = host
  }

  /** The alias the session is anchored to (open transaction or session state), if any. */
  get anchoredTo(): string | undefined {
    return this.#anchor
  }

  /** Whether {@link RoutedSession.release} was called. */
  get released(): boolean {
    return this.#released
  }

  /** Routes `sql` and runs `fn` on the chosen connection; statements run in call order, as on one connection. */
  run<R>(sql: string, fn: (conn: Conn) => Promise<R>): Promise<R> {
    const result = this.#queue.then(() => this.#exec(sql, fn))
    this.#queue = result.catch(() => {})
    return result
  }

  async #exec<R>(sql: string, fn: (conn: Conn) => Promise<R>): Promise<R> {
    const { pindb } = this.#host
    const statement = this.#host.planner.plan(sql)
    const plan = statement.plan
    if (this.#tx !== undefined && this.#anchor !== undefined) {
      const anchor = this.#anchor
      const topology = pindb.topology
      const role = topology.sets.has(anchor) ? 'primary' : topology.replicaToSet.has(anchor) ? 'replica' : 'unmanaged'
      pindb.emitRoute({ intent: plan.intent, alias: anchor, set: this.#tx.set, role, reason: 'transaction' }, sql)
      const result = await fn(await this.#connection(anchor))
      this.#after(plan, anchor, this.#tx.set)
      return result
    }
    const forced: RouteOptions | undefined = this.#anchor !== undefined
      ? SESSION_PRIMARY
      : this.#wrote && !pindb.inContext ? CLIENT_PINNED : undefined
    if (plan.intent === 'write' || this.#anchor !== undefined) {
      const decision = this.#host.route(statement, plan.intent === 'read' ? forced : undefined)
      const alias = this.#anchor ?? decision.alias
      const result = await fn(await this.#connection(alias))
      this.#after(plan, alias, decision.set)
      return result
    }
    // An unanchored read (or BEGIN READ ONLY): the replica, with failover.
    return readWithFailover(
      pindb,
      (exclude, noWait) => this.#host.route(statement, exclude === undefined && !noWait
        ? forced
        : { ...forced, ...(exclude === undefined ? {} : { exclude, reason: 'failover' as const }), noWait }),
      async (decision) => {
        const result = await fn(await this.#connection(decision.alias))
        this.#after(plan, decision.alias, decision.set)
        return result
      },
      (decision, err) => this.#drop(decision.alias, err),
      this.#host.waitForPosition,
    )
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
      if (t !== 'rollback' && tx?.readWrite === true && tx.set !== undefined) this.#host.pindb.noteWrite(tx.set)
    }
    if (plan.session) {
      this.#anchor = alias
      this.#session = true
    }
    if (plan.intent === 'write' && t === undefined) {
      this.#wrote = true
      if (this.#tx === undefined && set !== undefined) this.#host.pindb.noteWrite(set)
    }
  }

  async #connection(alias: string): Promise<Conn> {
    const held = this.#conns.get(alias)
    if (held !== undefined) return held
    const conn = await this.#host.acquire(alias)
    if (this.#released) {
      this.#host.giveBack(conn)
      throw new Error('[pindb] the connection was released while a statement was being routed.')
    }
    this.#conns.set(alias, conn)
    return conn
  }

  /** Destroys a connection that failed. */
  #drop(alias: string, err: unknown): void {
    const conn = this.#conns.get(alias)
    if (conn === undefined) return
    this.#conns.delete(alias)
    this.#host.giveBack(conn, err ?? true)
  }

  /** Gives every connection back (destroys them with an error). Idempotence is the caller's concern. */
  release(err?: unknown): void {
    this.#released = true
    for (const conn of this.#conns.values()) this.#host.giveBack(conn, err)
    this.#conns.clear()
  }
}

/** Routes a planned statement; `extra` adds to (or overrides) its frozen route options. */
export function routePlanned(pindb: PinDb<object>, statement: PlannedStatement, extra?: RouteOptions): RouteDecision {
  return pindb.route(statement.plan.intent, statement.hints, extra === undefined ? statement.options : { ...statement.options, ...extra })
}

/**
 * Routes one statement outside any checked-out connection (a pool's own `query`): writes to the
 * primary (noting the write for causal reads), reads to a replica with failover.
 */
export function runPooled<R>(
  host: Pick<SessionHost<unknown>, 'pindb' | 'planner' | 'route' | 'waitForPosition'>,
  sql: string,
  fn: (alias: string) => Promise<R>,
): Promise<R> {
  const statement = host.planner.plan(sql)
  if (statement.plan.intent === 'write') return runWrite(host, statement, fn)
  return readWithFailover(
    host.pindb,
    (exclude, noWait) => host.route(statement, exclude === undefined ? (noWait ? NO_WAIT : undefined) : { exclude, reason: 'failover', noWait }),
    (d) => fn(d.alias),
    undefined,
    host.waitForPosition,
  )
}

async function runWrite<R>(host: Pick<SessionHost<unknown>, 'pindb' | 'route'>, statement: PlannedStatement, fn: (alias: string) => Promise<R>): Promise<R> {
  const decision = host.route(statement)
  const state = host.pindb.servers.get(decision.alias)
  state.outstanding++
  try {
    const result = await fn(decision.alias)
    if (decision.set !== undefined) host.pindb.noteWrite(decision.set)
    return result
  } finally {
    state.outstanding--
  }
}

/** Route options of an attempt that must not be offered a causal wait (again). */
const NO_WAIT: RouteOptions = Object.freeze({ noWait: true })
