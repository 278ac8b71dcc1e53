/**
 * Differential test of the SQL classifier against the real PostgreSQL parser (libpg-query):
 * for every statement of the generated corpus, the ground truth is derived from the AST, and
 * the classifier must never call "read" what the AST says writes.
 */
import { loadModule, parseSync } from 'libpg-query'
import { beforeAll, describe, expect, it } from 'vitest'
import { context } from '../../src/sql/context.js'
import { classifySql, type SqlClassification } from '../../src/sql/index.js'
import { CORPUS_WRITE_FUNCTIONS, generateSqlCorpus } from '../support/sql-corpus.js'

/** Functions whose call the ground truth counts as a write (independent of the classifier's list). */
const TRUTH_WRITE_FUNCTIONS = new Set([
  'nextval', 'setval', 'currval', 'lastval', 'pg_notify', 'set_config', 'txid_current', 'pg_current_xact_id',
  'pg_switch_wal', 'lo_create', 'lo_creat', 'lo_import', 'lo_export', 'lo_unlink', 'lo_put', 'lo_from_bytea',
  'lo_truncate', 'lo_truncate64', 'lo_open', 'lo_close', 'lo_write', 'lowrite',
])
const TRUTH_WRITE_PREFIXES = ['pg_advisory_', 'pg_try_advisory_']

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = { [key: string]: Json }

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Name parts of a FuncCall (`funcname: [{String: {sval}}…]`), lower-cased. */
function funcName(call: Obj): string[] {
  const parts = call['funcname']
  if (!Array.isArray(parts)) return []
  return parts.map((p) => (isObj(p) && isObj(p['String']) ? String(p['String']['sval']).toLowerCase() : ''))
}

/** Whether a call of `parts` is a write function (built-in list, prefixes, or corpus functions). */
function isWriteCall(parts: string[]): boolean {
  const name = parts[parts.length - 1] ?? ''
  if (TRUTH_WRITE_FUNCTIONS.has(name) || TRUTH_WRITE_PREFIXES.some((p) => name.startsWith(p))) return true
  const qualifier = parts.length > 1 ? parts[parts.length - 2] : undefined
  for (const entry of CORPUS_WRITE_FUNCTIONS) {
    const dot = entry.lastIndexOf('.')
    const entryName = dot < 0 ? entry : entry.slice(dot + 1)
    const entrySchema = dot < 0 ? undefined : entry.slice(0, dot)
    if (entryName !== name) continue
    if (entrySchema === undefined || qualifier === undefined || qualifier === entrySchema) return true
  }
  return false
}

/** Whether anything anywhere in the tree writes, locks, selects INTO, or calls a write function. */
function treeWrites(node: Json | undefined): boolean {
  if (Array.isArray(node)) return node.some(treeWrites)
  if (!isObj(node)) return false
  for (const [key, value] of Object.entries(node)) {
    if (key === 'InsertStmt' || key === 'UpdateStmt' || key === 'DeleteStmt' || key === 'MergeStmt') return true
    if (key === 'lockingClause' && Array.isArray(value) && value.length > 0) return true
    if (key === 'intoClause') return true
    if (key === 'FuncCall' && isObj(value) && isWriteCall(funcName(value))) return true
    if (treeWrites(value)) return true
  }
  return false
}

/** A certain-read SELECT node (`{SelectStmt: …}`). */
function selectReads(node: Json | undefined): boolean {
  return isObj(node) && isObj(node['SelectStmt']) && !treeWrites(node['SelectStmt'])
}

/** Ground truth: is this one statement certainly a read? */
function astReads(parsed: Obj): boolean {
  const stmts = parsed['stmts']
  if (!Array.isArray(stmts) || stmts.length !== 1 || !isObj(stmts[0])) return false
  const stmt = stmts[0]['stmt']
  if (!isObj(stmt)) return false
  if ('SelectStmt' in stmt) return selectReads(stmt)
  if ('VariableShowStmt' in stmt) return true
  const explain = stmt['ExplainStmt']
  if (isObj(explain)) return selectReads(explain['query'])
  const copy = stmt['CopyStmt']
  if (isObj(copy)) {
    if (copy['is_from'] === true || copy['is_program'] === true || copy['filename'] !== undefined) return false
    return copy['relation'] !== undefined ? copy['query'] === undefined : selectReads(copy['query'])
  }
  const tx = stmt['TransactionStmt']
  if (isObj(tx) && (tx['kind'] === 'TRANS_STMT_BEGIN' || tx['kind'] === 'TRANS_STMT_START')) {
    const options = Array.isArray(tx['options']) ? tx['options'] : []
    const readOnly = options.map((o) => (isObj(o) && isObj(o['DefElem']) ? o['DefElem'] : undefined))
      .filter((d): d is Obj => d !== undefined && d['defname'] === 'transaction_read_only')
      .map((d) => JSON.stringify(d['arg'] ?? null))
    return readOnly.length > 0 && readOnly.every((arg) => arg.includes('"ival":1'))
  }
  return false
}

interface Row {
  sql: string
  truthRead: boolean
  kind: 'read' | 'write'
  reason: string
  /** The same statement classified with the tokenizer's shortcut disabled. */
  scanned: SqlClassification
  result: SqlClassification
}

const corpus = generateSqlCorpus()
const rows: Row[] = []
let unparseable = 0

beforeAll(async () => {
  await loadModule()
  for (const sql of corpus) {
    let parsed: Obj
    try {
      parsed = parseSync(sql) as Obj
    } catch {
      unparseable++
      continue
    }
    const options = { dialect: 'postgres', writeFunctions: CORPUS_WRITE_FUNCTIONS } as const
    const c = classifySql(sql, options)
    context.alwaysScan = true
    const scanned = classifySql(sql, options)
    context.alwaysScan = false
    rows.push({ sql, truthRead: astReads(parsed), kind: c.kind, reason: c.reason, scanned, result: c })
  }
  const reads = rows.filter((r) => r.truthRead)
  const falseWrites = reads.filter((r) => r.kind === 'write')
  console.log(
    `[sql-differential] corpus ${corpus.length}, parsed ${rows.length}, unparseable ${unparseable}; ` +
      `AST reads ${reads.length}, AST writes ${rows.length - reads.length}; ` +
      `false writes ${falseWrites.length} (${((100 * falseWrites.length) / Math.max(1, reads.length)).toFixed(2)} % of AST reads)`,
  )
  const byReason = new Map<string, number>()
  for (const r of falseWrites) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1)
  if (falseWrites.length > 0) console.log('[sql-differential] false writes by reason', Object.fromEntries(byReason))
}, 120_000)

describe('classifySql vs libpg-query AST', () => {
  it('the corpus is deterministic and large enough', () => {
    expect(generateSqlCorpus()).toEqual(corpus)
    expect(corpus.length).toBeGreaterThanOrEqual(2500)
    expect(new Set(corpus).size).toBeGreaterThan(2000)
  })

  it('at least 2,000 corpus statements parse', () => {
    expect(rows.length).toBeGreaterThanOrEqual(2000)
  })

  it('the corpus exercises both sides', () => {
    const reads = rows.filter((r) => r.truthRead).length
    expect(reads).toBeGreaterThan(500)
    expect(rows.length - reads).toBeGreaterThan(500)
  })

  it('never calls read what the AST says writes', () => {
    const falseReads = rows.filter((r) => !r.truthRead && r.kind === 'read').map((r) => `${r.reason}: ${r.sql}`)
    expect(falseReads).toEqual([])
  })

  it('gives the same result with the tokenizer shortcut disabled', () => {
    const differ = rows.filter((r) => JSON.stringify(r.result) !== JSON.stringify(r.scanned)).map((r) => r.sql)
    expect(differ).toEqual([])
  })

  it('calls read most of what the AST says reads (false-write rate < 5 %)', () => {
    const reads = rows.filter((r) => r.truthRead)
    const falseWrites = reads.filter((r) => r.kind === 'write')
    expect(falseWrites.length / reads.length).toBeLessThan(0.05)
  })
})
