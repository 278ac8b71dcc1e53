/**
 * The query scan: looks through a query (`SELECT`, `WITH`, `VALUES`, `TABLE`, at any
 * parenthesis depth) for anything that makes it more than a read.
 *
 * @internal
 * @module
 */
import type { Context } from './context.js'
import { tokenName, writeCall } from './functions.js'
import { kw } from './keywords.js'
import { T_PUNCT, T_QIDENT, T_SYSVAR, T_USERVAR, T_WORD } from './tokens.js'

const INSERT = kw('insert')
const UPDATE = kw('update')
const DELETE = kw('delete')
const MERGE = kw('merge')
const INTO = kw('into')
const FOR = kw('for')
const KEY = kw('key')
const NO = kw('no')
const SHARE = kw('share')
const LOCK = kw('lock')
const IN = kw('in')
const AS = kw('as')
const FROM = kw('from')
const NEXT = kw('next')
const PREVIOUS = kw('previous')
const VALUE = kw('value')
const TEMP = kw('temp')
const TEMPORARY = kw('temporary')
const SQL_CALC_FOUND_ROWS = kw('sql_calc_found_rows')

const DOT = 46
const OPEN = 40

/**
 * Whether the data-modifying keyword `v` at `i` is used as a name (a column called `update`).
 * A real `INSERT`/`UPDATE`/`DELETE`/`MERGE` is never preceded by `.` or `AS`, never followed by
 * `.`, and always followed by a word or quoted name (`INTO`, `FROM`, a table, `ONLY`…) or —
 * MySQL `UPDATE (t1 JOIN t2)` — by `(`; only `DELETE` can be followed by `FROM`, none by `AS`.
 */
function isNameUse(ctx: Context, v: number, i: number, s: number, e: number): boolean {
  if (i > s && (ctx.punctAt(i - 1, e, DOT) || ctx.wordAt(i - 1, e) === AS)) return true
  if (i + 1 >= e) return true
  const t = ctx.buf.type(i + 1)
  if (t === T_PUNCT) return ctx.buf.val(i + 1) !== OPEN
  if (t !== T_WORD) return t !== T_QIDENT
  const next = ctx.buf.val(i + 1)
  return next === AS || (next === FROM && v !== DELETE)
}

/**
 * Scans tokens `[s, e)` for data-modifying statements (writable CTEs), locking clauses,
 * `INTO`, write-function calls, `NEXT VALUE FOR` / `PREVIOUS VALUE FOR`, MySQL
 * `SQL_CALC_FOUND_ROWS` and (when `userVariables`) MySQL user variables. Returns whether
 * anything was found; `ctx.reason` / `ctx.session` say what.
 *
 * Only the tokens the tokenizer marked can be any of those, so only they are inspected
 * (every token with `ctx.alwaysScan`, which tests that claim).
 */
export function scanQuery(ctx: Context, s: number, e: number, userVariables: boolean): boolean {
  const buf = ctx.buf
  ctx.reason = undefined
  ctx.session = undefined
  if (ctx.alwaysScan) {
    for (let i = s; i < e; i++) inspect(ctx, i, s, e, userVariables)
  } else {
    const marks = buf.marks
    for (let k = 0; k < buf.markCount; k++) {
      const i = marks[k] as number
      if (i >= e) break
      if (i >= s) inspect(ctx, i, s, e, userVariables)
    }
  }
  return ctx.reason !== undefined
}

/** Inspects token `i` of the query `[s, e)`, recording what makes it more than a read. */
function inspect(ctx: Context, i: number, s: number, e: number, userVariables: boolean): void {
  const buf = ctx.buf
  const t = buf.type(i)
  if (t === T_WORD) {
    const v = buf.val(i)
    if (v === INSERT || v === UPDATE || v === DELETE || v === MERGE) {
      if (isNameUse(ctx, v, i, s, e)) return
      const prev = i > s ? ctx.wordAt(i - 1, e) : 0
      if (v === UPDATE && (prev === FOR || prev === KEY)) ctx.found('locking-read', undefined)
      // A CTE body starts with '('; the main statement of a WITH follows ')' or a name.
      else ctx.found(i > s && ctx.punctAt(i - 1, e, OPEN) ? 'writable-cte' : 'dml', undefined)
    } else if (v === INTO) {
      if (i > s && ctx.punctAt(i - 1, e, DOT)) return
      const n1 = ctx.wordAt(i + 1, e)
      const n2 = ctx.wordAt(i + 2, e)
      const temp = n1 === TEMP || n1 === TEMPORARY || n2 === TEMP || n2 === TEMPORARY
      ctx.found('select-into', temp ? 'temp-table' : undefined)
    } else if (v === FOR) {
      const n1 = ctx.wordAt(i + 1, e)
      if (n1 === UPDATE || n1 === SHARE || n1 === NO || n1 === KEY) ctx.found('locking-read', undefined)
    } else if (v === LOCK) {
      if (ctx.mysql && ctx.wordAt(i + 1, e) === IN && ctx.wordAt(i + 2, e) === SHARE) ctx.found('locking-read', undefined)
    } else if (v === NEXT || v === PREVIOUS) {
      // MariaDB sequences: NEXT VALUE FOR s = NEXTVAL(s); PREVIOUS VALUE FOR s = LASTVAL(s).
      if (ctx.wordAt(i + 1, e) === VALUE && ctx.wordAt(i + 2, e) === FOR) {
        if (v === NEXT) ctx.found('write-function:nextval', undefined)
        else ctx.found('session-function:lastval', 'other')
      }
    } else if (v === SQL_CALC_FOUND_ROWS) {
      if (ctx.mysql) ctx.found('session-function:found_rows', 'other')
    }
  } else if (t === T_PUNCT) {
    if (buf.val(i) === OPEN && i > s) {
      const call = writeCall(ctx.sql, buf, i - 1, s, ctx.user)
      if (call !== undefined) ctx.found(call.reason, call.session)
    }
  } else if (t === T_USERVAR && userVariables) {
    ctx.found('user-variable', 'user-variable')
  } else if (t === T_SYSVAR) {
    const name = sessionVariable(ctx, i, e)
    if (name !== undefined) ctx.found(`session-variable:${name}`, 'read')
  }
}

/**
 * MySQL/MariaDB system variables whose value is per-connection state that an earlier statement
 * left: the last generated id, the last statement's diagnostics, the connection's own id.
 */
const SESSION_VARIABLES: ReadonlySet<string> = new Set([
  'identity', 'last_insert_id', 'insert_id', 'warning_count', 'error_count', 'last_gtid', 'pseudo_thread_id',
])

/** The name of the per-connection system variable at token `i` (`@@identity`, `@@session.last_insert_id`), else undefined. */
function sessionVariable(ctx: Context, i: number, e: number): string | undefined {
  const buf = ctx.buf
  let name = ctx.sql.slice(buf.start(i) + 2, buf.end(i)).toLowerCase()
  if ((name === 'session' || name === 'local') && ctx.punctAt(i + 1, e, DOT) && i + 2 < e) {
    const t = buf.type(i + 2)
    if (t !== T_WORD && t !== T_QIDENT) return undefined
    name = tokenName(ctx.sql, buf, i + 2)
  }
  return SESSION_VARIABLES.has(name) ? name : undefined
}
