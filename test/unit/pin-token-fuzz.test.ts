/**
 * Deterministic fuzzing of the pin-token decoder (seeded PRNG; a failure prints the category, case
 * number and input, and reruns identically). Oracles:
 *
 * - `decode` never throws, whatever the input;
 * - a non-empty string is accepted only if this file produced it with one of the configured secrets
 *   (tracked in `legit`, and re-verified with an independent implementation of the MAC);
 * - every accepted pin is on a known set, `now < expiresAt <= now + pinSeconds * 1000`, has a valid
 *   position or none, and the pins are sorted, unique and at most MAX_PINS;
 * - tokens from `encode` round-trip to exactly the expected pins.
 */
import { createHmac } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { PinDbConfigError } from '../../src/errors.js'
import type { PinRecord } from '../../src/pin-record.js'
import { createPinTokenCodec, MAX_PINS, MAX_POSITION_LENGTH, type DecodeResult } from '../../src/token/index.js'
import { createRng } from '../support/rng.js'

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

const SEED = 0x9e3779b9

/** The shared seeded source, plus random bytes. */
function prng(seed: number) {
  const rng = createRng(seed)
  const bytes = (n: number): Buffer => {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) out[i] = rng.int(0, 255)
    return out
  }
  return { ...rng, bytes }
}
type Rng = ReturnType<typeof prng>

// ---------------------------------------------------------------------------------------------
// The system under test and an independent restatement of the format

const SECRETS = ['fuzz-secret-newest-0123456789abcdef', Buffer.alloc(48, 0x42)] as const
const WRONG_SECRETS = [
  'fuzz-secret-newest-0123456789abcdeg', // one char off
  Buffer.alloc(48, 0x43),
  'a'.repeat(32),
]
const KNOWN = ['default', 'users', 'orders', 'analytics', 'a.b', 'é€😀', 'x'.repeat(256), '__proto__']
const UNKNOWN = ['gone', 'Default', 'users ', 'constructor', 'toString', 'hasOwnProperty', '']
const PIN_SECONDS = 15
const WINDOW = PIN_SECONDS * 1000
const MAX_LENGTH = 1024 // small, so that "near the limit" is cheap to generate and oversize is frequent
const T0 = 1_700_000_000_000
const REASONS = new Set(['malformed', 'bad-signature', 'unsupported-version', 'oversized', 'expired'])
const POSITION = /^[\x20-\x7e]+$/

let now = T0
const knownSet = new Set(KNOWN)
const codec = createPinTokenCodec({
  secrets: SECRETS,
  pinSeconds: PIN_SECONDS,
  isKnownSet: (set) => knownSet.has(set),
  clock: () => now,
  maxLength: MAX_LENGTH,
})
/** Signs with the real newest key and knows every set: produces tokens the main codec must filter. */
const everywhere = createPinTokenCodec({
  secrets: SECRETS,
  pinSeconds: 3600,
  isKnownSet: () => true,
  clock: () => now,
  maxLength: 100_000,
})

function derive(secret: string | Uint8Array): Buffer {
  return createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
    .update('pindb/pin-token')
    .digest()
}
const REAL_KEYS = SECRETS.map(derive)
const WRONG_KEYS = WRONG_SECRETS.map(derive)

function macWith(key: Buffer, signed: string): string {
  return createHmac('sha256', key).update(signed, 'latin1').digest().subarray(0, 16).toString('base64url')
}

/** Tokens this file produced with a real secret (by the codec, or by {@link signReal}). */
const legit = new Set<string>()

function signReal(rng: Rng, payloadSegment: string, version = '1'): string {
  const signed = `${version}.${payloadSegment}`
  const token = `${signed}.${macWith(rng.pick(REAL_KEYS), signed)}`
  legit.add(token)
  return token
}

function signWrong(rng: Rng, payloadSegment: string): string {
  const signed = `1.${payloadSegment}`
  const roll = rng.int(0, 3)
  if (roll === 0) {
    // The real secret, but without the documented key derivation.
    const raw = createHmac('sha256', Buffer.from(SECRETS[0], 'utf8')).update(signed).digest().subarray(0, 16)
    return `${signed}.${raw.toString('base64url')}`
  }
  if (roll === 1) return `${signed}.${macWith(rng.bytes(32), signed)}`
  return `${signed}.${macWith(rng.pick(WRONG_KEYS), signed)}`
}

/** Independent check that `token` carries a MAC made with one of the real keys. */
function independentlyVerified(token: string): boolean {
  const dot = token.lastIndexOf('.')
  if (dot < 0) return false
  const signed = token.slice(0, dot)
  return REAL_KEYS.some((key) => macWith(key, signed) === token.slice(dot + 1))
}

let encodeRefusedTooLong = 0

/** Encodes with a real-keyed codec and records the token as legit; null when none or too long. */
function encodeLegit(pins: readonly PinRecord[], via = codec): string | null {
  let token: string | null
  try {
    token = via.encode(pins)
  } catch (err) {
    if (!(err instanceof PinDbConfigError) || err.option !== 'maxLength') throw err
    encodeRefusedTooLong++
    return null
  }
  if (token !== null) legit.add(token)
  return token
}

type Wire = [string, number] | [string, number, string]

/**
 * What `encode` must produce for `pins` under the main codec's settings, computed from the
 * documented format: the token, null for no live pin, or 'too-long'.
 */
function expectedEncoding(pins: readonly PinRecord[]): { token: string | null | 'too-long'; wire: Wire[] } {
  const best = new Map<string, PinRecord>()
  for (const pin of pins) {
    if (!(pin.expiresAt > now) || !knownSet.has(pin.set)) continue
    const prev = best.get(pin.set)
    if (prev === undefined || pin.expiresAt > prev.expiresAt) best.set(pin.set, pin)
  }
  const live = [...best.values()].sort((a, b) => (a.set < b.set ? -1 : a.set > b.set ? 1 : 0))
  if (live.length === 0) return { token: null, wire: [] }
  const build = (withPositions: boolean): { token: string; wire: Wire[] } => {
    const wire = live.map((pin): Wire => {
      const seconds = Math.ceil(Math.min(pin.expiresAt, now + WINDOW) / 1000)
      const ok = withPositions && typeof pin.position === 'string' && pin.position.length <= 256 && POSITION.test(pin.position)
      return ok ? [pin.set, seconds, pin.position!] : [pin.set, seconds]
    })
    const signed = `1.${Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url')}`
    return { token: `${signed}.${macWith(REAL_KEYS[0]!, signed)}`, wire }
  }
  let out = build(true)
  if (out.token.length > MAX_LENGTH) out = build(false)
  return out.token.length > MAX_LENGTH ? { token: 'too-long', wire: [] } : out
}

/** The pins `decode` must return, at the current clock, for a token carrying `wire`. */
function expectedPins(wire: readonly Wire[]): PinRecord[] {
  return wire
    .filter(([set, seconds]) => seconds * 1000 > now && knownSet.has(set))
    .map(([set, seconds, position]) => {
      const pin: PinRecord = { set, expiresAt: Math.min(seconds * 1000, now + WINDOW) }
      if (position !== undefined) pin.position = position
      return pin
    })
}

// ---------------------------------------------------------------------------------------------
// Oracle

const counts: Record<string, number> = {}
let accepted = 0
let acceptedWithPins = 0

function show(input: unknown): string {
  if (typeof input === 'string') {
    const s = input.length > 300 ? `${input.slice(0, 300)}… (${input.length} chars)` : input
    return JSON.stringify(s)
  }
  try {
    return `${typeof input}: ${String(input)}`
  } catch {
    return typeof input
  }
}

/** Decodes `input` and checks every invariant; returns the result for extra, case-specific checks. */
function check(category: string, index: number, input: unknown): DecodeResult {
  counts[category] = (counts[category] ?? 0) + 1
  const where = `${category} #${index} now=${now} input=${show(input)}`
  let result: DecodeResult
  try {
    result = codec.decode(input as string)
  } catch (err) {
    throw new Error(`decode threw on ${where}: ${String(err)}`)
  }
  const fail = (why: string): never => {
    throw new Error(`${why} — ${where} → ${JSON.stringify(result)}`)
  }
  if (typeof result !== 'object' || result === null || !Array.isArray(result.pins)) fail('bad result shape')
  if (!result.ok) {
    if (!REASONS.has(result.reason)) fail('unknown reason')
    if (result.pins.length !== 0) fail('rejection with pins')
    if (typeof input === 'string' && input.length > MAX_LENGTH && result.reason !== 'oversized') fail('not oversized')
    return result
  }
  accepted++
  if (typeof result.dropped !== 'number' || !Number.isSafeInteger(result.dropped) || result.dropped < 0) fail('dropped')
  if (input === null || input === undefined || input === '') {
    if (result.pins.length !== 0 || result.dropped !== 0) fail('pins from nothing')
    return result
  }
  if (typeof input !== 'string') fail('accepted a non-string')
  const token = input as string
  if (!legit.has(token)) fail('accepted a token this file did not sign with a real secret')
  if (!independentlyVerified(token)) fail('accepted a token whose MAC does not verify independently')
  if (token.length > MAX_LENGTH || !/^[A-Za-z0-9._~-]+$/.test(token)) fail('accepted an unsafe token')
  if (result.pins.length > MAX_PINS) fail('too many pins')
  if (result.pins.length > 0) acceptedWithPins++
  let previous: string | undefined
  for (const pin of result.pins) {
    const keys = Object.keys(pin).sort().join(',')
    if (keys !== 'expiresAt,set' && keys !== 'expiresAt,position,set') fail(`pin keys ${keys}`)
    if (typeof pin.set !== 'string' || !knownSet.has(pin.set)) fail('unknown set accepted')
    if (previous !== undefined && !(previous < pin.set)) fail('pins not sorted and unique')
    previous = pin.set
    if (typeof pin.expiresAt !== 'number' || !(pin.expiresAt > now) || !(pin.expiresAt <= now + WINDOW)) {
      fail('expiry outside (now, now + window]')
    }
    if (pin.position !== undefined) {
      if (typeof pin.position !== 'string' || pin.position.length > MAX_POSITION_LENGTH || !POSITION.test(pin.position)) {
        fail('invalid position')
      }
    }
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// Generators

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const ALPHABETS: readonly (readonly string[])[] = [
  [...B64URL, '.'],
  [...B64URL, '.', '.', '.', '~', '=', '+', '/'],
  ['1', '.', 'A', '_', '-'],
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)), // printable ASCII
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).concat(['\x7f', '.', '1']), // control
  ['é', '€', '😀', '\u0000', '\uFEFF', '\u202E', '\ud800', '\udfff', 'Ω', '.', '1', 'A'], // non-ASCII, lone surrogates
  ['[', ']', '"', ',', '{', '}', ':', '0', '9', 'e', '-', '.', ' '], // JSON-ish
]

function randomChar(rng: Rng): string {
  if (rng.chance(0.05)) return String.fromCharCode(rng.int(0, 0xffff))
  return rng.pick(rng.pick(ALPHABETS))
}

function randomLength(rng: Rng): number {
  switch (rng.int(0, 5)) {
    case 0:
      return rng.int(0, 8)
    case 1:
      return rng.int(0, 64)
    case 2:
      return rng.int(0, 400)
    case 3:
      return rng.int(MAX_LENGTH - 3, MAX_LENGTH + 3) // around the limit
    case 4:
      return rng.int(0, 2 * MAX_LENGTH)
    default:
      return rng.int(40, 120) // typical token sizes
  }
}

function randomString(rng: Rng, length = randomLength(rng)): string {
  const alphabet = rng.chance(0.8) ? rng.pick(ALPHABETS) : undefined
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet === undefined ? randomChar(rng) : rng.pick(alphabet)
  return out
}

function validPosition(rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return `${rng.int(0, 0xff).toString(16).toUpperCase()}/${rng.int(0, 0xffffffff).toString(16).toUpperCase()}`
    case 1:
      return Array.from({ length: rng.int(1, 4) }, () => `${rng.int(0, 9)}-${rng.int(1, 9)}-${rng.int(0, 1e9)}`).join(',')
    case 2:
      return Array.from({ length: rng.int(1, 40) }, () => String.fromCharCode(rng.int(0x20, 0x7e))).join('')
    default:
      return 'p'.repeat(rng.pick([1, 255, 256]))
  }
}

function randomPins(rng: Rng, max = 6): PinRecord[] {
  return Array.from({ length: rng.int(0, max) }, () => {
    const pin: PinRecord = {
      set: rng.chance(0.8) ? rng.pick(KNOWN) : rng.pick(UNKNOWN.filter((s) => s !== '')),
      expiresAt: now + rng.int(-20_000, rng.chance(0.2) ? 10_000_000 : 20_000) + (rng.chance(0.5) ? rng.next() : 0),
    }
    if (rng.chance(0.5)) pin.position = rng.chance(0.05) ? '' : validPosition(rng)
    return pin
  })
}

/** Values of every JSON type and of the wrong types, for the wire shape's fields. */
function randomJsonValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 3 ? 9 : 12)) {
    case 0:
      return null
    case 1:
      return rng.chance(0.5)
    case 2:
      return rng.pick([0, -0, -1, 1.5, 1e21, -1e21, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e308, 5e-324])
    case 3:
      return Math.floor(now / 1000) + rng.int(-30, 30)
    case 4:
      return rng.pick(KNOWN)
    case 5:
      return rng.pick(UNKNOWN)
    case 6:
      return randomString(rng, rng.int(0, 20))
    case 7:
      return validPosition(rng)
    case 8:
      return 'x'.repeat(rng.pick([255, 256, 257, 300]))
    case 9:
      return rng.pick(['__proto__', 'constructor', 'prototype', 'NaN', 'Infinity'])
    case 10:
      return Array.from({ length: rng.int(0, 4) }, () => randomJsonValue(rng, depth + 1))
    case 11: {
      const obj: Record<string, unknown> = {}
      for (let i = rng.int(0, 3); i > 0; i--) obj[rng.pick(['set', 'expiresAt', 'position', '0', '1', 'length'])] = randomJsonValue(rng, depth + 1)
      return obj
    }
    default: {
      let inner: unknown = rng.pick(KNOWN)
      for (let i = rng.int(1, 50); i > 0; i--) inner = [inner]
      return inner
    }
  }
}

/** A wire entry that is usually almost right: one field or the arity is off now and then. */
function randomWireEntry(rng: Rng): unknown {
  if (rng.chance(0.1)) return randomJsonValue(rng)
  const set = rng.chance(0.7) ? rng.pick(KNOWN) : rng.chance(0.5) ? rng.pick(UNKNOWN) : randomJsonValue(rng)
  const seconds = rng.chance(0.75)
    ? Math.floor(now / 1000) + rng.int(-40, rng.chance(0.2) ? 1e9 : 40)
    : randomJsonValue(rng)
  const entry: unknown[] = [set, seconds]
  if (rng.chance(0.4)) entry.push(rng.chance(0.7) ? validPosition(rng) : randomJsonValue(rng))
  if (rng.chance(0.05)) entry.push(randomJsonValue(rng))
  if (rng.chance(0.05)) entry.pop()
  return entry
}

/** JSON text that the real key will sign: mostly near-valid wire shapes, sometimes anything. */
function randomPayloadText(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return JSON.stringify(randomJsonValue(rng))
    case 1: {
      // Mutated JSON text.
      const text = JSON.stringify([randomWireEntry(rng), randomWireEntry(rng)])
      const i = rng.int(0, text.length)
      return text.slice(0, i) + randomString(rng, rng.int(0, 3)) + text.slice(i + rng.int(0, 2))
    }
    case 2:
      // NaN / Infinity / __proto__ / duplicate keys / comments, none of them valid wire JSON.
      return rng.pick([
        '[["default",NaN]]',
        '[["default",Infinity]]',
        '[["default",-Infinity]]',
        '[["default",1e999]]',
        '[["default",-1e999]]',
        '{"__proto__":{"polluted":true}}',
        '[{"__proto__":{"polluted":true}}]',
        '[["__proto__",1700000010],["__proto__",1700000012]]',
        '{"0":["default",1700000010],"length":1}',
        '[["default",1700000010]]//',
        '[["default",0x6553F10A]]',
        '[["default",+1700000010]]',
        '[["default",01700000010]]',
        '[["default",1700000010,]]',
        '[[\'default\',1700000010]]',
        ' [["default",1700000010]] ',
        '\uFEFF[["default",1700000010]]',
        '[["default",1700000010.000]]',
        '[["default",17000000.10e2]]',
        '[["def\\u0061ult",1700000010]]',
        '[["default",1700000010,"0/1\\u0000"]]',
        '[["default",1700000010,"\\ud800"]]',
        '[["\\ud800",1700000010]]',
        '',
        'null',
        '[]',
        '[[]]',
      ])
    case 3:
      return Buffer.from(rng.bytes(rng.int(0, 60))).toString('latin1') // often invalid UTF-8 once encoded
    default:
      return JSON.stringify(Array.from({ length: rng.chance(0.05) ? rng.int(60, 70) : rng.int(0, 5) }, () => randomWireEntry(rng)))
  }
}

function payloadSegment(rng: Rng, text: string): string {
  if (rng.chance(0.1)) return Buffer.from(rng.bytes(rng.int(1, 80))).toString('base64url') // raw bytes
  const seg = Buffer.from(text, rng.chance(0.05) ? 'latin1' : 'utf8').toString('base64url')
  if (seg === '' || rng.chance(0.9)) return seg === '' ? 'AA' : seg
  // Non-canonical base64url (same bytes, different text) or padding/odd lengths.
  const last = seg.at(-1)!
  const alt = B64URL[(B64URL.indexOf(last) + 1) % 64]!
  return rng.pick([seg.slice(0, -1) + alt, `${seg}A`, seg.slice(0, -1), seg + seg])
}

function mutate(rng: Rng, token: string, pool: readonly string[]): string {
  let out = token
  for (let n = rng.int(1, 3); n > 0; n--) {
    const i = rng.int(0, Math.max(0, out.length - 1))
    switch (rng.int(0, 11)) {
      case 0: // replace one char
        out = out.slice(0, i) + (rng.chance(0.7) ? rng.pick([...B64URL]) : randomChar(rng)) + out.slice(i + 1)
        break
      case 1: // insert
        out = out.slice(0, i) + randomChar(rng) + out.slice(i)
        break
      case 2: // delete
        out = out.slice(0, i) + out.slice(i + 1)
        break
      case 3: // duplicate a run
        out = out.slice(0, i) + out.slice(i, i + rng.int(1, 8)) + out.slice(i)
        break
      case 4: // truncate
        out = out.slice(0, rng.int(0, out.length))
        break
      case 5: {
        // swap segments
        const parts = out.split('.')
        const a = rng.int(0, parts.length - 1)
        const b = rng.int(0, parts.length - 1)
        ;[parts[a], parts[b]] = [parts[b]!, parts[a]!]
        out = parts.join('.')
        break
      }
      case 6: {
        // payload of one legit token with the MAC of another
        const other = rng.pick(pool)
        out = out.slice(0, out.lastIndexOf('.') + 1) + other.slice(other.lastIndexOf('.') + 1)
        break
      }
      case 7: // version change
        out = rng.pick(['0', '2', '9', '10', '01', '1a', '', 'v1', '11']) + out.slice(out.indexOf('.'))
        break
      case 8: // flip the case of one char
        out = out.slice(0, i) + (out[i] === out[i]?.toUpperCase() ? out[i]?.toLowerCase() : out[i]?.toUpperCase()) + out.slice(i + 1)
        break
      case 9: // flip the unused low bits of the MAC's last char
        out = out.slice(0, -1) + B64URL[(B64URL.indexOf(out.at(-1) ?? 'A') ^ rng.int(1, 3)) & 63]!
        break
      case 10: // pad to the length limit
        out = out + 'A'.repeat(Math.max(0, MAX_LENGTH - out.length + rng.int(-2, 2)))
        break
      default: // splice with another token
        out = out.slice(0, i) + rng.pick(pool).slice(i)
        break
    }
  }
  return out
}

/** A pool of legit tokens to mutate, encoded at the current clock. */
function legitPool(rng: Rng, size: number): string[] {
  const pool: string[] = []
  while (pool.length < size) {
    const token = encodeLegit(randomPins(rng), rng.chance(0.3) ? everywhere : codec)
    if (token !== null) pool.push(token)
  }
  return pool
}

// ---------------------------------------------------------------------------------------------
// The cases

const N = {
  randomStrings: 25_000,
  roundTrips: 15_000,
  mutations: 30_000,
  forged: 10_000,
  realKeyGarbage: 20_000,
  nearLimit: 3_000,
  nonStrings: 2_000,
}

describe('pin-token decoder fuzz (seeded)', () => {
  afterAll(() => {
    // Nothing leaked through JSON.parse's `__proto__` handling.
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it(`random strings (${N.randomStrings})`, () => {
    const rng = prng(SEED ^ 1)
    for (let i = 0; i < N.randomStrings; i++) {
      now = T0 + rng.int(-1e6, 1e6)
      const input = rng.chance(0.3) ? `1.${randomString(rng)}` : randomString(rng)
      const result = check('random', i, input)
      if (input.length > 0) expect(result.ok).toBe(false)
    }
    // A few huge inputs: rejected as oversized without scanning them.
    for (const n of [MAX_LENGTH + 1, 100_000, 5_000_000]) check('random', -n, `1.${'A'.repeat(n)}`)
  })

  it(`encode → decode round trips (${N.roundTrips})`, () => {
    const rng = prng(SEED ^ 2)
    for (let i = 0; i < N.roundTrips; i++) {
      now = T0 + rng.int(-1e7, 1e7)
      const pins = randomPins(rng, rng.chance(0.02) ? 40 : 8)
      const token = encodeLegit(pins)
      const expected = expectedEncoding(pins)
      if (token === null) {
        expect(expected.token === null || expected.token === 'too-long').toBe(true)
        continue
      }
      // Exactly the documented encoding, whatever the input order.
      expect(token).toBe(expected.token)
      expect(codec.encode([...pins].reverse())).toBe(token)
      expect(token).toMatch(/^1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
      const result = check('roundTrip', i, token)
      expect(result).toEqual({ ok: true, pins: expectedPins(expected.wire), dropped: 0 })
      // Later (or earlier: clock skew between servers) decodes keep the invariants.
      now += rng.int(-20_000, 20_000)
      const later = check('roundTrip', i, token)
      const stillLive = expectedPins(expected.wire)
      if (stillLive.length > 0) expect(later).toEqual({ ok: true, pins: stillLive, dropped: expected.wire.length - stillLive.length })
      else expect(later).toEqual({ ok: false, reason: 'expired', pins: [] })
    }
  })

  it(`mutated legit tokens (${N.mutations})`, () => {
    const rng = prng(SEED ^ 3)
    let pool: string[] = []
    for (let i = 0; i < N.mutations; i++) {
      if (i % 500 === 0) {
        now = T0 + rng.int(-1e6, 1e6)
        pool = legitPool(rng, 50)
      }
      const input = mutate(rng, rng.pick(pool), pool)
      const result = check('mutation', i, input)
      if (!legit.has(input) && input.length > 0) expect(result.ok).toBe(false)
    }
  })

  it(`payloads signed with a wrong key (${N.forged})`, () => {
    const rng = prng(SEED ^ 4)
    for (let i = 0; i < N.forged; i++) {
      now = T0 + rng.int(-1e6, 1e6)
      // Forge a far-future pin on a known set, or anything else, with the wrong key.
      const text = rng.chance(0.5)
        ? JSON.stringify([[rng.pick(KNOWN), Math.floor(now / 1000) + rng.int(1, 1e9)]])
        : randomPayloadText(rng)
      const input = signWrong(rng, payloadSegment(rng, text))
      const result = check('forged', i, input)
      if (input.length <= MAX_LENGTH) expect(result).toMatchObject({ ok: false, reason: 'bad-signature' })
    }
  })

  it(`garbage payloads with a valid MAC from the real key (${N.realKeyGarbage})`, () => {
    const rng = prng(SEED ^ 5)
    const outcomes: Record<string, number> = {}
    for (let i = 0; i < N.realKeyGarbage; i++) {
      now = T0 + rng.int(-1e6, 1e6)
      const input = signReal(rng, payloadSegment(rng, randomPayloadText(rng)), rng.chance(0.02) ? '2' : '1')
      const result = check('realKeyGarbage', i, input)
      const outcome = result.ok ? (result.pins.length > 0 ? 'ok' : 'ok-empty') : result.reason
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      // Past the MAC, nothing can be a bad signature.
      if (input.length <= MAX_LENGTH) expect(result.ok || result.reason !== 'bad-signature').toBe(true)
    }
    // The generator reaches every branch of the validator.
    for (const outcome of ['ok', 'ok-empty', 'malformed', 'expired', 'unsupported-version']) {
      expect(outcomes[outcome] ?? 0, `${outcome} in ${JSON.stringify(outcomes)}`).toBeGreaterThan(50)
    }
  })

  it(`inputs near the length limit (${N.nearLimit})`, () => {
    const rng = prng(SEED ^ 6)
    const lengths = new Map<number, number>()
    for (let i = 0; i < N.nearLimit; i++) {
      now = T0 + rng.int(-1e6, 1e6)
      if (rng.chance(0.2)) {
        // Unsigned junk of about the limit's length, shaped like a token.
        check('nearLimit', i, `1.${randomString(rng, MAX_LENGTH + rng.int(-3, 3) - 25)}.${'A'.repeat(22)}`)
        continue
      }
      // Legit pins whose token lands within a few characters of the limit (either side): long
      // positions on distinct known sets, the last one sized so the JSON has the wanted length.
      const sets = [...KNOWN].filter((set) => set.length < 20).sort(() => rng.next() - 0.5).slice(0, 4)
      const pins: PinRecord[] = sets.map((set) => ({ set, expiresAt: now + rng.int(1, 20_000), position: 'q'.repeat(200) }))
      const wantedToken = MAX_LENGTH + rng.int(-4, 4)
      const wantedJson = Math.floor(((wantedToken - 25) * 3) / 4) + rng.int(-1, 1)
      pins.at(-1)!.position = 'q'
      const shortJson = JSON.stringify(expectedEncoding(pins).wire).length
      const extra = wantedJson - shortJson
      if (extra < 0 || extra > 255) throw new Error(`near-limit generator out of range: ${extra}`)
      pins.at(-1)!.position = 'r'.repeat(1 + extra)
      const expected = expectedEncoding(pins)
      const token = encodeLegit(pins)
      expect(token).toBe(expected.token)
      const result = check('nearLimit', i, token!)
      expect(result).toEqual({ ok: true, pins: expectedPins(expected.wire), dropped: 0 })
      const fitted = JSON.stringify(expected.wire).length === wantedJson ? token!.length - MAX_LENGTH : 'fallback'
      lengths.set(typeof fitted === 'number' ? fitted : 99, (lengths.get(typeof fitted === 'number' ? fitted : 99) ?? 0) + 1)
      // One character more or less, unsigned: oversized or bad signature, never accepted.
      const nudged = rng.chance(0.5) ? `${token}A` : token!.slice(0, -1)
      const nudgedResult = check('nearLimit', i, nudged)
      expect(nudgedResult.ok).toBe(false)
    }
    // Tokens of exactly the limit were produced and accepted, and the positions fallback ran.
    expect(lengths.get(0) ?? 0).toBeGreaterThan(50)
    expect(lengths.get(99) ?? 0).toBeGreaterThan(50)
  })

  it(`non-string inputs (${N.nonStrings})`, () => {
    const rng = prng(SEED ^ 7)
    now = T0
    const token = encodeLegit([{ set: 'default', expiresAt: T0 + 5_000 }])!
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('touched')
        },
        has() {
          throw new Error('touched')
        },
        getPrototypeOf() {
          throw new Error('touched')
        },
      },
    )
    const makers: (() => unknown)[] = [
      () => rng.int(-1e9, 1e9),
      () => rng.pick([NaN, Infinity, -Infinity, -0, 0, 1.5]),
      () => BigInt(rng.int(0, 1e9)),
      () => rng.chance(0.5),
      () => Symbol(token),
      () => ({ toString: () => token, valueOf: () => token, [Symbol.toPrimitive]: () => token }),
      () => ({ toString: () => { throw new Error('boom') } }),
      () => ({ length: rng.int(0, 1e9), 0: '1' }),
      () => [token],
      () => token.split(''),
      () => new String(token),
      () => Buffer.from(token),
      () => new Uint8Array(rng.int(0, 100)),
      () => new Date(),
      () => new Map([[token, token]]),
      () => () => token,
      () => throwing,
      () => Object.create(null),
      () => JSON.parse('{"__proto__":{"polluted":true}}'),
      () => undefined,
      () => null,
    ]
    for (let i = 0; i < N.nonStrings; i++) {
      const input = rng.pick(makers)()
      const result = check('nonString', i, input)
      if (input === null || input === undefined) expect(result).toEqual({ ok: true, pins: [], dropped: 0 })
      else expect(result).toEqual({ ok: false, reason: 'malformed', pins: [] })
    }
  })

  it('ran at least 100,000 cases, accepting only legit tokens', () => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThanOrEqual(100_000)
    expect(acceptedWithPins).toBeGreaterThan(10_000)
    expect(accepted).toBeGreaterThan(acceptedWithPins)
    console.log(
      `pin-token fuzz: ${total} decodes ${JSON.stringify(counts)}; accepted ${accepted} ` +
        `(${acceptedWithPins} with pins); encode refused ${encodeRefusedTooLong} as too long`,
    )
  })
})
