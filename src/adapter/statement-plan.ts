/**
 * Driver-independent statement routing for adapters: turns a SQL string into how pindb must
 * route it — read or write, a forced target, transaction control, connection-bound session state.
 *
 * @module
 */
import type { RouteReason } from '../route-event.js'
import { classifySql, type SqlClassification, type SqlDialect } from '../sql/index.js'

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
}

/**
 * Session statements that change no data: they need the primary's connection (so that later
 * writes see them) but do not count as a write — no pin, and strict mode does not object.
 */
const SESSION_ONLY = new Set(['set', 'cursor', 'listen', 'temp-table', 'use', 'user-variable', 'prepare'])

const CACHE_LIMIT = 2048

/** Plans statements for one dialect, caching by SQL text (ORMs repeat the same text with new parameters). */
export class StatementPlanner {
  readonly #dialect: SqlDialect
  readonly #writeFunctions: readonly string[]
  readonly #cache = new Map<string, StatementPlan>()

  constructor(dialect: SqlDialect, writeFunctions: readonly string[] = []) {
    this.#dialect = dialect
    this.#writeFunctions = writeFunctions
  }

  plan(sql: string): StatementPlan {
    let plan = this.#cache.get(sql)
    if (plan === undefined) {
      plan = planFor(classifySql(sql, { dialect: this.#dialect, writeFunctions: this.#writeFunctions }))
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear()
      this.#cache.set(sql, plan)
    }
    return plan
  }
}

/** How an adapter routes a classified statement (exported for tools such as `pindb explain`). */
export function planFor(c: SqlClassification): StatementPlan {
  const session = c.session !== undefined
  const base = c.transaction === undefined ? { session } : { session, transaction: c.transaction }
  if (c.transaction === 'begin') return { ...base, intent: 'write', reason: 'transaction' }
  if (c.transaction === 'begin-read-only') return { ...base, intent: 'read', reason: 'transaction' }
  if (c.transaction !== undefined) return { ...base, intent: 'read', force: 'primary', reason: 'transaction' }
  if (c.hint === 'primary') return { ...base, intent: c.kind, ...(c.kind === 'read' ? { force: 'primary' as const } : {}), reason: 'hint' }
  if (c.kind === 'read') return c.hint === 'replica' ? { ...base, intent: 'read', force: 'replica', reason: 'hint' } : { ...base, intent: 'read' }
  // EXECUTE of a prepared statement may write: it counts as one.
  if (c.session !== undefined && SESSION_ONLY.has(c.session) && c.reason !== 'execute') {
    return { ...base, intent: 'read', force: 'primary', reason: 'session' }
  }
  return { ...base, intent: 'write' }
}
