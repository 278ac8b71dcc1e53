/**
 * Single-pass SQL lexer for PostgreSQL and MySQL/MariaDB.
 *
 * It writes tokens into a reusable {@link TokenBuffer} (typed arrays: type, start, end, value)
 * and allocates nothing per character. Comments are skipped (pindb hint comments are
 * recorded), string literals, dollar quotes and quoted identifiers become single tokens, and
 * words are hashed while scanned so keywords are recognised without building strings.
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
import { HASH_PRIME, HASH_SEED, lookupWord } from './keywords.js'
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
export const UNICODE_IDENT = -0x7fff_ffff

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

/** Reusable token storage, grown on demand. */
export class TokenBuffer {
  /** Number of tokens. */
  count = 0
  /** Token type (`T_*`). */
  type = new Uint8Array(64)
  /** Offset of the token's first character. */
  start = new Int32Array(64)
  /** Offset after the token's last character. */
  end = new Int32Array(64)
  /** Word id for words (0 if unknown), −id for quoted identifiers, char code for punctuation. */
  val = new Int32Array(64)
  /** An unterminated string, quoted identifier, comment or dollar quote, or a stray control character. */
  error = false
  /** `HINT_*` bits of the hint comments seen. */
  hints = 0
  /** `LEX_*` bits of alternative readings that would lex this text differently. */
  ambiguity = 0
  /** Number of `;` tokens (before the error, if lexing failed). */
  semicolons = 0
  /** Folded hash of each word / quoted identifier's content (0 when not computed). */
  hash = new Int32Array(64)

  /** Appends a token. */
  push(type: number, start: number, end: number, val: number, hash: number): void {
    const i = this.count
    if (i === this.type.length) this.grow()
    this.type[i] = type
    this.start[i] = start
    this.end[i] = end
    this.val[i] = val
    this.hash[i] = hash
    this.count = i + 1
  }

  private grow(): void {
    const size = this.type.length * 2
    const type = new Uint8Array(size)
    const start = new Int32Array(size)
    const end = new Int32Array(size)
    const val = new Int32Array(size)
    const hash = new Int32Array(size)
    hash.set(this.hash)
    type.set(this.type)
    start.set(this.start)
    end.set(this.end)
    val.set(this.val)
    this.type = type
    this.start = start
    this.end = end
    this.val = val
    this.hash = hash
  }
}

/** Folded hash of the last identifier scanned by {@link scanIdent}. */
let identHash = 0
/** Whether the last {@link scanQuoted} met a backslash. */
let sawBackslash = false
/** Whether the last {@link lineCommentEnd} met a `\r` it did not stop at. */
let sawCR = false

/** End of the identifier starting at `i` (whose first character is already known valid). */
function scanIdent(sql: string, i: number, n: number): number {
  let h = Math.imul(HASH_SEED ^ (sql.charCodeAt(i) | 0x20), HASH_PRIME)
  let j = i + 1
  while (j < n) {
    const d = sql.charCodeAt(j)
    if (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
    h = Math.imul(h ^ (d | 0x20), HASH_PRIME)
    j++
  }
  identHash = h
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

/**
 * Word id of a quoted identifier's content `[p, e)` (0 if none), negated. Sets
 * {@link identHash} to the content's folded hash, or 0 when the content is long or holds a
 * quote character (callers then compare the normalised name).
 */
function quotedWordValue(sql: string, p: number, e: number): number {
  identHash = 0
  if (e - p > 64 || e <= p) return 0
  let h = HASH_SEED
  for (let k = p; k < e; k++) {
    const c = sql.charCodeAt(k)
    if (c === 34 || c === 96) return 0
    h = Math.imul(h ^ (c | 0x20), HASH_PRIME)
  }
  identHash = h
  return -lookupWord(h, sql, p, e)
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
  let hints = 0
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
    if (c >= 128 || ((CHAR_CLASS[c] as number) & IDENT_START) !== 0) {
      const j = scanIdent(sql, i, n)
      if (j === i + 1 && j < n) {
        const d = sql.charCodeAt(j)
        const f = c | 0x20
        if (d === 39) {
          if (f === 101 && !mysql) {
            // E'…': backslash escapes whatever the settings.
            const e = scanQuoted(sql, j + 1, n, 39, true)
            if (e < 0) return
            out.push(T_STRING, i, e, 0, 0)
            i = e
            continue
          }
          if (f === 98 || f === 120) {
            // B'…' / X'…': no escapes, no doubling.
            const e = sql.indexOf("'", j + 1)
            if (e < 0) return
            out.push(T_STRING, i, e + 1, 0, 0)
            i = e + 1
            continue
          }
        } else if (d === 38 && f === 117 && !mysql && j + 1 < n) {
          const q = sql.charCodeAt(j + 1)
          if (q === 34 || q === 39) {
            // U&"…" / U&'…': Unicode escapes, no backslash escapes of quotes.
            const e = scanQuoted(sql, j + 2, n, q, false)
            if (e < 0) return
            out.push(q === 34 ? T_QIDENT : T_STRING, i, e, q === 34 ? UNICODE_IDENT : 0, 0)
            i = e
            continue
          }
        }
      }
      out.push(T_WORD, i, j, lookupWord(identHash, sql, i, j), identHash)
      i = j
      continue
    }
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : 0
    switch (c) {
      case 39: {
        // '…'
        const e = scanQuoted(sql, i + 1, n, 39, plainBackslash)
        if (sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
        if (e < 0) return
        out.push(T_STRING, i, e, 0, 0)
        i = e
        continue
      }
      case 34: {
        // "…": identifier in PG; string (or, with ANSI_QUOTES, identifier) in MySQL.
        const e = scanQuoted(sql, i + 1, n, 34, mysql && plainBackslash)
        if (mysql && sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
        if (e < 0) return
        out.push(T_QIDENT, i, e, quotedWordValue(sql, i + 1, e - 1), identHash)
        i = e
        continue
      }
      case 96: {
        if (!mysql) break
        const e = scanQuoted(sql, i + 1, n, 96, false)
        if (e < 0) return
        out.push(T_QIDENT, i, e, quotedWordValue(sql, i + 1, e - 1), identHash)
        i = e
        continue
      }
      case 36: {
        if (mysql) {
          const j = scanIdent(sql, i, n)
          out.push(T_WORD, i, j, lookupWord(identHash, sql, i, j), identHash)
          i = j
          continue
        }
        if (next >= 48 && next <= 57) {
          let j = i + 2
          while (j < n && ((CHAR_CLASS[sql.charCodeAt(j)] as number) & DIGIT) !== 0) j++
          out.push(T_PARAM, i, j, 0, 0)
          i = j
          continue
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
        out.push(T_STRING, i, close + tag.length, 0, 0)
        i = close + tag.length
        continue
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
        hints |= hintAt(sql, i + 2, e)
        i = e
        continue
      }
      case 35: {
        if (!mysql) break
        const e = lineCommentEnd(sql, i + 1, n, crEnds)
        if (sawCR) ambiguity |= LEX_CR_ENDS_COMMENT
        i = e
        continue
      }
      case 47: {
        if (next !== 42) break
        if (!mysql) {
          const e = nestedCommentEnd(sql, i + 2, n)
          if (e < 0) return
          hints |= hintAt(sql, i + 2, e - 2)
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
        hints |= hintAt(sql, i + 2, e)
        i = e + 2
        continue
      }
      case 42: {
        if (execOpen && next === 47) {
          execOpen = false
          i += 2
          continue
        }
        break
      }
      case 64: {
        if (!mysql) break
        if (next === 64) {
          let j = i + 2
          while (j < n) {
            const d = sql.charCodeAt(j)
            if (d < 128 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
            j++
          }
          out.push(T_SYSVAR, i, j, 0, 0)
          i = j
          continue
        }
        if (next === 39 || next === 34 || next === 96) {
          const e = scanQuoted(sql, i + 2, n, next, next !== 96 && plainBackslash)
          if (next !== 96 && sawBackslash) ambiguity |= LEX_FLIP_BACKSLASH
          if (e < 0) return
          out.push(T_USERVAR, i, e, 0, 0)
          i = e
          continue
        }
        if (next >= 128 || (next !== 0 && ((CHAR_CLASS[next] as number) & IDENT_CONT) !== 0) || next === 46) {
          let j = i + 2
          while (j < n) {
            const d = sql.charCodeAt(j)
            if (d < 128 && d !== 46 && ((CHAR_CLASS[d] as number) & IDENT_CONT) === 0) break
            j++
          }
          out.push(T_USERVAR, i, j, 0, 0)
          i = j
          continue
        }
        break
      }
      default:
        break
    }
    if ((c >= 48 && c <= 57) || (c === 46 && next >= 48 && next <= 57)) {
      const e = numberEnd(sql, i, n)
      out.push(T_NUMBER, i, e, 0, 0)
      i = e
      continue
    }
    if (c === 59) out.semicolons++
    out.push(T_PUNCT, i, i + 1, c, 0)
    i++
  }
  if (execOpen) return
  out.error = false
  out.hints = hints
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
