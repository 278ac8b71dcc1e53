/**
 * Single-pass SQL lexer for PostgreSQL and MySQL/MariaDB.
 *
 * It writes tokens into a reusable {@link TokenBuffer} (one packed `Int32Array`) and allocates
 * nothing per character. Comments are skipped (pindb hint comments are
 * recorded), string literals, dollar quotes and quoted identifiers become single tokens, and
 * words are looked up in the keyword table without building strings.
 *
 * Where the servers themselves lex the same text differently depending on settings the
 * classifier cannot see (`standard_conforming_strings`, MySQL `NO_BACKSLASH_ESCAPES` /
 * `ANSI_QUOTES`, a MySQL versioned comment `/*!80000 … *\/` that one server executes and
 * another skips, a `\r` inside a MySQL line comment), the lexer lexes one reading and reports
 * in {@link TokenBuffer.ambiguity} which alternative readings exist, so the caller can lex
 * them too.
 *
 * @internal
 * @module
 */
import { isAttentionWord, isWriteFunctionWord, lookupWord } from './keywords.js'
import {
  CHAR_CLASS, DIGIT, IDENT_CONT, IDENT_START, hintAt, isPrefixCandidate, lineCommentEnd, nestedCommentEnd,
  numberEnd, prepareScan, quotedWordValue, sawBackslash, sawCR, scanIdent, scanQuoted,
} from './scanners.js'
import {
  LEX_CR_ENDS_COMMENT, LEX_EXEC_AS_COMMENT, LEX_FLIP_BACKSLASH, T_NUMBER, T_PARAM, T_PUNCT, T_QIDENT, T_STRING,
  T_SYSVAR, T_USERVAR, T_WORD, UNICODE_IDENT, type TokenBuffer,
} from './tokens.js'
import type { SqlDialect } from './types.js'

// Dispatch classes of the main loop (one dense switch: a jump table).
const K_SPACE = 0
const K_CONTROL = 1
const K_IDENT = 2
const K_DIGIT = 3
const K_QUOTE = 4
const K_DQUOTE = 5
const K_BACKTICK = 6
const K_DOLLAR = 7
const K_MINUS = 8
const K_HASH = 9
const K_SLASH = 10
const K_STAR = 11
const K_AT = 12
const K_DOT = 13
const K_OPEN = 14
const K_SEMICOLON = 15
const K_PUNCT = 16
/** ASCII character → dispatch class (non-ASCII characters are identifier characters). */
const DISPATCH = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const bits = CHAR_CLASS[c] as number
  DISPATCH[c] =
    c === 32 || (c >= 9 && c <= 13) ? K_SPACE
    : c < 32 ? K_CONTROL
    : (bits & IDENT_START) !== 0 ? K_IDENT
    : (bits & DIGIT) !== 0 ? K_DIGIT
    : c === 39 ? K_QUOTE
    : c === 34 ? K_DQUOTE
    : c === 96 ? K_BACKTICK
    : c === 36 ? K_DOLLAR
    : c === 45 ? K_MINUS
    : c === 35 ? K_HASH
    : c === 47 ? K_SLASH
    : c === 42 ? K_STAR
    : c === 64 ? K_AT
    : c === 46 ? K_DOT
    : c === 40 ? K_OPEN
    : c === 59 ? K_SEMICOLON
    : K_PUNCT
}

/**
 * Lexes `sql` into `out` (reset first). `mode` is a set of `LEX_*` bits selecting one reading
 * of the text where servers differ; `out.ambiguity` tells which other readings matter.
 * `callLengths` is a bit set of name lengths (bit `min(length, 31)`) of caller write functions:
 * the `(` of a call of a name with such a length is marked (see {@link TokenBuffer.marks}).
 */
export function tokenize(sql: string, dialect: SqlDialect, mode: number, out: TokenBuffer, callLengths: number): void {
  const mysql = dialect === 'mysql'
  const n = sql.length
  // Backslash escapes in plain '…' strings (and MySQL "…" strings).
  const plainBackslash = mysql === ((mode & LEX_FLIP_BACKSLASH) === 0)
  const crEnds = !mysql || (mode & LEX_CR_ENDS_COMMENT) !== 0
  const execAsComment = (mode & LEX_EXEC_AS_COMMENT) !== 0
  let data = out.data
  let count = 0
  let ambiguity = 0
  let execOpen = false
  let prevType = 0
  let prevVal = 0
  let prevStart = 0
  let prevEnd = 0
  let i = 0
  out.count = 0
  out.error = true
  out.hints = 0
  out.ambiguity = 0
  out.semicolons = 0
  out.markCount = 0
  prepareScan(sql)
  while (i < n) {
    const c = sql.charCodeAt(i)
    const start = i
    let type = T_PUNCT
    let val = 0
    let mark = false
    switch (c < 128 ? (DISPATCH[c] as number) : K_IDENT) {
      case K_SPACE:
        i++
        continue
      case K_CONTROL:
        return
      case K_IDENT: {
        const j = scanIdent(sql, i, n)
        type = T_WORD
        i = j
        if (j === start + 1 && j < n) {
          const d = sql.charCodeAt(j)
          const f = c | 0x20
          if (d === 39 && f === 101 && !mysql) {
            // E'…': backslash escapes whatever the settings.
            i = scanQuoted(sql, j + 1, n, 39, true)
            type = T_STRING
          } else if (d === 39 && (f === 98 || f === 120)) {
            // B'…' / X'…': no escapes, no doubling.
            i = sql.indexOf("'", j + 1)
            if (i >= 0) i++
            type = T_STRING
          } else if (d === 38 && f === 117 && !mysql && j + 1 < n) {
            const q = sql.charCodeAt(j + 1)
            if (q === 34 || q === 39) {
              // U&"…" / U&'…': Unicode escapes; backslashes never escape the quote.
              i = scanQuoted(sql, j + 2, n, q, false)
              type = q === 34 ? T_QIDENT : T_STRING
              val = q === 34 ? UNICODE_IDENT : 0
            }
          }
          if (i < 0) return
        }
        if (type === T_WORD) {
          val = lookupWord(sql, start, j)
          mark = val !== 0 && isAttentionWord(val)
        }
        break
      }
      case K_DIGIT:
        i = numberEnd(sql, i, n)
        type = T_NUMBER
        break
      case K_QUOTE:
        i = scanQuoted(sql, i + 1, n, 39, plainBackslash)
        if (sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
        if (i < 0) return
        type = T_STRING
        break
      case K_DQUOTE:
        // Identifier in PG; string (or, with ANSI_QUOTES, identifier) in MySQL.
        i = scanQuoted(sql, i + 1, n, 34, mysql && plainBackslash)
        if (mysql && sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
        if (i < 0) return
        type = T_QIDENT
        val = quotedWordValue(sql, start + 1, i - 1)
        break
      case K_BACKTICK:
        if (!mysql) {
          val = c
          i++
          break
        }
        i = scanQuoted(sql, i + 1, n, 96, false)
        if (i < 0) return
        type = T_QIDENT
        val = quotedWordValue(sql, start + 1, i - 1)
        break
      case K_DOLLAR: {
        if (mysql) {
          i = scanIdent(sql, i, n)
          type = T_WORD
          val = lookupWord(sql, start, i)
          mark = val !== 0 && isAttentionWord(val)
          break
        }
        const next = i + 1 < n ? sql.charCodeAt(i + 1) : 0
        if (next >= 48 && next <= 57) {
          i += 2
          while (i < n && ((CHAR_CLASS[sql.charCodeAt(i)] as number) & DIGIT) !== 0) i++
          type = T_PARAM
          break
        }
        // Dollar quote $tag$…$tag$ (tag: identifier characters without '$'); else a lone '$'.
        let j = i + 1
        if (next !== 36) {
          if (next < 128 && ((CHAR_CLASS[next] as number) & IDENT_START) === 0) j = -1
          else {
            j++
            while (j < n) {
              const d = sql.charCodeAt(j)
              if (d === 36 || (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0)) break
              j++
            }
            if (j >= n || sql.charCodeAt(j) !== 36) j = -1
          }
        }
        if (j < 0) {
          val = c
          i++
          break
        }
        const tag = sql.slice(i, j + 1)
        const close = sql.indexOf(tag, j + 1)
        if (close < 0) return
        i = close + tag.length
        type = T_STRING
        break
      }
      case K_MINUS: {
        // -- comment (MySQL: only when followed by whitespace, a control character or the end).
        const comment =
          i + 1 < n && sql.charCodeAt(i + 1) === 45 &&
          (!mysql || i + 2 >= n || sql.charCodeAt(i + 2) <= 32 || sql.charCodeAt(i + 2) === 127)
        if (!comment) {
          val = c
          i++
          break
        }
        const e = lineCommentEnd(sql, i + 2, n, crEnds)
        if (sawCR) ambiguity |= LEX_CR_ENDS_COMMENT
        out.hints |= hintAt(sql, i + 2, e)
        i = e
        continue
      }
      case K_HASH: {
        if (!mysql) {
          val = c
          i++
          break
        }
        const e = lineCommentEnd(sql, i + 1, n, crEnds)
        if (sawCR) ambiguity |= LEX_CR_ENDS_COMMENT
        out.hints |= hintAt(sql, i + 1, e)
        i = e
        continue
      }
      case K_SLASH: {
        if (i + 1 >= n || sql.charCodeAt(i + 1) !== 42) {
          val = c
          i++
          break
        }
        if (!mysql) {
          const e = nestedCommentEnd(sql, i + 2, n)
          if (e < 0) return
          out.hints |= hintAt(sql, i + 2, e - 2)
          i = e
          continue
        }
        const bang = i + 2 < n ? sql.charCodeAt(i + 2) : 0
        const mariaBang = bang === 77 && i + 3 < n && sql.charCodeAt(i + 3) === 33
        if ((bang === 33 || mariaBang) && !execOpen) {
          ambiguity |= LEX_EXEC_AS_COMMENT
          if (!execAsComment) {
            // Versioned comment lexed as code: skip the marker and version digits.
            execOpen = true
            i += mariaBang ? 4 : 3
            while (i < n && ((CHAR_CLASS[sql.charCodeAt(i)] as number) & DIGIT) !== 0) i++
            continue
          }
        }
        const e = sql.indexOf('*/', i + 2)
        if (e < 0) return
        out.hints |= hintAt(sql, i + 2, e)
        i = e + 2
        continue
      }
      case K_STAR:
        if (execOpen && i + 1 < n && sql.charCodeAt(i + 1) === 47) {
          execOpen = false
          i += 2
          continue
        }
        val = c
        i++
        break
      case K_AT: {
        const next = i + 1 < n ? sql.charCodeAt(i + 1) : 0
        if (!mysql) {
          val = c
          i++
        } else if (next === 64) {
          i += 2
          while (i < n) {
            const d = sql.charCodeAt(i)
            if (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
            i++
          }
          type = T_SYSVAR
          // A few system variables read per-connection state (`@@identity`): let the scan look.
          mark = true
        } else if (next === 39 || next === 34 || next === 96) {
          i = scanQuoted(sql, i + 2, n, next, next !== 96 && plainBackslash)
          if (next !== 96 && sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
          if (i < 0) return
          type = T_USERVAR
          mark = true
        } else if (next >= 128 || next === 46 || ((CHAR_CLASS[next] as number) & IDENT_CONT) !== 0) {
          i += 2
          while (i < n) {
            const d = sql.charCodeAt(i)
            if (d < 128 && d !== 46 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
            i++
          }
          type = T_USERVAR
          mark = true
        } else {
          val = c
          i++
        }
        break
      }
      case K_DOT: {
        const next = i + 1 < n ? sql.charCodeAt(i + 1) : 0
        if (next >= 48 && next <= 57) {
          i = numberEnd(sql, i, n)
          type = T_NUMBER
        } else {
          val = c
          i++
        }
        break
      }
      case K_OPEN:
        // A call of a function that may write: let the classifier look closer.
        if (prevType === T_QIDENT) mark = true
        else if (prevType === T_WORD) {
          mark =
            (prevVal !== 0 ? isWriteFunctionWord(prevVal) : isPrefixCandidate(sql.charCodeAt(prevStart))) ||
            (callLengths !== 0 && (callLengths & (1 << Math.min(prevEnd - prevStart, 31))) !== 0)
        }
        val = c
        i++
        break
      case K_SEMICOLON:
        out.semicolons++
        val = c
        i++
        break
      default:
        val = c
        i++
        break
    }
    const p = 3 * count
    if (p === data.length) data = out.grow()
    data[p] = start
    data[p + 1] = i
    data[p + 2] = (val << 4) | type
    if (mark) out.mark(count)
    count++
    prevType = type
    prevVal = val
    prevStart = start
    prevEnd = i
  }
  if (execOpen) return
  out.count = count
  out.error = false
  out.ambiguity = ambiguity
}
