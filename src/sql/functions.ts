/**
 * Recognising calls to functions that write (or depend on session state): the built-in
 * table of {@link ./keywords.ts}, name prefixes (`pg_advisory_*`, `pg_try_advisory_*`, and `lo_*`
 * except the read-only `lo_get`) and the caller's {@link ClassifyOptions.writeFunctions}.
 *
 * @internal
 * @module
 */
import { HASH_PRIME, HASH_SEED, writeFunctionOf } from './keywords.js'
import { T_PUNCT, T_QIDENT, T_WORD, UNICODE_IDENT, type TokenBuffer } from './tokens.js'
import type { SqlSessionKind } from './types.js'

/** Compiled {@link ClassifyOptions.writeFunctions}. */
export interface UserFunctions {
  /**
   * Folded hashes of the last name components, to skip most calls without building strings;
   * `undefined` when a name is not pure ASCII (folding and lower-casing then differ).
   */
  readonly hashes: ReadonlySet<number> | undefined
  /**
   * Bit `min(length, 31)` set for each name length, for the tokenizer's call filter; all bits
   * when a name is not pure ASCII (lower-casing may change its length).
   */
  readonly callLengths: number
  /** Last name component → qualifiers it is registered with (`''` = any qualification). */
  readonly byName: ReadonlyMap<string, readonly string[]>
}

const compiledCache = new WeakMap<readonly string[], UserFunctions | undefined>()
let lastList: readonly string[] | undefined
let lastCompiled: UserFunctions | undefined

/** Strips one layer of `"…"` / `` `…` `` quoting and lower-cases a name component. */
function normalisePart(part: string): string {
  const p = part.trim()
  const q = p.charCodeAt(0)
  if ((q === 34 || q === 96) && p.length >= 2 && p.charCodeAt(p.length - 1) === q) {
    const quote = p[0] as string
    return p.slice(1, -1).split(quote + quote).join(quote).toLowerCase()
  }
  return p.toLowerCase()
}

/** Folded hash of a normalised name, as the tokenizer computes it. */
function hashName(name: string): number {
  let h = HASH_SEED
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ (name.charCodeAt(i) | 0x20), HASH_PRIME)
  return h
}

/** Compiles (and caches per array instance) the caller's write-function list. */
export function compileUserFunctions(list: readonly string[] | undefined): UserFunctions | undefined {
  if (list === undefined || list.length === 0) return undefined
  if (list === lastList) return lastCompiled
  lastList = list
  if (compiledCache.has(list)) return (lastCompiled = compiledCache.get(list))
  const byName = new Map<string, string[]>()
  const hashes = new Set<number>()
  for (const entry of list) {
    const dot = entry.lastIndexOf('.')
    const name = normalisePart(dot < 0 ? entry : entry.slice(dot + 1))
    const qualifier = dot < 0 ? '' : normalisePart(entry.slice(0, dot).split('.').pop() ?? '')
    if (name === '') continue
    const quals = byName.get(name) ?? []
    quals.push(qualifier)
    byName.set(name, quals)
    hashes.add(hashName(name))
  }
  // eslint-disable-next-line no-control-regex
  const ascii = [...byName.keys()].every((name) => /^[\x00-\x7f]*$/.test(name))
  let callLengths = 0
  for (const name of byName.keys()) callLengths |= 1 << Math.min(name.length, 31)
  const compiled =
    byName.size === 0 ? undefined : { hashes: ascii ? hashes : undefined, byName, callLengths: ascii ? callLengths : ~0 }
  compiledCache.set(list, compiled)
  lastCompiled = compiled
  return compiled
}

/** Lower-cased name of a word or quoted-identifier token. */
export function tokenName(sql: string, buf: TokenBuffer, i: number): string {
  const s = buf.start(i)
  const e = buf.end(i)
  if (buf.type(i) !== T_QIDENT) return sql.slice(s, e).toLowerCase()
  const q = sql[s] as string
  return sql
    .slice(s + 1, e - 1)
    .split(q + q)
    .join(q)
    .toLowerCase()
}

/**
 * Folded hash of a word's or quoted identifier's name, as {@link hashName} computes it for
 * a lower-case name; 0 for a quoted name holding a quote character (compare strings then).
 */
function nameHash(sql: string, buf: TokenBuffer, i: number): number {
  const quoted = buf.type(i) === T_QIDENT
  const s = buf.start(i) + (quoted ? 1 : 0)
  const e = buf.end(i) - (quoted ? 1 : 0)
  let h = HASH_SEED
  for (let k = s; k < e; k++) {
    const c = sql.charCodeAt(k)
    if (quoted && (c === 34 || c === 96)) return 0
    h = Math.imul(h ^ (c | 0x20), HASH_PRIME)
  }
  return h
}

const LAST_INSERT_ID_REASON = 'write-function:last_insert_id'
const CLOSE = 41

/** What a write-function call found: its reason and the session state it touches. */
export interface CallVerdict {
  reason: string
  session: SqlSessionKind | undefined
}

const PREFIXES: ReadonlyArray<readonly [string, SqlSessionKind | undefined]> = [
  ['pg_advisory_', 'advisory-lock'],
  ['pg_try_advisory_', 'advisory-lock'],
  ['lo_', undefined],
]

/** Whether the token's name starts with `prefix` (lower-case ASCII), case-insensitively. */
function hasPrefix(sql: string, buf: TokenBuffer, i: number, prefix: string): boolean {
  const s = buf.start(i) + (buf.type(i) === T_QIDENT ? 1 : 0)
  if (buf.end(i) - s <= prefix.length) return false
  for (let k = 0; k < prefix.length; k++) if ((sql.charCodeAt(s + k) | 0x20) !== (prefix.charCodeAt(k) | 0x20)) return false
  return true
}

/**
 * If token `i` (the name before a `(`) names a write function, returns why; otherwise
 * `undefined`. `first` is the first token of the statement (qualifiers are not looked for
 * before it).
 */
export function writeCall(sql: string, buf: TokenBuffer, i: number, first: number, user: UserFunctions | undefined): CallVerdict | undefined {
  const t = buf.type(i)
  if (t !== T_WORD && t !== T_QIDENT) return undefined
  const v = buf.val(i)
  if (v === UNICODE_IDENT) return { reason: 'write-function:unicode-identifier', session: undefined }
  const id = v < 0 ? -v : v
  if (id !== 0) {
    const fn = writeFunctionOf(id)
    if (fn !== undefined) {
      // MySQL `LAST_INSERT_ID()` reads the session's value; `LAST_INSERT_ID(expr)` sets it.
      if (fn.reason === LAST_INSERT_ID_REASON && buf.type(i + 2) === T_PUNCT && buf.val(i + 2) === CLOSE) {
        return { reason: 'session-function:last_insert_id', session: 'read' }
      }
      return { reason: fn.reason, session: fn.session }
    }
  } else {
    const c = sql.charCodeAt(buf.start(i) + (t === T_QIDENT ? 1 : 0)) | 0x20
    if (c === 112 || c === 108) {
      for (const [prefix, session] of PREFIXES) {
        if (!hasPrefix(sql, buf, i, prefix)) continue
        const name = tokenName(sql, buf, i)
        if (name !== 'lo_get') return { reason: `write-function:${name}`, session }
      }
    }
  }
  if (user === undefined) return undefined
  if (user.hashes !== undefined) {
    const h = nameHash(sql, buf, i)
    if (h !== 0 && !user.hashes.has(h)) return undefined
  }
  const name = tokenName(sql, buf, i)
  const quals = user.byName.get(name)
  if (quals === undefined) return undefined
  let qualifier = ''
  if (i - 2 >= first && buf.type(i - 1) === T_PUNCT && buf.val(i - 1) === 46) qualifier = tokenName(sql, buf, i - 2)
  for (const q of quals) {
    if (q === '' || qualifier === '' || q === qualifier) {
      return { reason: `write-function:${q === '' ? name : `${q}.${name}`}`, session: undefined }
    }
  }
  return undefined
}
