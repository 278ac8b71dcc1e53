/**
 * Transaction-control and `SET` statements: `BEGIN` / `START TRANSACTION` with their modes,
 * `ROLLBACK [TO]`, `SET [TRANSACTION]`, MySQL `XA`.
 *
 * @internal
 * @module
 */
import type { Context } from './context.js'
import { kw } from './keywords.js'
import { T_USERVAR } from './tokens.js'
import type { SqlClassification } from './types.js'
import { write } from './verdict.js'

const TRANSACTION = kw('transaction')
const WORK = kw('work')
const READ = kw('read')
const ONLY = kw('only')
const WRITE = kw('write')
const ISOLATION = kw('isolation')
const LEVEL = kw('level')
const SERIALIZABLE = kw('serializable')
const REPEATABLE = kw('repeatable')
const COMMITTED = kw('committed')
const UNCOMMITTED = kw('uncommitted')
const DEFERRABLE = kw('deferrable')
const NOT = kw('not')
const WITH = kw('with')
const CONSISTENT = kw('consistent')
const SNAPSHOT = kw('snapshot')
const PREPARED = kw('prepared')
const TO = kw('to')
const START = kw('start')
const BEGIN = kw('begin')
const PREPARE = kw('prepare')
const COMMIT = kw('commit')
const ROLLBACK = kw('rollback')

const COMMA = 44

/**
 * `BEGIN` / `START TRANSACTION` with their modes, in any order. A read (`begin-read-only`) only
 * when `READ ONLY` is the sole access mode and every other word is a known transaction mode.
 */
export function begin(ctx: Context, s: number, e: number, start: boolean): SqlClassification {
  let i = s + 1
  if (start) {
    if (ctx.wordAt(i, e) !== TRANSACTION) return write('admin') // START SLAVE / REPLICA …
    i++
  }
  let readOnly = false
  let readWrite = false
  for (; i < e; i++) {
    if (ctx.punctAt(i, e, COMMA)) continue
    const w = ctx.wordAt(i, e)
    if (w === READ) {
      const next = ctx.wordAt(i + 1, e)
      if (next === ONLY) readOnly = true
      else if (next === WRITE) readWrite = true
      else if (next !== COMMITTED && next !== UNCOMMITTED) return write('transaction', undefined, 'begin')
      i++
    } else if (w === REPEATABLE) {
      if (ctx.wordAt(i + 1, e) !== READ) return write('transaction', undefined, 'begin')
      i++
    } else if (
      w !== WORK && w !== TRANSACTION && w !== ISOLATION && w !== LEVEL && w !== SERIALIZABLE &&
      w !== DEFERRABLE && w !== NOT && w !== WITH && w !== CONSISTENT && w !== SNAPSHOT
    ) {
      return write('transaction', undefined, 'begin')
    }
  }
  if (readOnly && !readWrite) return { kind: 'read', reason: 'transaction', transaction: 'begin-read-only' }
  return write('transaction', undefined, 'begin')
}

/** `ROLLBACK` / `ABORT`, `ROLLBACK … TO [SAVEPOINT] x`, `ROLLBACK PREPARED 'id'`. */
export function rollback(ctx: Context, s: number, e: number): SqlClassification {
  if (ctx.wordAt(s + 1, e) === PREPARED) return write('transaction', undefined, 'prepare-transaction')
  for (let i = s + 1; i < e; i++) if (ctx.wordAt(i, e) === TO) return write('transaction', undefined, 'rollback-to')
  return write('transaction', undefined, 'rollback')
}

/** `SET TRANSACTION …` (this transaction only), MySQL `SET @v = …`, any other `SET`. */
export function set(ctx: Context, s: number, e: number): SqlClassification {
  if (ctx.wordAt(s + 1, e) === TRANSACTION) return write('transaction', undefined, 'set-transaction')
  if (s + 1 < e && ctx.buf.type(s + 1) === T_USERVAR) return write('user-variable', 'user-variable')
  return write('set', 'set')
}

/** MySQL `XA START | END | PREPARE | COMMIT | ROLLBACK | RECOVER`. */
export function xa(ctx: Context, s: number, e: number): SqlClassification {
  const w = ctx.wordAt(s + 1, e)
  if (w === START || w === BEGIN) return write('xa', undefined, 'begin')
  if (w === PREPARE) return write('xa', undefined, 'prepare-transaction')
  if (w === COMMIT) return write('xa', undefined, 'commit')
  if (w === ROLLBACK) return write('xa', undefined, 'rollback')
  return write('xa')
}
