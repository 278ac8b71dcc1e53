/**
 * Statements that wrap another statement: `EXPLAIN` (and MySQL `DESCRIBE`/`DESC`) and
 * PostgreSQL `COPY`. The wrapped statement is classified by the caller's `analyze`.
 *
 * @internal
 * @module
 */
import type { Context } from './context.js'
import { kw } from './keywords.js'
import { T_PUNCT, T_QIDENT, T_STRING, T_WORD } from './tokens.js'
import type { SqlClassification } from './types.js'
import { read, write } from './verdict.js'

/** Classifies the statement made of tokens `[s, e)`. */
export type Analyze = (ctx: Context, s: number, e: number) => SqlClassification

const SELECT = kw('select')
const WITH = kw('with')
const VALUES = kw('values')
const TABLE = kw('table')
const INSERT = kw('insert')
const UPDATE = kw('update')
const DELETE = kw('delete')
const REPLACE = kw('replace')
const EXPLAIN = kw('explain')
const ANALYZE = kw('analyze')
const ANALYSE = kw('analyse')
const VERBOSE = kw('verbose')
const FORMAT = kw('format')
const EXTENDED = kw('extended')
const PARTITIONS = kw('partitions')
const FOR = kw('for')
const CONNECTION = kw('connection')
const INTO = kw('into')
const TO = kw('to')
const FROM = kw('from')
const STDOUT = kw('stdout')

const OPEN = 40
const CLOSE = 41
const DOT = 46
const EQUALS = 61

/** Whether a query (possibly parenthesised) starts at `i`. */
export function startsQuery(ctx: Context, i: number, e: number): boolean {
  while (ctx.punctAt(i, e, OPEN)) i++
  const w = ctx.wordAt(i, e)
  return w === SELECT || w === WITH || w === VALUES || w === TABLE
}

/** Whether MySQL can EXPLAIN the statement at `i` (otherwise `EXPLAIN t` describes a table). */
function startsExplainable(ctx: Context, i: number, e: number): boolean {
  if (ctx.punctAt(i, e, OPEN)) return true
  const w = ctx.wordAt(i, e)
  return (
    w === SELECT || w === WITH || w === VALUES || w === TABLE || w === INSERT || w === UPDATE ||
    w === DELETE || w === REPLACE
  )
}

/**
 * `EXPLAIN [options] stmt` (and MySQL `DESCRIBE`/`DESC`): a read exactly when the explained
 * statement is a certain read, with or without `ANALYZE` (which executes it). An `EXPLAIN`
 * of a write without `ANALYZE` does not execute it, but is still reported as a write.
 */
export function explain(ctx: Context, s: number, e: number, head: number, analyzeStatement: Analyze): SqlClassification {
  let i = s + 1
  let analyze = false
  if (!ctx.mysql) {
    if (head !== EXPLAIN) return write('unknown')
    if (ctx.punctAt(i, e, OPEN) && !startsQuery(ctx, i, e)) {
      let depth = 0
      for (; i < e; i++) {
        if (ctx.punctAt(i, e, OPEN)) depth++
        else if (ctx.punctAt(i, e, CLOSE)) {
          if (--depth === 0) break
        } else {
          const w = ctx.wordAt(i, e)
          if (w === ANALYZE || w === ANALYSE) analyze = true
        }
      }
      if (depth !== 0) return write('unknown')
      i++
    } else {
      for (;;) {
        const w = ctx.wordAt(i, e)
        if (w === ANALYZE || w === ANALYSE) analyze = true
        else if (w !== VERBOSE) break
        i++
      }
    }
  } else {
    for (;;) {
      const w = ctx.wordAt(i, e)
      if (w === ANALYZE) analyze = true
      else if (w === FORMAT) i += ctx.punctAt(i + 1, e, EQUALS) ? 2 : 1
      else if (w !== EXTENDED && w !== PARTITIONS && w !== VERBOSE) break
      i++
    }
    const w = ctx.wordAt(i, e)
    if (w === FOR && ctx.wordAt(i + 1, e) === CONNECTION) return read('explain')
    if (w === INTO) return write('select-into', 'user-variable')
    if (!startsExplainable(ctx, i, e)) return describe(ctx, i, e)
  }
  if (i >= e) return write('unknown')
  const inner = analyzeStatement(ctx, i, e)
  if (inner.kind === 'read' && inner.reason === 'select') return read('explain')
  return write(analyze ? 'explain-analyze' : 'explain-write', inner.session)
}

/** MySQL `DESCRIBE t [col | 'pattern']`: names and strings only. */
function describe(ctx: Context, i: number, e: number): SqlClassification {
  const buf = ctx.buf
  if (i >= e || (buf.type(i) !== T_WORD && buf.type(i) !== T_QIDENT)) return write('unknown')
  for (let j = i; j < e; j++) {
    const t = buf.type(j)
    if (t !== T_WORD && t !== T_QIDENT && t !== T_STRING && !(t === T_PUNCT && buf.val(j) === DOT)) return write('unknown')
  }
  return read('describe')
}

/**
 * PostgreSQL `COPY`: a read only for `COPY table TO STDOUT` and `COPY (certain read) TO STDOUT`.
 * `COPY … FROM` writes; `COPY … TO 'file' | PROGRAM` writes on the server that runs it.
 */
export function copy(ctx: Context, s: number, e: number, analyzeStatement: Analyze): SqlClassification {
  let i = s + 1
  if (ctx.punctAt(i, e, OPEN)) {
    let depth = 0
    let close = -1
    for (let j = i; j < e; j++) {
      if (ctx.punctAt(j, e, OPEN)) depth++
      else if (ctx.punctAt(j, e, CLOSE) && --depth === 0) {
        close = j
        break
      }
    }
    if (close < 0 || ctx.wordAt(close + 1, e) !== TO) return write('unknown')
    const inner = analyzeStatement(ctx, i + 1, close)
    if (inner.kind === 'write') return write(inner.reason, inner.session)
    if (inner.reason !== 'select') return write('unknown')
    return ctx.wordAt(close + 2, e) === STDOUT ? read('copy-to') : write('copy-to-file')
  }
  let depth = 0
  for (; i < e; i++) {
    if (ctx.punctAt(i, e, OPEN)) depth++
    else if (ctx.punctAt(i, e, CLOSE)) depth--
    else if (depth === 0) {
      const w = ctx.wordAt(i, e)
      if (w === FROM) return write('copy-from')
      if (w === TO) return ctx.wordAt(i + 1, e) === STDOUT ? read('copy-to') : write('copy-to-file')
    }
  }
  return write('unknown')
}
