/**
 * Per-call state shared by the classifier's passes (one module-level instance: classification
 * is synchronous, so it is never used by two calls at once).
 *
 * @internal
 * @module
 */
import type { UserFunctions } from './functions.js'
import { T_PUNCT, T_WORD, TokenBuffer } from './tokens.js'
import type { SqlSessionKind } from './types.js'

/** Classifier state for one {@link classifySql} call. */
export class Context {
  /** The SQL text. */
  sql = ''
  /** MySQL/MariaDB rules instead of PostgreSQL's. */
  mysql = false
  /** Tokens of {@link sql}. */
  readonly buf = new TokenBuffer()
  /** Compiled caller write functions. */
  user: UserFunctions | undefined = undefined
  /** Testing only: make query scans look at every token, not only the marked ones. */
  alwaysScan = false
  /** First write reason a scan found. */
  reason: string | undefined = undefined
  /** First session state a scan found. */
  session: SqlSessionKind | undefined = undefined

  /**
   * Records a finding of a scan. The first reason and first session win, except that a
   * statement is a session read (`session: 'read'`) only when every finding is one: any other
   * finding replaces the reason of a session read, and a session read mixed with anything else
   * is reported as session state (`'other'` unless the other finding names one).
   */
  found(reason: string, session: SqlSessionKind | undefined): void {
    if (this.reason === undefined) {
      this.reason = reason
      this.session = session
      return
    }
    if (session === 'read') {
      if (this.session !== 'read') this.session ??= 'other'
      return
    }
    if (this.session === 'read') {
      this.reason = reason
      this.session = session ?? 'other'
    } else if (this.session === undefined && session !== undefined) this.session = session
  }

  /** Word id of token `i` if it is a word before `e`, else 0. */
  wordAt(i: number, e: number): number {
    return i < e && this.buf.type(i) === T_WORD ? this.buf.val(i) : 0
  }

  /** Whether token `i` (before `e`) is the punctuation character `ch`. */
  punctAt(i: number, e: number, ch: number): boolean {
    return i < e && this.buf.type(i) === T_PUNCT && this.buf.val(i) === ch
  }
}

/** The classifier's shared state. */
export const context = new Context()
