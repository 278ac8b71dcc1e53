/**
 * The pin token: a signed, compact, cookie- and header-safe string that carries a unit of work's
 * live pins to the next HTTP request (cookie or header) or into a queued job.
 *
 * django-pindb used an unsigned JSON cookie (`[[alias, untilEpochSeconds], …]`): a malformed value
 * made the request fail with a 500, and a client could forge a pin that lasted for years. This
 * codec signs the token, never throws on input, and clamps every expiry to the pin window.
 *
 * ## Format (version 1)
 *
 * ```text
 * 1.<payload>.<mac>
 * ```
 *
 * - `1` — the format version, in decimal. A token whose first segment is another decimal number
 *   (`2.…`) is rejected as `'unsupported-version'`.
 * - `<payload>` — unpadded base64url ({@link https://www.rfc-editor.org/rfc/rfc4648#section-5 | RFC 4648 §5})
 *   of the UTF-8 bytes of the JSON array
 *   `[[set, expirySeconds], [set, expirySeconds, position], …]`:
 *   - `set` — the DB set (primary alias): a string of 1 to {@link MAX_SET_LENGTH} UTF-16 code units;
 *   - `expirySeconds` — the pin's absolute expiry in epoch **seconds**, rounded up
 *     (`Math.ceil(expiresAt / 1000)`), a non-negative safe integer;
 *   - `position` — optional replication position: 1 to {@link MAX_POSITION_LENGTH} printable ASCII
 *     characters (U+0020–U+007E).
 *
 *   Entries are sorted by `set` (UTF-16 code-unit order), one per set, at most {@link MAX_PINS}.
 *   The JSON is `JSON.stringify`'s output (no whitespace), so equal pins encode to equal tokens.
 *
 *   A **bound** token (encoded with a `binding`: a session id, a user id…) has one more element,
 *   first: the binding tag, a string of 22 base64url characters — the first 16 bytes of
 *   `HMAC-SHA256(B, binding)` with `B = HMAC-SHA256(S, "pindb/pin-token-binding")` for the signing
 *   secret `S`. The binding itself never appears in the token, and the tag is keyed, so it cannot be
 *   matched against guessed user ids without the secret.
 * - `<mac>` — unpadded base64url (22 characters) of the first 16 bytes (128 bits; HMAC-SHA256-128
 *   as in {@link https://www.rfc-editor.org/rfc/rfc4868 | RFC 4868}) of
 *   `HMAC-SHA256(K, "1." + <payload>)`, the MAC input being the ASCII text of the version, the dot
 *   and the payload segment exactly as they appear in the token. `K` is derived from each secret
 *   `S` as `K = HMAC-SHA256(S, "pindb/pin-token")` (domain separation: a secret that is also used,
 *   say, to sign session cookies cannot produce a valid pin token through that other use).
 *
 * Example (set `default`, expiry 1700000000 s, no position):
 * `1.W1siZGVmYXVsdCIsMTcwMDAwMDAwMF1d.<22 MAC chars>`.
 *
 * The whole token uses only `[A-Za-z0-9_.-]`, so it needs no quoting or escaping in a cookie
 * value, an HTTP header or a URL.
 *
 * ## Decoding
 *
 * 1. Anything that is not a string is `'malformed'`; `null`, `undefined` and `''` mean "no token"
 *    and decode to no pins (`ok: true`).
 * 2. Longer than `maxLength` → `'oversized'`, before looking at a single character.
 * 3. Characters outside `[A-Za-z0-9._~-]`, or no version segment → `'malformed'`; a decimal
 *    version other than 1 → `'unsupported-version'`; not exactly `1.<base64url>.<22 base64url>` →
 *    `'malformed'`.
 * 4. The MAC is checked against every configured secret with `crypto.timingSafeEqual` (on the
 *    canonical base64url text, so a MAC with non-canonical trailing bits is not accepted) →
 *    `'bad-signature'`. Nothing in the payload is decoded before this step.
 * 5. Only then is the payload decoded and validated strictly (canonical base64url, well-formed
 *    UTF-8, JSON, the shape above, the bounds). A validly signed payload of the wrong shape is
 *    `'malformed'`.
 * 6. Duplicate sets (never produced by {@link PinTokenCodec.encode}) are merged: the entry with the
 *    later expiry wins, with its position; on a tie the earlier entry wins. Merging is not counted
 *    in `dropped`.
 * 7. A bound token is checked against the `binding` given to `decode` (the tag recomputed with
 *    the secret that verified the MAC, compared in constant time): no binding, or another one →
 *    `'binding-mismatch'` (a token replayed by another client). An unbound token is accepted
 *    whatever the binding (it was issued before the client had one, e.g. before a login).
 * 8. Pins with `expiresAt <= now`, then pins on sets `isKnownSet` rejects (or throws for), are
 *    dropped and counted in `dropped`. Every remaining expiry is clamped to
 *    `now + pinSeconds * 1000`, so an old token — or one signed with a leaked key — can never pin
 *    beyond the window. If no pin remains and at least one was dropped as expired, the result is
 *    `{ ok: false, reason: 'expired' }`; a payload with no pins, or whose pins were all on unknown
 *    sets, is `ok: true` with no pins.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { PinDbConfigError } from '../errors.js'
import type { PinRecord } from '../pin-record.js'

/** Options of {@link createPinTokenCodec}. */
export interface PinTokenCodecOptions {
  /**
   * HMAC-SHA256 keys, newest first: tokens are signed with `secrets[0]`, and a token signed with any
   * of them is accepted (rotate by prepending a new secret, and drop the old one once every token
   * signed with it has expired — after `pinSeconds`). Each must be at least 32 bytes (a string
   * counts as its UTF-8 bytes).
   */
  secrets: readonly (string | Uint8Array)[]
  /**
   * Upper bound of a pin's remaining life, in seconds (finite, at least 0.001); expiries beyond
   * `now + pinSeconds` are clamped to it.
   */
  pinSeconds: number
  /** Sets this deployment knows; pins on other sets are dropped. */
  isKnownSet: (set: string) => boolean
  /** Epoch-milliseconds clock, injectable for tests. Default `Date.now`. */
  clock?: () => number
  /**
   * Maximum encoded token length in characters; default {@link DEFAULT_MAX_TOKEN_LENGTH} (4096,
   * what every browser stores in one cookie). Longer input is rejected as `'oversized'` without
   * being parsed or verified. Integer, at least {@link MIN_MAX_TOKEN_LENGTH}.
   */
  maxLength?: number
}

/** Why {@link PinTokenCodec.decode} rejected a token. */
export type PinTokenRejection = 'malformed' | 'bad-signature' | 'unsupported-version' | 'oversized' | 'expired' | 'binding-mismatch'

/** Options of {@link PinTokenCodec.encode} and {@link PinTokenCodec.decode}. */
export interface PinTokenBindingOptions {
  /**
   * What the token is bound to (a session id, a user id…): `encode` puts a keyed hash of it in the
   * token, and `decode` rejects a bound token unless given the same binding (`'binding-mismatch'`).
   * `undefined` or `''`: no binding.
   */
  binding?: string | undefined
}

/**
 * What {@link PinTokenCodec.decode} returns: either accepted, with the live pins (sorted by set,
 * expiries clamped) and `dropped` = the number of entries removed as expired or on an unknown set;
 * or rejected with a reason, to be treated as "no pins".
 */
export type DecodeResult =
  | { ok: true; pins: PinRecord[]; dropped: number }
  | { ok: false; reason: PinTokenRejection; pins: [] }

/** Encodes pins into a signed token and decodes tokens back into pins. Create with {@link createPinTokenCodec}. */
export interface PinTokenCodec {
  /**
   * Signs the live pins into a token: pins with `expiresAt <= now` or on unknown sets are skipped,
   * duplicate sets merged (later expiry wins), expiries clamped to `now + pinSeconds * 1000`,
   * entries sorted by set. A `position` that is not 1 to {@link MAX_POSITION_LENGTH} printable
   * ASCII characters (`''`, a merged GTID list grown too long, a stray newline) is left out, the pin
   * kept: without a position, reads of the set stay on the primary until the pin expires, which is
   * always correct.
   *
   * @returns the token, or `null` when no live pin remains (send nothing / clear the cookie).
   * @throws {@link PinDbConfigError} (option `encode(pins)`) when `pins` is not an array, a pin is
   *   not an object with a string `set` and a finite `expiresAt`, a live pin's set is empty or
   *   longer than {@link MAX_SET_LENGTH}, or more than {@link MAX_PINS} live pins remain;
   *   (option `maxLength`) when the token would be longer than `maxLength` even without positions
   *   (when it only fits without them, every position is left out: the pins alone keep reads on
   *   the primary, positions only let them leave it early); (option `clock`) when
   *   the clock returns something other than a finite number (an error the clock throws
   *   propagates). A token the decoder would reject is never produced.
   */
  encode(pins: readonly PinRecord[], options?: PinTokenBindingOptions): string | null
  /**
   * Verifies and decodes a token. Never throws, whatever the input (any runtime type, any string).
   * `null`, `undefined` and `''` decode to no pins. See the module documentation for the steps.
   * If the injected clock throws or returns a non-finite value, a validly signed token with pins
   * decodes as `'malformed'` (decode still does not throw). A bound token needs the same
   * `options.binding` it was encoded with (else `'binding-mismatch'`); an unbound one is accepted
   * with any binding.
   */
  decode(token: string | null | undefined, options?: PinTokenBindingOptions): DecodeResult
}

/** The token format version this codec writes and reads. */
export const PIN_TOKEN_VERSION = 1
/** Most pins one token carries; a token with more is `'malformed'`. */
export const MAX_PINS = 64
/** Longest replication position, in characters. */
export const MAX_POSITION_LENGTH = 256
/** Longest DB set name, in UTF-16 code units. */
export const MAX_SET_LENGTH = 256
/** Shortest accepted secret, in bytes. */
export const MIN_SECRET_BYTES = 32
/** Default `maxLength`. */
export const DEFAULT_MAX_TOKEN_LENGTH = 4096
/** Smallest accepted `maxLength`. */
export const MIN_MAX_TOKEN_LENGTH = 128

const KEY_DERIVATION_LABEL = 'pindb/pin-token'
const BINDING_KEY_LABEL = 'pindb/pin-token-binding'
const MAC_BYTES = 16
/** base64url length of {@link MAC_BYTES} bytes, unpadded. */
const MAC_CHARS = Math.ceil((MAC_BYTES * 8) / 6)
const VERSION_PREFIX = `${PIN_TOKEN_VERSION}.`
const TOKEN_CHARSET = /^[A-Za-z0-9._~-]*$/
const DECIMAL_VERSION = /^[1-9][0-9]{0,8}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
const POSITION = /^[\x20-\x7e]+$/
const GENERATE_HINT =
  'generate one with `node -e "console.log(crypto.randomBytes(32).toString(\'base64url\'))"`'

function reject(reason: PinTokenRejection): DecodeResult {
  return { ok: false, reason, pins: [] }
}

function isValidPosition(position: string): boolean {
  return position.length <= MAX_POSITION_LENGTH && POSITION.test(position)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (typeof value === 'number') return String(value)
  return typeof value
}

/** One pin in wire form, after validation. */
interface WirePin {
  set: string
  /** Epoch seconds. */
  seconds: number
  position: string | undefined
}

/**
 * Keeps one entry per set: the later expiry wins (with its position); on a tie, the earlier entry.
 * Returns the entries sorted by set (UTF-16 code-unit order, locale-independent).
 */
function mergeAndSort<T extends { set: string; expiresAt: number }>(entries: readonly T[]): T[] {
  const bySet = new Map<string, T>()
  for (const entry of entries) {
    const prev = bySet.get(entry.set)
    if (prev === undefined || entry.expiresAt > prev.expiresAt) bySet.set(entry.set, entry)
  }
  return [...bySet.values()].sort((a, b) => (a.set < b.set ? -1 : a.set > b.set ? 1 : 0))
}

/**
 * Validates a decoded payload's shape. Returns the entries, or undefined when the shape is wrong.
 * Accepts only an array (≤ {@link MAX_PINS}) of `[set, seconds]` / `[set, seconds, position]`.
 */
function parseWirePins(value: unknown): { tag: string | undefined; pins: WirePin[] } | undefined {
  if (!Array.isArray(value)) return undefined
  const first: unknown = value[0]
  const tag = typeof first === 'string' ? first : undefined
  if (tag !== undefined && (tag.length !== MAC_CHARS || !BASE64URL.test(tag))) return undefined
  const entries = tag === undefined ? (value as unknown[]) : (value as unknown[]).slice(1)
  if (entries.length > MAX_PINS) return undefined
  const out: WirePin[] = []
  for (const entry of entries) {
    if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) return undefined
    const [set, seconds, position] = entry as unknown[]
    if (typeof set !== 'string' || set.length === 0 || set.length > MAX_SET_LENGTH) return undefined
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0) return undefined
    if (entry.length === 3 && (typeof position !== 'string' || !isValidPosition(position))) return undefined
    out.push({ set, seconds, position: entry.length === 3 ? (position as string) : undefined })
  }
  return { tag, pins: out }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Creates a pin-token codec. Options are validated here, once; secrets are turned into derived
 * HMAC keys (copied, so later changes to a passed `Uint8Array` have no effect).
 *
 * @example
 * ```ts
 * const codec = createPinTokenCodec({
 *   secrets: [process.env.PINDB_SECRET!],
 *   pinSeconds: 15,
 *   isKnownSet: (set) => set in primaries,
 * })
 * const token = codec.encode([{ set: 'default', expiresAt: Date.now() + 15_000 }])
 * const { pins } = codec.decode(token)
 * ```
 *
 * @throws {@link PinDbConfigError} naming the option (`options`, `secrets`, `secrets[i]`, `pinSeconds`,
 *   `isKnownSet`, `clock` or `maxLength`) when it is missing or invalid.
 */
export function createPinTokenCodec(options: PinTokenCodecOptions): PinTokenCodec {
  if (typeof options !== 'object' || options === null) {
    throw new PinDbConfigError('options', `expected an options object, got ${describe(options)}.`)
  }
  const { secrets, pinSeconds, isKnownSet, clock = Date.now, maxLength = DEFAULT_MAX_TOKEN_LENGTH } = options

  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new PinDbConfigError(
      'secrets',
      `expected a non-empty array of secrets (newest first), got ${describe(secrets)}; ${GENERATE_HINT}.`,
    )
  }
  const keys: Buffer[] = (secrets as readonly unknown[]).map((secret, i) => {
    let bytes: Buffer
    if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8')
    else if (secret instanceof Uint8Array) bytes = Buffer.from(secret)
    else {
      throw new PinDbConfigError(
        `secrets[${i}]`,
        `expected a string or a Uint8Array, got ${describe(secret)}; ${GENERATE_HINT}.`,
      )
    }
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new PinDbConfigError(
        `secrets[${i}]`,
        `a secret must be at least ${MIN_SECRET_BYTES} bytes, this one is ${bytes.length}; ${GENERATE_HINT}.`,
      )
    }
    return createHmac('sha256', bytes).update(KEY_DERIVATION_LABEL).digest()
  })
  const bindingKeys: Buffer[] = (secrets as readonly (string | Uint8Array)[]).map((secret) =>
    createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)).update(BINDING_KEY_LABEL).digest(),
  )
  // At least 1 ms, so that `now + pinSeconds * 1000 > now` holds in floating point.
  if (typeof pinSeconds !== 'number' || !(pinSeconds >= 0.001) || !Number.isFinite(pinSeconds * 1000)) {
    throw new PinDbConfigError(
      'pinSeconds',
      `expected a finite number of seconds, at least 0.001, got ${describe(pinSeconds)}; e.g. \`pinSeconds: 15\`.`,
    )
  }
  if (typeof isKnownSet !== 'function') {
    throw new PinDbConfigError(
      'isKnownSet',
      `expected a function (set) => boolean, got ${describe(isKnownSet)}.`,
    )
  }
  if (typeof clock !== 'function') {
    throw new PinDbConfigError('clock', `expected a function returning epoch milliseconds, got ${describe(clock)}; omit it to use Date.now.`)
  }
  if (typeof maxLength !== 'number' || !Number.isSafeInteger(maxLength) || maxLength < MIN_MAX_TOKEN_LENGTH) {
    throw new PinDbConfigError(
      'maxLength',
      `expected an integer of at least ${MIN_MAX_TOKEN_LENGTH} characters, got ${describe(maxLength)}; ` +
        `omit it for the default (${DEFAULT_MAX_TOKEN_LENGTH}).`,
    )
  }

  const windowMs = pinSeconds * 1000
  const signingKey = keys[0]!

  /** base64url of the truncated MAC of `signed` (the text `1.<payload>`) under `key`. */
  function mac(key: Buffer, signed: string): string {
    return createHmac('sha256', key).update(signed, 'latin1').digest().subarray(0, MAC_BYTES).toString('base64url')
  }

  /** The binding tag of `binding` under binding key `i`, or undefined for no binding. */
  function bindingTag(i: number, binding: string | undefined): string | undefined {
    if (binding === undefined || binding === '') return undefined
    return createHmac('sha256', bindingKeys[i]!).update(String(binding), 'utf8').digest().subarray(0, MAC_BYTES).toString('base64url')
  }

  function now(): number {
    const t = clock()
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new PinDbConfigError('clock', `the clock returned ${describe(t)}; it must return epoch milliseconds.`)
    }
    return t
  }

  function known(set: string): boolean {
    try {
      return Boolean(isKnownSet(set))
    } catch {
      return false
    }
  }

  function encode(pins: readonly PinRecord[], options: PinTokenBindingOptions = {}): string | null {
    if (!Array.isArray(pins)) {
      throw new PinDbConfigError('encode(pins)', `expected an array of pins, got ${describe(pins)}.`)
    }
    const t = now()
    const live: { set: string; expiresAt: number; position: string | undefined }[] = []
    for (const [i, pin] of (pins as readonly unknown[]).entries()) {
      if (typeof pin !== 'object' || pin === null) {
        throw new PinDbConfigError(`encode(pins)`, `pins[${i}] is ${describe(pin)}, expected { set, expiresAt, position? }.`)
      }
      const { set, expiresAt, position } = pin as { [K in keyof PinRecord]?: unknown }
      if (typeof set !== 'string') {
        throw new PinDbConfigError('encode(pins)', `pins[${i}].set is ${describe(set)}, expected a string.`)
      }
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
        throw new PinDbConfigError(
          'encode(pins)',
          `pins[${i}].expiresAt is ${describe(expiresAt)}, expected a finite epoch-milliseconds number.`,
        )
      }
      if (expiresAt <= t || !known(set)) continue
      if (set.length === 0 || set.length > MAX_SET_LENGTH) {
        throw new PinDbConfigError(
          'encode(pins)',
          `pins[${i}].set is ${describe(set)}; a pinned set name must be 1 to ${MAX_SET_LENGTH} characters.`,
        )
      }
      // A position the token cannot carry is left out: the pin alone keeps reads on the primary.
      live.push({ set, expiresAt, position: typeof position === 'string' && isValidPosition(position) ? position : undefined })
    }
    const merged = mergeAndSort(live)
    if (merged.length === 0) return null
    if (merged.length > MAX_PINS) {
      throw new PinDbConfigError(
        'encode(pins)',
        `${merged.length} live pins; a pin token carries at most ${MAX_PINS}.`,
      )
    }
    const limit = t + windowMs
    const tag = bindingTag(0, options?.binding)
    const sign = (withPositions: boolean): string => {
      const wire: unknown[] = merged.map(({ set, expiresAt, position }) => {
        const seconds = Math.ceil(Math.min(expiresAt, limit) / 1000)
        return position === undefined || !withPositions ? [set, seconds] : [set, seconds, position]
      })
      if (tag !== undefined) wire.unshift(tag)
      const signed = VERSION_PREFIX + Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url')
      return `${signed}.${mac(signingKey, signed)}`
    }
    let token = sign(true)
    // Positions only let reads leave the primary early; the pins alone keep reads correct. So when
    // the token does not fit, drop the positions before giving up.
    if (token.length > maxLength && merged.some((pin) => pin.position !== undefined)) token = sign(false)
    if (token.length > maxLength) {
      throw new PinDbConfigError(
        'maxLength',
        `the pin token for ${merged.length} pins is ${token.length} characters even without replication ` +
          `positions, over maxLength (${maxLength}); raise maxLength (a cookie holds about 4096) or pin ` +
          `fewer sets per unit of work.`,
      )
    }
    return token
  }

  function verified(token: string, binding: string | undefined): DecodeResult {
    if (token.length > maxLength) return reject('oversized')
    if (!TOKEN_CHARSET.test(token)) return reject('malformed')
    const firstDot = token.indexOf('.')
    if (firstDot === -1) return reject('malformed')
    const version = token.slice(0, firstDot)
    if (!DECIMAL_VERSION.test(version)) return reject('malformed')
    if (version !== String(PIN_TOKEN_VERSION)) return reject('unsupported-version')

    const lastDot = token.lastIndexOf('.')
    const payload = token.slice(firstDot + 1, lastDot)
    const tag = token.slice(lastDot + 1)
    if (lastDot === firstDot || tag.length !== MAC_CHARS || !BASE64URL.test(tag) || !BASE64URL.test(payload)) {
      return reject('malformed')
    }

    // Verify before looking inside the payload. Every key is tried (no early exit), so the time
    // taken does not depend on which secret matched.
    const signed = token.slice(0, lastDot)
    const given = Buffer.from(tag, 'latin1')
    let matched = -1
    for (const [i, key] of keys.entries()) {
      if (timingSafeEqual(given, Buffer.from(mac(key, signed), 'latin1')) && matched === -1) matched = i
    }
    if (matched === -1) return reject('bad-signature')

    // From here on the payload was produced by a holder of one of the secrets; still validate it
    // strictly (another version of pindb, a bug, or a leaked key).
    const bytes = Buffer.from(payload, 'base64url')
    if (bytes.toString('base64url') !== payload) return reject('malformed')
    let parsed: unknown
    try {
      parsed = JSON.parse(utf8.decode(bytes))
    } catch {
      return reject('malformed')
    }
    const parsedWire = parseWirePins(parsed)
    if (parsedWire === undefined) return reject('malformed')
    if (parsedWire.tag !== undefined) {
      // A bound token: only the client it was bound to may use it.
      const expected = bindingTag(matched, binding)
      if (expected === undefined || !timingSafeEqual(Buffer.from(parsedWire.tag, 'latin1'), Buffer.from(expected, 'latin1'))) {
        return reject('binding-mismatch')
      }
    }
    const wire = parsedWire.pins
    if (wire.length === 0) return { ok: true, pins: [], dropped: 0 }

    const t = now()
    const limit = t + windowMs
    let expired = 0
    let unknown = 0
    const pins: PinRecord[] = []
    for (const { set, seconds, position } of mergeAndSort(wire.map((w) => ({ ...w, expiresAt: w.seconds * 1000 })))) {
      const expiresAt = seconds * 1000
      if (expiresAt <= t) expired++
      else if (!known(set)) unknown++
      else {
        const pin: PinRecord = { set, expiresAt: Math.min(expiresAt, limit) }
        if (position !== undefined) pin.position = position
        pins.push(pin)
      }
    }
    if (pins.length === 0 && expired > 0) return reject('expired')
    return { ok: true, pins, dropped: expired + unknown }
  }

  function decode(token: string | null | undefined, options?: PinTokenBindingOptions): DecodeResult {
    if (token === null || token === undefined || token === '') return { ok: true, pins: [], dropped: 0 }
    if (typeof token !== 'string') return reject('malformed')
    try {
      const binding = typeof options === 'object' && options !== null && typeof options.binding === 'string' ? options.binding : undefined
      return verified(token, binding)
    } catch {
      // Reached through a misbehaving injected clock. Input alone is not known to get here (the
      // fuzz suite checks that), but a pin token must never turn a request into a 500.
      return reject('malformed')
    }
  }

  return { encode, decode }
}
