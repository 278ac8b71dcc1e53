/**
 * Token storage and token constants shared by the SQL tokenizer and classifier.
 *
 * @internal
 * @module
 */

/** Token type: a word (identifier or keyword). Value: its word id, 0 if not a known word. */
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
  /**
   * Indexes of the tokens a query scan must look at, in order: data-modifying, locking,
   * `INTO`, `NEXT`/`PREVIOUS` and `SQL_CALC_FOUND_ROWS` words, MySQL user variables, and each
   * `(` after a name that may be a write function. A query scan finds nothing elsewhere.
   */
  marks: Int32Array = new Int32Array(16)
  /** Number of {@link marks}. */
  markCount = 0

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

  /** Appends token index `i` to {@link marks}. */
  mark(i: number): void {
    if (this.markCount === this.marks.length) {
      const marks = new Int32Array(this.marks.length * 2)
      marks.set(this.marks)
      this.marks = marks
    }
    this.marks[this.markCount++] = i
  }

  /** Drops storage grown for a very long statement, so the module does not keep it alive. */
  shrink(): void {
    if (this.data.length > 3 * 16384) this.data = new Int32Array(3 * 64)
    if (this.marks.length > 1024) this.marks = new Int32Array(16)
    this.count = 0
    this.markCount = 0
  }

  /** Doubles the storage (keeping the tokens) and returns the new array. */
  grow(): Int32Array {
    const data = new Int32Array(this.data.length * 2)
    data.set(this.data)
    this.data = data
    return data
  }
}
