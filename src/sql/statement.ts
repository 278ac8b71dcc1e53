/**
 * Classification of one statement (a token range without `;`), dispatched on its first word.
 *
 * @internal
 * @module
 */
import type { Context } from './context.js'
import { kw, type Word } from './keywords.js'
import { scanQuery } from './scan.js'
import { begin, rollback, set, xa } from './transaction.js'
import type { SqlClassification, SqlSessionKind } from './types.js'
import { read, write } from './verdict.js'
import { copy, explain, startsQuery } from './wrapped.js'

const SELECT = kw('select')
const WITH = kw('with')
const VALUES = kw('values')
const TABLE = kw('table')
const SHOW = kw('show')
const EXPLAIN = kw('explain')
const DESCRIBE = kw('describe')
const DESC = kw('desc')
const INSERT = kw('insert')
const UPDATE = kw('update')
const DELETE = kw('delete')
const MERGE = kw('merge')
const REPLACE = kw('replace')
const UPSERT = kw('upsert')
const LOAD = kw('load')
const CREATE = kw('create')
const DROP = kw('drop')
const BEGIN = kw('begin')
const START = kw('start')
const COMMIT = kw('commit')
const END = kw('end')
const ROLLBACK = kw('rollback')
const ABORT = kw('abort')
const SAVEPOINT = kw('savepoint')
const RELEASE = kw('release')
const PREPARE = kw('prepare')
const TRANSACTION = kw('transaction')
const PREPARED = kw('prepared')
const SET = kw('set')
const RESET = kw('reset')
const COPY = kw('copy')
const HELP = kw('help')
const XA = kw('xa')
const TEMP = kw('temp')
const TEMPORARY = kw('temporary')
const WARNINGS = kw('warnings')
const ERRORS = kw('errors')
const PROFILE = kw('profile')
const PROFILES = kw('profiles')
const COUNT = kw('count')

const OPEN = 40

/** Statements that are writes whatever follows their first word: word → [reason, session]. */
const SIMPLE = new Map<number, readonly [string, SqlSessionKind | undefined]>()
function simple(reason: string, session: SqlSessionKind | undefined, words: readonly Word[]): void {
  for (const w of words) SIMPLE.set(kw(w), [reason, session])
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

/** Classifies the statement made of tokens `[s, e)`. */
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
      return explain(ctx, s, e, head, analyzeStatement)
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
      return ctx.mysql ? write('unknown') : copy(ctx, s, e, analyzeStatement)
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
      return write('show-session', 'read')
    }
    // `SHOW … WHERE expr` can call functions. (`'u'@'h'` account names are not variables.)
    if (scanQuery(ctx, s, e, false)) return write(ctx.reason as string, ctx.session)
  }
  return read('show')
}

