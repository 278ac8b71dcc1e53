/**
 * Classification of one statement (a token range without `;`), dispatched on its first word.
 *
 * @internal
 * @module
 */
import type { Context } from './context.js'
import { kw, type Word } from './keywords.js'
import { scanQuery } from './scan.js'
import { T_PUNCT, T_QIDENT, T_STRING, T_USERVAR, T_WORD } from './tokenizer.js'
import type { SqlClassification, SqlSessionKind, SqlTransactionKind } from './types.js'

const k = (word: Word): number => kw(word)
const SELECT = k('select'), WITH = k('with'), VALUES = k('values'), TABLE = k('table')
const SHOW = k('show'), EXPLAIN = k('explain'), DESCRIBE = k('describe'), DESC = k('desc')
const INSERT = k('insert'), UPDATE = k('update'), DELETE = k('delete'), MERGE = k('merge')
const REPLACE = k('replace'), UPSERT = k('upsert'), LOAD = k('load'), CREATE = k('create'), DROP = k('drop')
const BEGIN = k('begin'), START = k('start'), COMMIT = k('commit'), END = k('end'), ROLLBACK = k('rollback')
const ABORT = k('abort'), SAVEPOINT = k('savepoint'), RELEASE = k('release'), PREPARE = k('prepare')
const SET = k('set'), RESET = k('reset'), COPY = k('copy'), HELP = k('help'), XA = k('xa')
const TRANSACTION = k('transaction'), WORK = k('work'), READ = k('read'), ONLY = k('only'), WRITE = k('write')
const ISOLATION = k('isolation'), LEVEL = k('level'), SERIALIZABLE = k('serializable')
const REPEATABLE = k('repeatable'), COMMITTED = k('committed'), UNCOMMITTED = k('uncommitted')
const DEFERRABLE = k('deferrable'), NOT = k('not'), CONSISTENT = k('consistent'), SNAPSHOT = k('snapshot')
const PREPARED = k('prepared'), TO = k('to'), FROM = k('from'), STDOUT = k('stdout'), INTO = k('into')
const TEMP = k('temp'), TEMPORARY = k('temporary'), ANALYZE = k('analyze'), ANALYSE = k('analyse')
const VERBOSE = k('verbose'), FORMAT = k('format'), EXTENDED = k('extended'), PARTITIONS = k('partitions')
const FOR = k('for'), CONNECTION = k('connection'), WARNINGS = k('warnings'), ERRORS = k('errors')
const PROFILE = k('profile'), PROFILES = k('profiles'), COUNT = k('count')

const OPEN = 40
const CLOSE = 41
const COMMA = 44
const DOT = 46
const EQUALS = 61

/** A write verdict. */
function write(reason: string, session?: SqlSessionKind, transaction?: SqlTransactionKind): SqlClassification {
  const r: SqlClassification = { kind: 'write', reason }
  if (session !== undefined) r.session = session
  if (transaction !== undefined) r.transaction = transaction
  return r
}

/** A read verdict. */
function read(reason: string): SqlClassification {
  return { kind: 'read', reason }
}

/** Statements that are writes whatever follows their first word: word → [reason, session]. */
const SIMPLE = new Map<number, readonly [string, SqlSessionKind | undefined]>()
function simple(reason: string, session: SqlSessionKind | undefined, words: readonly Word[]): void {
  for (const w of words) SIMPLE.set(k(w), [reason, session])
}
simple('ddl', undefined, ['alter', 'truncate', 'comment', 'rename', 'security', 'import', 'reassign'])
simple('dcl', undefined, ['grant', 'revoke'])
simple('lock', 'lock', ['lock', 'unlock'])
simple('listen', 'listen', ['listen', 'unlisten'])
simple('notify', undefined, ['notify'])
simple('call', undefined, ['call'])
simple('do', undefined, ['do'])
simple('maintenance', undefined, [
  'vacuum', 'analyze', 'analyse', 'refresh', 'cluster', 'reindex', 'checkpoint', 'optimize', 'repair',
  'check', 'checksum',
])
simple('admin', undefined, [
  'flush', 'kill', 'purge', 'install', 'uninstall', 'shutdown', 'restart', 'cache', 'binlog', 'change',
  'stop', 'clone',
])
simple('discard', 'other', ['discard'])
simple('execute', 'prepare', ['execute'])
simple('prepare', 'prepare', ['deallocate'])
simple('cursor', 'cursor', ['declare', 'fetch', 'move', 'close'])
simple('use', 'use', ['use'])
simple('handler', 'other', ['handler'])
simple('diagnostics', 'other', ['get'])

/** Whether a query (possibly parenthesised) starts at `i`. */
function startsQuery(ctx: Context, i: number, e: number): boolean {
  while (ctx.punctAt(i, e, OPEN)) i++
  const w = ctx.wordAt(i, e)
  return w === SELECT || w === WITH || w === VALUES || w === TABLE
}

/**
 * Classifies the statement made of tokens `[s, e)`.
 */
export function analyzeStatement(ctx: Context, s: number, e: number): SqlClassification {
  if (s >= e) return write('empty')
  if (ctx.punctAt(s, e, OPEN)) return startsQuery(ctx, s, e) ? query(ctx, s, e) : write('unknown')
  const head = ctx.wordAt(s, e)
  switch (head) {
    case SELECT:
    case WITH:
    case VALUES:
    case TABLE:
      return query(ctx, s, e)
    case SHOW:
      return show(ctx, s, e)
    case EXPLAIN:
    case DESCRIBE:
    case DESC:
      return explain(ctx, s, e, head)
    case INSERT:
    case UPDATE:
    case DELETE:
    case MERGE:
    case REPLACE:
    case UPSERT:
      scanQuery(ctx, s, e, true)
      return write('dml', ctx.session)
    case LOAD:
      return ctx.mysql ? write('dml') : write('load', 'other')
    case CREATE:
      // CREATE [OR REPLACE] [GLOBAL | LOCAL] TEMP[ORARY] …
      for (let i = s + 1; i <= s + 3; i++) {
        const w = ctx.wordAt(i, e)
        if (w === TEMP || w === TEMPORARY) return write('ddl', 'temp-table')
      }
      return write('ddl')
    case DROP:
      return ctx.mysql && ctx.wordAt(s + 1, e) === PREPARE ? write('prepare', 'prepare') : write('ddl')
    case BEGIN:
    case START:
      return begin(ctx, s, e, head === START)
    case COMMIT:
    case END:
      return write('transaction', undefined, ctx.wordAt(s + 1, e) === PREPARED ? 'prepare-transaction' : 'commit')
    case ROLLBACK:
    case ABORT:
      return rollback(ctx, s, e)
    case SAVEPOINT:
      return write('transaction', undefined, 'savepoint')
    case RELEASE:
      return write('transaction', undefined, 'release')
    case PREPARE:
      return ctx.wordAt(s + 1, e) === TRANSACTION
        ? write('transaction', undefined, 'prepare-transaction')
        : write('prepare', 'prepare')
    case SET:
      return set(ctx, s, e)
    case RESET:
      return ctx.mysql ? write('admin') : write('set', 'set')
    case COPY:
      return ctx.mysql ? write('unknown') : copy(ctx, s, e)
    case HELP:
      return ctx.mysql ? read('help') : write('unknown')
    case XA:
      return xa(ctx, s, e)
    default: {
      const verdict = SIMPLE.get(head)
      return verdict === undefined ? write('unknown') : write(verdict[0], verdict[1])
    }
  }
}

/** `SELECT` / `WITH` / `VALUES` / `TABLE` / `(…)`: a read unless the scan finds otherwise. */
function query(ctx: Context, s: number, e: number): SqlClassification {
  if (scanQuery(ctx, s, e, true)) return write(ctx.reason as string, ctx.session)
  return read('select')
}

/** `SHOW …`: a read, except MySQL's views of the previous statement (`SHOW WARNINGS` …). */
function show(ctx: Context, s: number, e: number): SqlClassification {
  if (ctx.mysql) {
    const w = ctx.wordAt(s + 1, e)
    const counted = w === COUNT ? ctx.wordAt(s + 5, e) : 0
    if (w === WARNINGS || w === ERRORS || w === PROFILE || w === PROFILES || counted === WARNINGS || counted === ERRORS) {
      return write('show-session', 'other')
    }
    // `SHOW … WHERE expr` can call functions. (`'u'@'h'` account names are not variables.)
    if (scanQuery(ctx, s, e, false)) return write(ctx.reason as string, ctx.session)
  }
  return read('show')
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
function explain(ctx: Context, s: number, e: number, head: number): SqlClassification {
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
 * `BEGIN` / `START TRANSACTION` with their modes. Read-only only when `READ ONLY` is the sole
 * access mode and every other word is a known transaction mode.
 */
function begin(ctx: Context, s: number, e: number, start: boolean): SqlClassification {
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
function rollback(ctx: Context, s: number, e: number): SqlClassification {
  if (ctx.wordAt(s + 1, e) === PREPARED) return write('transaction', undefined, 'prepare-transaction')
  for (let i = s + 1; i < e; i++) if (ctx.wordAt(i, e) === TO) return write('transaction', undefined, 'rollback-to')
  return write('transaction', undefined, 'rollback')
}

/** `SET TRANSACTION …` (this transaction only), MySQL `SET @v = …`, any other `SET`. */
function set(ctx: Context, s: number, e: number): SqlClassification {
  if (ctx.wordAt(s + 1, e) === TRANSACTION) return write('transaction', undefined, 'set-transaction')
  if (s + 1 < e && ctx.buf.type(s + 1) === T_USERVAR) return write('user-variable', 'user-variable')
  return write('set', 'set')
}

/**
 * PostgreSQL `COPY`: a read only for `COPY table TO STDOUT` and `COPY (certain read) TO STDOUT`.
 * `COPY … FROM` writes; `COPY … TO 'file' | PROGRAM` writes on the server that runs it.
 */
function copy(ctx: Context, s: number, e: number): SqlClassification {
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

/** MySQL `XA START | END | PREPARE | COMMIT | ROLLBACK | RECOVER`. */
function xa(ctx: Context, s: number, e: number): SqlClassification {
  const w = ctx.wordAt(s + 1, e)
  if (w === START || w === BEGIN) return write('xa', undefined, 'begin')
  if (w === PREPARE) return write('xa', undefined, 'prepare-transaction')
  if (w === COMMIT) return write('xa', undefined, 'commit')
  if (w === ROLLBACK) return write('xa', undefined, 'rollback')
  return write('xa')
}
