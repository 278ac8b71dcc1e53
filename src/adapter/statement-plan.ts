/**
 * Driver-independent statement routing for adapters: turns a SQL string into how pindb must
 * route it — read or write, a forced target, transaction control, connection-bound session state.
 *
 * @module
 */
import type { RouteHints } from '../options.js'
import type { RouteReason } from '../route-event.js'
import type { RouteOptions } from '../router.js'
import { classifySql, type SqlClassification, type SqlDialect } from '../sql/index.js'
import { replayableSettings, type SessionSetting } from './session-settings.js'

/** How an adapter routes one statement. */
export interface StatementPlan {
  /** `write` pins (greedy) or needs a pin (strict); `read` may use a replica. */
  readonly intent: 'read' | 'write'
  /** A forced target for a read (hint comment, session state). */
  readonly force?: 'primary' | 'replica'
  /** Reason to report when forced. */
  readonly reason?: RouteReason
  /** Transaction control, if the statement is one. */
  readonly transaction?: SqlClassification['transaction']
  /** The statement leaves state in the server session: the connection must not change afterwards. */
  readonly session: boolean
  /**
   * The statement only reads per-connection state (`LAST_INSERT_ID()`, `lastval()`,
   * `pg_backend_pid()`, `@@identity`): it runs on the connection whose state it reads — where the
   * session's last statement ran, else its home, else the primary — and neither pins nor anchors.
   */
  readonly connectionRead?: true
}

/**
 * Session statements that change no data: they need the primary's connection (so that later
 * writes see them) but do not count as a write — no pin, and strict mode does not object. Matched
 * on the classification's *reason*, so a data write that merely touches session state (`INSERT …
 * VALUES (@x)`, `UPDATE … set_config(…)`) still counts as a write.
 */
const SESSION_ONLY_REASONS = new Set(['set', 'prepare', 'cursor', 'listen', 'use', 'user-variable'])

function sessionOnly(c: SqlClassification): boolean {
  return SESSION_ONLY_REASONS.has(c.reason) || (c.session === 'temp-table' && c.reason === 'ddl')
}

const CACHE_LIMIT = 2048

/** A planned statement with everything routing needs, frozen and shared by every execution of the same SQL text. */
export interface PlannedStatement {
  readonly sql: string
  readonly plan: StatementPlan
  /** What the delegates are told: `{ sql }`. */
  readonly hints: RouteHints
  /** Route options: the pool's fixed set, the plan's forced target and reason, the SQL for events. */
  readonly options: RouteOptions
}

/**
 * Plans statements for one dialect and pool, caching by SQL text (ORMs repeat the same text with
 * new parameters), so that routing a repeated statement allocates nothing.
 */
export class StatementPlanner {
  readonly #dialect: SqlDialect
  readonly #writeFunctions: readonly string[]
  readonly #set: string | undefined
  readonly #cache = new Map<string, PlannedStatement>()
  readonly #settings = new Map<string, SessionSetting[] | null>()
  /** Statements a replica refused as writes: planned as writes from then on. */
  readonly #learned = new Set<string>()

  constructor(dialect: SqlDialect, writeFunctions: readonly string[] = [], set?: string) {
    this.#dialect = dialect
    this.#writeFunctions = writeFunctions
    this.#set = set
  }

  plan(sql: string): PlannedStatement {
    let planned = this.#cache.get(sql)
    if (planned === undefined) {
      const classified = classifySql(sql, { dialect: this.#dialect, writeFunctions: this.#writeFunctions })
      const plan = planFor(this.#learned.has(sql) && classified.kind === 'read' ? { ...classified, kind: 'write', reason: 'function' } : classified)
      const options: RouteOptions = { sql }
      if (this.#set !== undefined) options.set = this.#set
      if (plan.force !== undefined) options.force = plan.force
      if (plan.reason !== undefined) options.reason = plan.reason
      planned = Object.freeze({ sql, plan, hints: Object.freeze({ sql }), options: Object.freeze(options) })
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear()
      this.#cache.set(sql, planned)
    }
    return planned
  }

  /**
   * The connection-setup settings `sql` makes when it is nothing but replayable `SET`s (see
   * `session-settings.ts`); undefined otherwise.
   */
  settingsOf(sql: string): SessionSetting[] | undefined {
    let settings = this.#settings.get(sql)
    if (settings === undefined) {
      settings = replayableSettings(sql, this.#dialect) ?? null
      if (this.#settings.size >= CACHE_LIMIT) this.#settings.clear()
      this.#settings.set(sql, settings)
    }
    return settings ?? undefined
  }

  /** A replica refused `sql` as a write (it calls a function that writes): plan it as a write from now on. */
  learnWrite(sql: string): void {
    if (this.#learned.size >= CACHE_LIMIT) this.#learned.clear()
    this.#learned.add(sql)
    this.#cache.delete(sql)
  }
}

/** How an adapter routes a classified statement (exported for tools such as `pindb explain`). */
export function planFor(c: SqlClassification): StatementPlan {
  if (c.session === 'read') return { intent: 'read', force: 'primary', reason: 'session', session: false, connectionRead: true }
  const session = c.session !== undefined
  const base = c.transaction === undefined ? { session } : { session, transaction: c.transaction }
  if (c.transaction === 'begin') return { ...base, intent: 'write', reason: 'transaction' }
  if (c.transaction === 'begin-read-only') return { ...base, intent: 'read', reason: 'transaction' }
  if (c.transaction !== undefined) return { ...base, intent: 'read', force: 'primary', reason: 'transaction' }
  if (c.hint === 'primary') return { ...base, intent: c.kind, ...(c.kind === 'read' ? { force: 'primary' as const } : {}), reason: 'hint' }
  if (c.kind === 'read') return c.hint === 'replica' ? { ...base, intent: 'read', force: 'replica', reason: 'hint' } : { ...base, intent: 'read' }
  // EXECUTE of a prepared statement may write: it counts as one (its reason is 'execute').
  if (sessionOnly(c)) {
    return { ...base, intent: 'read', force: 'primary', reason: 'session' }
  }
  return { ...base, intent: 'write' }
}
