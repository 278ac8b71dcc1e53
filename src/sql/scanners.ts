/**
 * Character classes and the scanners the tokenizer uses for runs of characters: identifiers,
 * quoted runs, comments, numbers, hint comments.
 *
 * @internal
 * @module
 */
import { lookupWord } from './keywords.js'
import { HINT_PRIMARY, HINT_REPLICA } from './tokens.js'

/** Character class bit: may start an identifier. */
export const IDENT_START = 1
/** Character class bit: may continue an identifier. */
export const IDENT_CONT = 2
/** Character class bit: decimal digit. */
export const DIGIT = 4
/** ASCII character classes (bits). */
export const CHAR_CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
  const digit = c >= 48 && c <= 57
  CHAR_CLASS[c] = (letter ? IDENT_START | IDENT_CONT : 0) | (digit ? DIGIT | IDENT_CONT : 0) | (c === 36 ? IDENT_CONT : 0)
}

/** Whether the last {@link scanQuoted} met a backslash. */
export let sawBackslash = false
/** Whether the last {@link lineCommentEnd} met a `\r` it did not stop at. */
export let sawCR = false
/** The text being scanned has no backslash (quoted runs can be skipped with `indexOf`). */
let noBackslash = false
/** The text being scanned has no `\r` (line comments can be skipped with `indexOf`). */
let noCR = false

/** Records the facts about `sql` the scanners use; call before scanning it. */
export function prepareScan(sql: string): void {
  noBackslash = sql.indexOf('\\') < 0
  noCR = sql.indexOf('\r') < 0
}

/** Quote character code → one-character string, for `indexOf`. */
const QUOTE_TEXT: Record<number, string> = { 34: '"', 39: "'", 96: '`' }

/** End of the identifier starting at `i` (whose first character is already known valid). */
export function scanIdent(sql: string, i: number, n: number): number {
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
export function scanQuoted(sql: string, p: number, n: number, q: number, backslash: boolean): number {
  sawBackslash = false
  if (noBackslash) {
    const quote = QUOTE_TEXT[q] as string
    for (;;) {
      const k = sql.indexOf(quote, p)
      if (k < 0) return -1
      if (k + 1 < n && sql.charCodeAt(k + 1) === q) p = k + 2
      else return k + 1
    }
  }
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
export function quotedWordValue(sql: string, p: number, e: number): number {
  return e > p ? -lookupWord(sql, p, e) : 0
}

/** End (exclusive, at the newline) of a line comment whose body starts at `p`. */
export function lineCommentEnd(sql: string, p: number, n: number, crEnds: boolean): number {
  sawCR = false
  if (noCR) {
    const k = sql.indexOf('\n', p)
    return k < 0 ? n : k
  }
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
export function nestedCommentEnd(sql: string, p: number, n: number): number {
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
export function hintAt(sql: string, p: number, limit: number): number {
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

/** Whether a word may start a write-function prefix (`pg_…`, `lo_…`): first letter p or l. */
export function isPrefixCandidate(c: number): boolean {
  const f = c | 0x20
  return f === 112 || f === 108
}

/**
 * End of the numeric literal starting at `i`. Letters right after the digits start a new
 * token (as in PostgreSQL before 15), so `1into` still shows the keyword `into`.
 */
export function numberEnd(sql: string, i: number, n: number): number {
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
