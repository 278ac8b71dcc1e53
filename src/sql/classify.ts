/**
 * Routing classification of SQL text: is it certainly a read (may go to a replica), or
 * anything else (must go to the primary)?
 *
 * Pure TypeScript, no dependencies, no regular expressions on the SQL text: one lexing pass
 * over the characters into a reused token buffer, then a look at the few tokens that matter.
 *
 * @module
 */
import { context, type Context } from './context.js'
import { compileUserFunctions } from './functions.js'
import { analyzeStatement } from './statement.js'
import { tokenize } from './tokenizer.js'
import { HINT_PRIMARY, HINT_REPLICA, T_PUNCT } from './tokens.js'
import type { ClassifyOptions, SqlClassification, SqlDialect, SqlSessionKind, SqlTransactionKind } from './types.js'

const SEMICOLON = 59

/**
 * Classifies one SQL string for routing.
 *
 * The result is `kind: 'read'` only when the text is certainly a single read: `SELECT`,
 * `WITH … SELECT`, `VALUES`, `TABLE`, `SHOW`, `EXPLAIN` of such a query, MySQL
 * `DESCRIBE`/`HELP`, PostgreSQL `COPY … TO STDOUT` of a table or such a query, or
 * `BEGIN`/`START TRANSACTION … READ ONLY` — and a query has no data-modifying statement at any
 * depth, no locking clause, no `INTO`, no call to a known write function (or to one of
 * `options.writeFunctions`) and no MySQL user variable. Everything else — writes, DDL,
 * transaction and session statements, several statements, unknown or unparseable text, and
 * empty text (reason `'empty'`) — is `kind: 'write'`.
 *
 * Where the text lexes differently under server settings the classifier cannot see
 * (`standard_conforming_strings`, `NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`, MySQL versioned
 * comments), every reading must be a read for the result to be one (reason `'ambiguous'`
 * otherwise).
 *
 * Hint comments (outside string literals, anywhere in the text): `/* pindb:primary *\/` (or
 * `-- pindb:primary`, MySQL `# pindb:primary`) sets `hint: 'primary'` — the statement must run
 * on the primary whatever it is; `kind` still describes the statement. `/* pindb:replica *\/`
 * sets `hint: 'replica'` on a read only (a write is never sent to a replica). A hint that
 * changes a read's routing sets reason `'hint'`.
 *
 * Choices:
 * - `EXPLAIN [ANALYZE] stmt` is a read exactly when `stmt` is a certain read. `ANALYZE` runs
 *   the statement, which for a certain read is still a read; an `EXPLAIN` of a write without
 *   `ANALYZE` does not run it but is reported as a write (`'explain-write'`) all the same.
 * - Empty text or only comments is a write (`'empty'`): the primary is the safe side.
 * - `session` implies `kind: 'write'`: a statement that leaves or reads session state must run
 *   on the connection that holds it.
 * - Nothing is cached here (the adapter caches by text). Per call the classifier allocates its
 *   result and, only when they occur, a few small strings (dollar-quote tags, hint comments,
 *   names of write-function calls); never anything per character.
 *
 * @example
 * ```ts
 * classifySql('SELECT * FROM users WHERE id = $1', { dialect: 'postgres' })
 * // → { kind: 'read', reason: 'select' }
 * classifySql("SELECT nextval('s')", { dialect: 'postgres' })
 * // → { kind: 'write', reason: 'write-function:nextval' }
 * ```
 */
export function classifySql(sql: string, options: ClassifyOptions): SqlClassification {
  if (typeof sql !== 'string') return { kind: 'write', reason: 'unknown' }
  const ctx = context
  const dialect: SqlDialect = options.dialect === 'mysql' ? 'mysql' : 'postgres'
  ctx.sql = sql
  ctx.mysql = dialect === 'mysql'
  ctx.user = compileUserFunctions(options.writeFunctions)
  const buf = ctx.buf
  tokenize(sql, dialect, 0, buf, ctx.user === undefined ? 0 : ctx.user.callLengths)
  const hints = buf.hints
  let result: SqlClassification
  if (buf.error) result = { kind: 'write', reason: 'unparseable' }
  else {
    result = classifyTokens(ctx)
    if (result.kind === 'read' && buf.ambiguity !== 0) result = checkOtherReadings(ctx, dialect, buf.ambiguity, result)
  }
  ctx.sql = ''
  ctx.user = undefined
  buf.shrink()
  if ((hints & HINT_PRIMARY) !== 0) {
    if (result.kind === 'read') result.reason = 'hint'
    result.hint = 'primary'
  } else if ((hints & HINT_REPLICA) !== 0 && result.kind === 'read') {
    result.reason = 'hint'
    result.hint = 'replica'
  }
  return result
}

/** Classifies the tokens in the buffer, statement by statement. */
function classifyTokens(ctx: Context): SqlClassification {
  const buf = ctx.buf
  const n = buf.count
  const isSemicolon = (i: number): boolean => buf.type(i) === T_PUNCT && buf.val(i) === SEMICOLON
  if (buf.semicolons === 0) return analyzeStatement(ctx, 0, n)
  if (buf.semicolons === 1 && isSemicolon(n - 1)) return analyzeStatement(ctx, 0, n - 1)
  // Several statements: a write; keep the first session state and the last transaction step.
  let session: SqlSessionKind | undefined
  let transaction: SqlTransactionKind | undefined
  let s = 0
  for (let i = 0; i <= n; i++) {
    if (i < n && !isSemicolon(i)) continue
    if (i === n && s === n) break
    const part = analyzeStatement(ctx, s, i)
    // A session read among several statements may follow a write: report it as session state.
    if (session === undefined) session = part.session === 'read' ? 'other' : part.session
    if (part.transaction !== undefined) transaction = part.transaction
    s = i + 1
  }
  const result: SqlClassification = { kind: 'write', reason: 'multi-statement' }
  if (session !== undefined) result.session = session
  if (transaction !== undefined) result.transaction = transaction
  return result
}

/**
 * The text is a read under the default lexing but lexes differently under some server
 * setting: lex and classify every other reading (combinations of the `LEX_*` bits seen) and
 * require each to be a read too.
 */
function checkOtherReadings(ctx: Context, dialect: SqlDialect, seen: number, first: SqlClassification): SqlClassification {
  let tried = 1
  for (;;) {
    let mode = -1
    for (let m = 1; m < 8; m++) {
      if ((m & ~seen) === 0 && (tried & (1 << m)) === 0) {
        mode = m
        break
      }
    }
    if (mode < 0) return first
    tried |= 1 << mode
    tokenize(ctx.sql, dialect, mode, ctx.buf, ctx.user === undefined ? 0 : ctx.user.callLengths)
    if (ctx.buf.error) {
      // A server reading the text this way rejects it. PostgreSQL parses the whole string
      // before running any of it; MySQL runs statement by statement, so only an error in
      // the first statement is harmless.
      if (!ctx.mysql || ctx.buf.semicolons === 0) continue
      return { kind: 'write', reason: 'ambiguous' }
    }
    seen |= ctx.buf.ambiguity
    const other = classifyTokens(ctx)
    if (other.kind !== 'read') {
      const result: SqlClassification = { kind: 'write', reason: 'ambiguous' }
      if (other.session !== undefined) result.session = other.session === 'read' ? 'other' : other.session
      if (other.transaction !== undefined) result.transaction = other.transaction
      return result
    }
  }
}
