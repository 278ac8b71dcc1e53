/**
 * Single-pass SQL lexer for PostgreSQL and MySQL/MariaDB.
 *
 * It writes tokens into a reusable {@link TokenBuffer} (typed arrays: type, start, end, value)
 * and allocates nothing per character. Comments are skipped (pindb hint comments are
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
import { lookupWord } from './keywords.js'
import type { SqlDialect } from './types.js'

/** Token types. */
export const T_WORD = 1
/** Quoted identifier (PG `"…"`, MySQL `` `…` `` and `"…"`). Value: −(word id of its content). */
export const T_QIDENT = 2
/** String literal or dollar-quoted string. */
export const T_STRING = 3
/** Numeric literal. */
export const T_NUMBER = 4
/** One punctuation or operator character; value is its char code. */
export const T_PUNCT = 5
/** Positional parameter `$1`. */
export const T_PARAM = 6
/** MySQL user variable `@name`. */
export const T_USERVAR = 7
/** MySQL system variable `@@name`. */
export const T_SYSVAR = 8

/** Value of a PostgreSQL `U&"…"` identifier: escapes can spell any name, so treat it as suspect. */
export const UNICODE_IDENT = -(1 << 26)

/** Lex MySQL versioned comments `/*!…*\/` as comments (as a server older than the version does). */
export const LEX_EXEC_AS_COMMENT = 1
/**
 * Flip backslash handling in plain strings: PostgreSQL with `standard_conforming_strings = off`,
 * MySQL with `NO_BACKSLASH_ESCAPES` (which also covers `ANSI_QUOTES` lexing of `"…"`).
 */
export const LEX_FLIP_BACKSLASH = 2
/** MySQL: let `\r` also end a `#` / `-- ` comment. */
export const LEX_CR_ENDS_COMMENT = 4

/** {@link TokenBuffer.hints} bit: a `pindb:primary` hint comment. */
export const HINT_PRIMARY = 1
/** {@link TokenBuffer.hints} bit: a `pindb:replica` hint comment. */
export const HINT_REPLICA = 2

const IDENT_START = 1
const IDENT_CONT = 2
const DIGIT = 4
/** ASCII character classes. */
const CHAR_CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
  const digit = c >= 48 && c <= 57
  CHAR_CLASS[c] = (letter ? IDENT_START | IDENT_CONT : 0) | (digit ? DIGIT | IDENT_CONT : 0) | (c === 36 ? IDENT_CONT : 0)
}

/**
 * Reusable token storage, grown on demand: three int32 per token — start offset, end offset,
 * and `(value << 4) | type`, where the value is the word id for words (0 if not a known
 * word), −id for quoted identifiers, and the character code for punctuation.
 */
export class TokenBuffer {
  /** Number of tokens. */
  count = 0
  /** Packed tokens. */
  data: Int32Array = new Int32Array(3 * 64)
  /** An unterminated string, quoted identifier, comment or dollar quote, or a stray control character. */
  error = false
  /** `HINT_*` bits of the hint comments seen (before the error, if lexing failed). */
  hints = 0
  /** `LEX_*` bits of alternative readings that would lex this text differently. */
  ambiguity = 0
  /** Number of `;` tokens (before the error, if lexing failed). */
  semicolons = 0

  /** Type (`T_*`) of token `i`. */
  type(i: number): number {
    return (this.data[3 * i + 2] as number) & 15
  }

  /** Value of token `i`. */
  val(i: number): number {
    return (this.data[3 * i + 2] as number) >> 4
  }

  /** Offset of token `i`'s first character. */
  start(i: number): number {
    return this.data[3 * i] as number
  }

  /** Offset after token `i`'s last character. */
  end(i: number): number {
    return this.data[3 * i + 1] as number
  }

  /** Doubles the storage (keeping the tokens) and returns the new array. */
  grow(): Int32Array {
    const data = new Int32Array(this.data.length * 2)
    data.set(this.data)
    this.data = data
    return data
  }
}

/** Whether the last {@link scanQuoted} met a backslash. */
let sawBackslash = false
/** Whether the last {@link lineCommentEnd} met a `\r` it did not stop at. */
let sawCR = false

/** End of the identifier starting at `i` (whose first character is already known valid). */
function scanIdent(sql: string, i: number, n: number): number {
  let j = i + 1
  while (j < n) {
    const d = sql.charCodeAt(j)
    if (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
    j++
  }
  return j
}

/**
 * Index after the closing quote `q` of a quoted run whose content starts at `p`, or −1 if
 * unterminated. A doubled quote stands for one quote; with `backslash`, `\` escapes the next
 * character. Sets {@link sawBackslash}.
 */
function scanQuoted(sql: string, p: number, n: number, q: number, backslash: boolean): number {
  sawBackslash = false
  while (p < n) {
    const c = sql.charCodeAt(p)
    if (c === q) {
      if (p + 1 < n && sql.charCodeAt(p + 1) === q) {
        p += 2
        continue
      }
      return p + 1
    }
    if (c === 92) {
      sawBackslash = true
      if (backslash) {
        p += 2
        continue
      }
    }
    p++
  }
  return -1
}

/** Word id of a quoted identifier's content `[p, e)` (0 if none), negated. */
function quotedWordValue(sql: string, p: number, e: number): number {
  return e > p ? -lookupWord(sql, p, e) : 0
}

/** End (exclusive, at the newline) of a line comment whose body starts at `p`. */
function lineCommentEnd(sql: string, p: number, n: number, crEnds: boolean): number {
  sawCR = false
  while (p < n) {
    const c = sql.charCodeAt(p)
    if (c === 10) return p
    if (c === 13) {
      if (crEnds) return p
      sawCR = true
    }
    p++
  }
  return n
}

/** Index after a PostgreSQL (nesting) block comment whose body starts at `p`, or −1. */
function nestedCommentEnd(sql: string, p: number, n: number): number {
  let depth = 1
  while (p < n - 1) {
    const c = sql.charCodeAt(p)
    if (c === 42 && sql.charCodeAt(p + 1) === 47) {
      p += 2
      if (--depth === 0) return p
    } else if (c === 47 && sql.charCodeAt(p + 1) === 42) {
      p += 2
      depth++
    } else p++
  }
  return -1
}

const HINT_TEXT = 'pindb:'
/** `HINT_*` bit if the comment body starting at `p` (before `limit`) is a pindb hint. */
function hintAt(sql: string, p: number, limit: number): number {
  while (p < limit) {
    const c = sql.charCodeAt(p)
    if (c !== 32 && c !== 9) break
    p++
  }
  if (p + 13 > limit) return 0
  for (let k = 0; k < 6; k++) if ((sql.charCodeAt(p + k) | 0x20) !== HINT_TEXT.charCodeAt(k)) return 0
  const after = p + 13
  if (after < limit) {
    const d = sql.charCodeAt(after)
    if (d >= 128 || ((CHAR_CLASS[d] as number) & IDENT_CONT) !== 0) return 0
  }
  const target = sql.slice(p + 6, after).toLowerCase()
  return target === 'primary' ? HINT_PRIMARY : target === 'replica' ? HINT_REPLICA : 0
}

/**
 * Lexes `sql` into `out` (reset first). `mode` is a set of `LEX_*` bits selecting one reading
 * of the text where servers differ; `out.ambiguity` tells which other readings matter.
 */
export function tokenize(sql: string, dialect: SqlDialect, mode: number, out: TokenBuffer): void {
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
  let i = 0
  out.count = 0
  out.error = true
  out.hints = 0
  out.ambiguity = 0
  out.semicolons = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (c <= 32) {
      if (c !== 32 && (c < 9 || c > 13)) return // stray control character
      i++
      continue
    }
    const start = i
    let type = 0
    let val = 0
    if (c >= 128 || ((CHAR_CLASS[c] as number) & IDENT_START) !== 0) {
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
      if (type === T_WORD) val = lookupWord(sql, start, j)
    } else {
      const next = i + 1 < n ? sql.charCodeAt(i + 1) : 0
      switch (c) {
        case 39: // '…'
          i = scanQuoted(sql, i + 1, n, 39, plainBackslash)
          if (sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
          if (i < 0) return
          type = T_STRING
          break
        case 34: // "…": identifier in PG; string (or, with ANSI_QUOTES, identifier) in MySQL.
          i = scanQuoted(sql, i + 1, n, 34, mysql && plainBackslash)
          if (mysql && sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
          if (i < 0) return
          type = T_QIDENT
          val = quotedWordValue(sql, start + 1, i - 1)
          break
        case 96: // `…` (MySQL)
          if (!mysql) break
          i = scanQuoted(sql, i + 1, n, 96, false)
          if (i < 0) return
          type = T_QIDENT
          val = quotedWordValue(sql, start + 1, i - 1)
          break
        case 36: {
          if (mysql) {
            i = scanIdent(sql, i, n)
            type = T_WORD
            val = lookupWord(sql, start, i)
            break
          }
          if (next >= 48 && next <= 57) {
            i += 2
            while (i < n && ((CHAR_CLASS[sql.charCodeAt(i)] as number) & DIGIT) !== 0) i++
            type = T_PARAM
            break
          }
          // Dollar quote $tag$…$tag$ (tag: identifier characters without '$').
          let j = i + 1
          if (next !== 36) {
            if (next < 128 && ((CHAR_CLASS[next] as number) & IDENT_START) === 0) break
            j++
            while (j < n) {
              const d = sql.charCodeAt(j)
              if (d === 36 || (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0)) break
              j++
            }
            if (j >= n || sql.charCodeAt(j) !== 36) break
          }
          const tag = sql.slice(i, j + 1)
          const close = sql.indexOf(tag, j + 1)
          if (close < 0) return
          i = close + tag.length
          type = T_STRING
          break
        }
        case 45: {
          // -- comment (MySQL: only when followed by whitespace, a control character or the end).
          if (next !== 45) break
          if (mysql && i + 2 < n) {
            const d = sql.charCodeAt(i + 2)
            if (d > 32 && d !== 127) break
          }
          const e = lineCommentEnd(sql, i + 2, n, crEnds)
          if (sawCR) ambiguity |= LEX_CR_ENDS_COMMENT
          out.hints |= hintAt(sql, i + 2, e)
          i = e
          continue
        }
        case 35: {
          if (!mysql) break
          const e = lineCommentEnd(sql, i + 1, n, crEnds)
          if (sawCR) ambiguity |= LEX_CR_ENDS_COMMENT
          out.hints |= hintAt(sql, i + 1, e)
          i = e
          continue
        }
        case 47: {
          if (next !== 42) break
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
        case 42:
          if (execOpen && next === 47) {
            execOpen = false
            i += 2
            continue
          }
          break
        case 64: {
          if (!mysql) break
          if (next === 64) {
            i += 2
            while (i < n) {
              const d = sql.charCodeAt(i)
              if (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
              i++
            }
            type = T_SYSVAR
          } else if (next === 39 || next === 34 || next === 96) {
            i = scanQuoted(sql, i + 2, n, next, next !== 96 && plainBackslash)
            if (next !== 96 && sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
            if (i < 0) return
            type = T_USERVAR
          } else if (next >= 128 || next === 46 || ((CHAR_CLASS[next] as number) & IDENT_CONT) !== 0) {
            i += 2
            while (i < n) {
              const d = sql.charCodeAt(i)
              if (d < 128 && d !== 46 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
              i++
            }
            type = T_USERVAR
          }
          break
        }
        default:
          break
      }
      if (type === 0) {
        if ((c >= 48 && c <= 57) || (c === 46 && next >= 48 && next <= 57)) {
          i = numberEnd(sql, i, n)
          type = T_NUMBER
        } else {
          if (c === 59) out.semicolons++
          i++
          type = T_PUNCT
          val = c
        }
      }
    }
    const p = 3 * count
    if (p === data.length) data = out.grow()
    data[p] = start
    data[p + 1] = i
    data[p + 2] = (val << 4) | type
    count++
  }
  if (execOpen) return
  out.count = count
  out.error = false
  out.ambiguity = ambiguity
}

/**
 * End of the numeric literal starting at `i`. Letters right after the digits start a new
 * token (as in PostgreSQL before 15), so `1into` still shows the keyword `into`.
 */
function numberEnd(sql: string, i: number, n: number): number {
  let j = i
  while (j < n) {
    const d = sql.charCodeAt(j)
    if ((d >= 48 && d <= 57) || d === 95) j++
    else break
  }
  if (j < n && sql.charCodeAt(j) === 46) {
    j++
    while (j < n) {
      const d = sql.charCodeAt(j)
      if ((d >= 48 && d <= 57) || d === 95) j++
      else break
    }
  }
  if (j < n && (sql.charCodeAt(j) | 0x20) === 101) {
    let k = j + 1
    if (k < n && (sql.charCodeAt(k) === 43 || sql.charCodeAt(k) === 45)) k++
    if (k < n && sql.charCodeAt(k) >= 48 && sql.charCodeAt(k) <= 57) {
      j = k
      while (j < n && sql.charCodeAt(j) >= 48 && sql.charCodeAt(j) <= 57) j++
    }
  }
  return j
}
