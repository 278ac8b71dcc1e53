import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isPinDbError, PinDbConfigError } from '../../src/errors.js'
import type { PinRecord } from '../../src/pin-record.js'
import { createPinTokenCodec, MAX_PINS, MAX_POSITION_LENGTH, type PinTokenCodecOptions } from '../../src/token/index.js'

const SECRET_A = 'a'.repeat(16) + '-secret-number-one-000'
const SECRET_B = new Uint8Array(32).fill(7)
const SECRET_C = 'c'.repeat(40)
const T0 = 1_700_000_000_000
const PIN_SECONDS = 15

/** Independent implementation of the documented v1 signature (the spec, restated). */
function sign(secret: string | Uint8Array, payloadSegment: string, version = '1'): string {
  const key = createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
    .update('pindb/pin-token')
    .digest()
  const signed = `${version}.${payloadSegment}`
  return `${signed}.${createHmac('sha256', key).update(signed).digest().subarray(0, 16).toString('base64url')}`
}

/** A token signed with `secret` over an arbitrary JSON value (or raw text). */
function signJson(secret: string | Uint8Array, value: unknown, raw = false): string {
  const text = raw ? String(value) : JSON.stringify(value)
  return sign(secret, Buffer.from(text, 'utf8').toString('base64url'))
}

function payloadOf(token: string): unknown {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

function setup(overrides: Partial<PinTokenCodecOptions> = {}) {
  const clock = { now: T0 }
  const known = new Set(['default', 'users', 'orders'])
  const codec = createPinTokenCodec({
    secrets: [SECRET_A, SECRET_B],
    pinSeconds: PIN_SECONDS,
    isKnownSet: (set) => known.has(set),
    clock: () => clock.now,
    ...overrides,
  })
  return { codec, clock, known }
}

function configError(fn: () => unknown): PinDbConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(PinDbConfigError)
    expect(isPinDbError(err)).toBe(true)
    expect((err as PinDbConfigError).code).toBe('PINDB_CONFIG')
    return err as PinDbConfigError
  }
  throw new Error('expected a PinDbConfigError')
}

describe('pin token format', () => {
  it('is 1.<base64url JSON>.<22-char truncated HMAC> and matches an independent implementation', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 10_000 }])!
    expect(token).toMatch(/^1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
    expect(payloadOf(token)).toEqual([['default', 1_700_000_010]])
    expect(token).toBe(signJson(SECRET_A, [['default', 1_700_000_010]]))
  })

  it('stores expiries in epoch seconds, rounded up', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 10_001 }])!
    expect(payloadOf(token)).toEqual([['default', 1_700_000_011]])
  })

  it('is deterministic: same pins in any order give the same token, sorted by set', () => {
    const { codec } = setup()
    const pins: PinRecord[] = [
      { set: 'users', expiresAt: T0 + 5_000, position: '0/3000148' },
      { set: 'default', expiresAt: T0 + 9_000 },
      { set: 'orders', expiresAt: T0 + 7_000, position: '0-1-42,1-2-7' },
    ]
    const a = codec.encode(pins)
    const b = codec.encode([...pins].reverse())
    const c = codec.encode([pins[1]!, pins[2]!, pins[0]!])
    expect(a).toBe(b)
    expect(a).toBe(c)
    expect(payloadOf(a!)).toEqual([
      ['default', 1_700_000_009],
      ['orders', 1_700_000_007, '0-1-42,1-2-7'],
      ['users', 1_700_000_005, '0/3000148'],
    ])
  })

  it('merges duplicate sets in encode: the later expiry wins, with its position', () => {
    const { codec } = setup()
    const token = codec.encode([
      { set: 'default', expiresAt: T0 + 3_000, position: '0/1' },
      { set: 'default', expiresAt: T0 + 9_000, position: '0/2' },
      { set: 'default', expiresAt: T0 + 5_000, position: '0/3' },
    ])!
    expect(payloadOf(token)).toEqual([['default', 1_700_000_009, '0/2']])
  })
})

describe('round trip', () => {
  it('decodes what it encoded', () => {
    const { codec } = setup()
    const pins: PinRecord[] = [
      { set: 'default', expiresAt: T0 + 10_000 },
      { set: 'users', expiresAt: T0 + 4_000, position: '0/3000148' },
    ]
    expect(codec.decode(codec.encode(pins))).toEqual({ ok: true, pins, dropped: 0 })
  })

  it('round-trips positions (LSN, GTID list with spaces, every printable ASCII char, max length)', () => {
    const { codec } = setup()
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('')
    for (const position of ['0/3000148', '0-1-42, 1-2-7', printable, 'x'.repeat(MAX_POSITION_LENGTH)]) {
      const result = codec.decode(codec.encode([{ set: 'orders', expiresAt: T0 + 1_000, position }]))
      expect(result).toEqual({ ok: true, pins: [{ set: 'orders', expiresAt: T0 + 1_000, position }], dropped: 0 })
    }
  })

  it('encodes an empty position as no position (MariaDB reports "" before the first GTID)', () => {
    const { codec } = setup()
    const result = codec.decode(codec.encode([{ set: 'orders', expiresAt: T0 + 1_000, position: '' }]))
    expect(result).toEqual({ ok: true, pins: [{ set: 'orders', expiresAt: T0 + 1_000 }], dropped: 0 })
    expect(result.pins[0]).not.toHaveProperty('position')
  })

  it('round-trips set names with any characters', () => {
    const names = ['a.b', 'é€😀', '"quoted"\\', ' ', '\u0000ctl', '\ud800lone', 'x'.repeat(256)]
    const { codec } = setup({ isKnownSet: (s) => names.includes(s) })
    const pins = names.map((set, i) => ({ set, expiresAt: T0 + 1_000 * (i + 1) }))
    const token = codec.encode(pins)!
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/)
    const result = codec.decode(token)
    expect(result.ok).toBe(true)
    expect(new Set(result.pins.map((p) => p.set))).toEqual(new Set(names))
  })
})

describe('secrets and signatures', () => {
  it('signs with the newest secret and accepts older ones after rotation', () => {
    const { codec: oldCodec } = setup({ secrets: [SECRET_B] })
    const { codec: rotated } = setup({ secrets: [SECRET_C, SECRET_B] })
    const { codec: newOnly } = setup({ secrets: [SECRET_C] })
    const pins = [{ set: 'default', expiresAt: T0 + 5_000 }]

    const oldToken = oldCodec.encode(pins)!
    expect(rotated.decode(oldToken)).toEqual({ ok: true, pins, dropped: 0 })

    const newToken = rotated.encode(pins)!
    expect(newToken).toBe(newOnly.encode(pins))
    expect(newToken).toBe(signJson(SECRET_C, [['default', 1_700_000_005]]))
    expect(newOnly.decode(newToken).ok).toBe(true)
    expect(oldCodec.decode(newToken)).toEqual({ ok: false, reason: 'bad-signature', pins: [] })
  })

  it('rejects a token signed with an unknown secret', () => {
    const { codec } = setup()
    const forged = signJson(randomBytes(32), [['default', 1_700_000_005]])
    expect(codec.decode(forged)).toEqual({ ok: false, reason: 'bad-signature', pins: [] })
  })

  it('rejects a secret used without the key-derivation step (raw HMAC with the secret)', () => {
    const { codec } = setup()
    const signed = `1.${Buffer.from('[["default",1700000005]]').toString('base64url')}`
    const raw = createHmac('sha256', SECRET_A).update(signed).digest().subarray(0, 16).toString('base64url')
    expect(codec.decode(`${signed}.${raw}`)).toMatchObject({ ok: false, reason: 'bad-signature' })
  })

  it('rejects every single-character change to the payload', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 5_000, position: '0/1' }])!
    const [v, payload, tag] = token.split('.') as [string, string, string]
    for (let i = 0; i < payload.length; i++) {
      for (const ch of ['A', 'z', '0', '_']) {
        if (payload[i] === ch) continue
        const tampered = `${v}.${payload.slice(0, i)}${ch}${payload.slice(i + 1)}.${tag}`
        expect(codec.decode(tampered)).toMatchObject({ ok: false, reason: 'bad-signature' })
      }
    }
  })

  it('rejects a tampered MAC, including one differing only in the unused trailing bits', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 5_000 }])!
    const last = token.at(-1)!
    // 22 base64url chars = 132 bits for 128 bits of MAC: the last char's low 4 bits are padding.
    expect('AQgw').toContain(last)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sameBits = alphabet[alphabet.indexOf(last) + 1]!
    expect(Buffer.from(token.slice(-22, -1) + sameBits, 'base64url')).toEqual(Buffer.from(token.slice(-22), 'base64url'))
    expect(codec.decode(token.slice(0, -1) + sameBits)).toMatchObject({ ok: false, reason: 'bad-signature' })
    const first = token.length - 22
    const flipped = token.slice(0, first) + (token[first] === 'A' ? 'B' : 'A') + token.slice(first + 1)
    expect(codec.decode(flipped)).toMatchObject({ ok: false, reason: 'bad-signature' })
  })

  it('verifies before parsing: a forged payload that is not even JSON is a bad signature, not malformed', () => {
    const { codec } = setup()
    const forged = `1.${Buffer.from('{not json').toString('base64url')}.${'A'.repeat(22)}`
    expect(codec.decode(forged)).toMatchObject({ ok: false, reason: 'bad-signature' })
  })

  it('copies Uint8Array secrets at construction', () => {
    const bytes = new Uint8Array(32).fill(9)
    const { codec } = setup({ secrets: [bytes] })
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 5_000 }])
    bytes.fill(0)
    expect(codec.decode(token).ok).toBe(true)
    expect(token).toBe(signJson(new Uint8Array(32).fill(9), [['default', 1_700_000_005]]))
  })
})

describe('rejections', () => {
  it('treats null, undefined and "" as no token', () => {
    const { codec } = setup()
    for (const input of [null, undefined, '']) expect(codec.decode(input)).toEqual({ ok: true, pins: [], dropped: 0 })
  })

  it('rejects non-string inputs as malformed without throwing', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 5_000 }])!
    const hostile = new Proxy({}, { get: () => { throw new Error('touched') } })
    const inputs: unknown[] = [0, 1, NaN, 1n, true, {}, [], [token], new String(token), Symbol('x'), () => token, hostile,
      { toString: () => token }, Buffer.from(token)]
    for (const input of inputs) {
      expect(codec.decode(input as string)).toEqual({ ok: false, reason: 'malformed', pins: [] })
    }
  })

  it('rejects other versions as unsupported-version, and non-decimal versions as malformed', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 5_000 }])!
    const rest = token.slice(1)
    expect(codec.decode(`2${rest}`)).toMatchObject({ ok: false, reason: 'unsupported-version' })
    expect(codec.decode(`17${rest}`)).toMatchObject({ ok: false, reason: 'unsupported-version' })
    expect(codec.decode('2.anything.at-all.even-four-segments')).toMatchObject({ ok: false, reason: 'unsupported-version' })
    // A future version signed with our real key is still rejected.
    expect(codec.decode(sign(SECRET_A, Buffer.from('[]').toString('base64url'), '2'))).toMatchObject({
      ok: false,
      reason: 'unsupported-version',
    })
    for (const bad of [`01${rest}`, `0${rest}`, `v1${rest}`, `-1${rest}`, `${rest}`, '1', '2', 'abc']) {
      expect(codec.decode(bad)).toMatchObject({ ok: false, reason: 'malformed' })
    }
  })

  it('rejects structurally broken v1 tokens as malformed', () => {
    const { codec } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 5_000 }])!
    const [, payload, tag] = token.split('.') as [string, string, string]
    for (const bad of [
      `1.${payload}`, // no MAC
      `1..${tag}`, // empty payload
      `1.${payload}.${tag}.${tag}`, // extra segment
      `1.${payload}.${tag}A`, // MAC too long
      `1.${payload}.${tag.slice(1)}`, // MAC too short
      `1.${payload}=.${tag}`, // padding
      `1.${payload}.${tag.slice(0, -1)}~`, // '~' is cookie-safe but not base64url
      `1.${payload} .${tag}`, // space
      ` ${token}`,
      `${token}\n`,
      token.replace('1.', '1.é'),
      '[["default",1700000005]]', // django-pindb's legacy cookie
      '%5B%5B%22default%22%2C1700000005%5D%5D', // …URL-encoded
    ]) {
      expect(codec.decode(bad), bad).toMatchObject({ ok: false, reason: 'malformed' })
    }
  })

  it('rejects input longer than maxLength as oversized before looking at it', () => {
    const { codec } = setup({ maxLength: 200 })
    expect(codec.decode('x'.repeat(201))).toMatchObject({ ok: false, reason: 'oversized' })
    expect(codec.decode('\u0000'.repeat(201))).toMatchObject({ ok: false, reason: 'oversized' })
    expect(codec.decode('x'.repeat(200))).toMatchObject({ ok: false, reason: 'malformed' })
    const { codec: big } = setup()
    expect(big.decode('1.' + 'A'.repeat(4096))).toMatchObject({ ok: false, reason: 'oversized' })
    expect(big.decode('x'.repeat(10_000_000))).toMatchObject({ ok: false, reason: 'oversized' })
  })

  it('validates the shape of a validly signed payload strictly (malformed, never a crash)', () => {
    const { codec } = setup()
    const cases: unknown[] = [
      {},
      { default: 1_700_000_005 },
      'default',
      1_700_000_005,
      null,
      [['default']],
      [['default', 1_700_000_005, '0/1', 'extra']],
      [['default', '1700000005']],
      [['default', 1_700_000_005.5]],
      [['default', -1]],
      [['default', 2 ** 53]],
      [['default', 1e300]],
      [['default', null]], // JSON.stringify(NaN)
      [[1, 1_700_000_005]],
      [['', 1_700_000_005]],
      [['x'.repeat(257), 1_700_000_005]],
      [['default', 1_700_000_005, 7]],
      [['default', 1_700_000_005, '']],
      [['default', 1_700_000_005, 'line\nbreak']],
      [['default', 1_700_000_005, 'tab\t']],
      [['default', 1_700_000_005, 'é']],
      [['default', 1_700_000_005, 'x'.repeat(257)]],
      [['default', 1_700_000_005, null]],
      [{ set: 'default', expiresAt: 1_700_000_005 }],
      [[['default', 1_700_000_005]]],
      Array.from({ length: MAX_PINS + 1 }, (_, i) => [`s${i}`, 1_700_000_005]),
    ]
    for (const value of cases) {
      expect(codec.decode(signJson(SECRET_A, value)), JSON.stringify(value)).toEqual({
        ok: false,
        reason: 'malformed',
        pins: [],
      })
    }
    for (const raw of ['{not json', '[["default",1700000005]', '', '\uFEFF[]', '[["__proto__",1]]x', 'NaN', 'Infinity']) {
      expect(codec.decode(signJson(SECRET_A, raw, true)), raw).toMatchObject({ ok: false, reason: 'malformed' })
    }
    // Invalid UTF-8, validly signed.
    expect(codec.decode(sign(SECRET_A, Buffer.from([0x5b, 0xff, 0x5d]).toString('base64url')))).toMatchObject({
      ok: false,
      reason: 'malformed',
    })
    // Non-canonical base64url of a valid payload, validly signed.
    const canonical = Buffer.from('[]').toString('base64url') // 'W10'
    expect(codec.decode(sign(SECRET_A, canonical))).toEqual({ ok: true, pins: [], dropped: 0 })
    expect(codec.decode(sign(SECRET_A, 'W11'))).toMatchObject({ ok: false, reason: 'malformed' })
  })

  it('accepts exactly MAX_PINS pins', () => {
    const sets = Array.from({ length: MAX_PINS }, (_, i) => `s${String(i).padStart(2, '0')}`)
    const { codec } = setup({ isKnownSet: () => true })
    const token = codec.encode(sets.map((set) => ({ set, expiresAt: T0 + 1_000 })))!
    expect(codec.decode(token)).toMatchObject({ ok: true, dropped: 0 })
    expect(codec.decode(token).pins).toHaveLength(MAX_PINS)
  })

  it('merges duplicate sets in a signed payload: later expiry wins, earlier on a tie, not counted as dropped', () => {
    const { codec } = setup()
    const token = signJson(SECRET_A, [
      ['users', 1_700_000_003, '0/1'],
      ['users', 1_700_000_009, '0/2'],
      ['users', 1_700_000_009, '0/3'],
      ['default', 1_700_000_004],
    ])
    expect(codec.decode(token)).toEqual({
      ok: true,
      pins: [
        { set: 'default', expiresAt: T0 + 4_000 },
        { set: 'users', expiresAt: T0 + 9_000, position: '0/2' },
      ],
      dropped: 0,
    })
  })
})

describe('expiry, clamping and known sets', () => {
  it('drops expired pins and counts them', () => {
    const { codec, clock } = setup()
    const token = codec.encode([
      { set: 'default', expiresAt: T0 + 2_000 },
      { set: 'users', expiresAt: T0 + 8_000 },
    ])
    clock.now = T0 + 2_000 // expiresAt <= now is expired
    expect(codec.decode(token)).toEqual({ ok: true, pins: [{ set: 'users', expiresAt: T0 + 8_000 }], dropped: 1 })
    clock.now = T0 + 1_999
    expect(codec.decode(token)).toMatchObject({ ok: true, dropped: 0 })
  })

  it("rejects a token whose pins have all expired as 'expired'", () => {
    const { codec, clock } = setup()
    const token = codec.encode([
      { set: 'default', expiresAt: T0 + 2_000 },
      { set: 'users', expiresAt: T0 + 8_000 },
    ])
    clock.now = T0 + 8_000
    expect(codec.decode(token)).toEqual({ ok: false, reason: 'expired', pins: [] })
    clock.now = T0 + 3_600_000
    expect(codec.decode(token)).toEqual({ ok: false, reason: 'expired', pins: [] })
  })

  it("a payload with zero pins is ok and empty, not 'expired'", () => {
    const { codec } = setup()
    expect(codec.decode(signJson(SECRET_A, []))).toEqual({ ok: true, pins: [], dropped: 0 })
  })

  it('drops pins on unknown sets; only-unknown is ok and empty; expired + unknown is expired', () => {
    const { codec: everywhere } = setup({ isKnownSet: () => true })
    const { codec, clock } = setup()
    const mixed = everywhere.encode([
      { set: 'default', expiresAt: T0 + 5_000 },
      { set: 'gone', expiresAt: T0 + 5_000 },
      { set: 'old', expiresAt: T0 + 1_000 },
    ])
    expect(codec.decode(mixed)).toEqual({ ok: true, pins: [{ set: 'default', expiresAt: T0 + 5_000 }], dropped: 2 })
    const unknownOnly = everywhere.encode([{ set: 'gone', expiresAt: T0 + 5_000 }])
    expect(codec.decode(unknownOnly)).toEqual({ ok: true, pins: [], dropped: 1 })
    clock.now = T0 + 1_000
    const expiredAndUnknown = everywhere.encode([
      { set: 'gone', expiresAt: T0 + 5_000 },
      { set: 'default', expiresAt: T0 + 1_500 },
    ])
    clock.now = T0 + 2_000
    expect(codec.decode(expiredAndUnknown)).toMatchObject({ ok: false, reason: 'expired' })
  })

  it('treats an isKnownSet that throws as "unknown" in decode instead of throwing', () => {
    const { codec: everywhere } = setup({ isKnownSet: () => true })
    const { codec } = setup({
      isKnownSet: (set) => {
        if (set === 'boom') throw new Error('boom')
        return true
      },
    })
    const token = everywhere.encode([
      { set: 'boom', expiresAt: T0 + 5_000 },
      { set: 'default', expiresAt: T0 + 5_000 },
    ])
    expect(codec.decode(token)).toEqual({ ok: true, pins: [{ set: 'default', expiresAt: T0 + 5_000 }], dropped: 1 })
  })

  it('clamps a far-future expiry (signed with the real key) to now + pinSeconds', () => {
    const { codec, clock } = setup()
    for (const seconds of [1_700_000_016, 1_800_000_000, Number.MAX_SAFE_INTEGER]) {
      const result = codec.decode(signJson(SECRET_A, [['default', seconds]]))
      expect(result).toEqual({ ok: true, pins: [{ set: 'default', expiresAt: T0 + PIN_SECONDS * 1000 }], dropped: 0 })
    }
    clock.now = T0 + 123
    expect(codec.decode(signJson(SECRET_A, [['default', 1_800_000_000]])).pins[0]!.expiresAt).toBe(T0 + 123 + 15_000)
  })

  it('clamps in encode too, and clamps again on decode later (an old token never outlives the window)', () => {
    const { codec, clock } = setup()
    const token = codec.encode([{ set: 'default', expiresAt: T0 + 3_600_000 }])!
    expect(payloadOf(token)).toEqual([['default', 1_700_000_015]])
    clock.now = T0 + 10_000
    expect(codec.decode(token).pins).toEqual([{ set: 'default', expiresAt: T0 + 15_000 }])
  })

  it('uses the injected clock for encode and decode', () => {
    let now = 5_000_000
    const codec = createPinTokenCodec({ secrets: [SECRET_A], pinSeconds: 2, isKnownSet: () => true, clock: () => now })
    expect(codec.encode([{ set: 'x', expiresAt: 5_000_000 }])).toBeNull()
    const token = codec.encode([{ set: 'x', expiresAt: 5_001_000 }])
    now = 5_000_500
    expect(codec.decode(token)).toEqual({ ok: true, pins: [{ set: 'x', expiresAt: 5_001_000 }], dropped: 0 })
    now = 4_000_000
    expect(codec.decode(token).pins).toEqual([{ set: 'x', expiresAt: 4_002_000 }])
    now = 5_001_000
    expect(codec.decode(token)).toMatchObject({ ok: false, reason: 'expired' })
  })

  it('defaults the clock to Date.now', () => {
    const codec = createPinTokenCodec({ secrets: [SECRET_A], pinSeconds: 60, isKnownSet: () => true })
    const expiresAt = Date.now() + 30_000
    const result = codec.decode(codec.encode([{ set: 'x', expiresAt }]))
    expect(result.ok).toBe(true)
    expect(result.pins[0]!.expiresAt).toBeGreaterThanOrEqual(expiresAt)
    expect(result.pins[0]!.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000)
  })

  it('does not throw from decode when the injected clock misbehaves', () => {
    let value: unknown = NaN
    const codec = createPinTokenCodec({
      secrets: [SECRET_A],
      pinSeconds: 5,
      isKnownSet: () => true,
      clock: () => {
        if (value === 'throw') throw new Error('clock down')
        return value as number
      },
    })
    const token = signJson(SECRET_A, [['x', 1_700_000_005]])
    expect(codec.decode(token)).toMatchObject({ ok: false, reason: 'malformed' })
    value = 'throw'
    expect(codec.decode(token)).toMatchObject({ ok: false, reason: 'malformed' })
    expect(() => codec.encode([{ set: 'x', expiresAt: 1 }])).toThrow('clock down')
    value = NaN
    expect(configError(() => codec.encode([{ set: 'x', expiresAt: 1 }])).option).toBe('clock')
  })
})

describe('encode', () => {
  it('returns null when no live pin remains', () => {
    const { codec } = setup()
    expect(codec.encode([])).toBeNull()
    expect(codec.encode([{ set: 'default', expiresAt: T0 }])).toBeNull()
    expect(codec.encode([{ set: 'default', expiresAt: T0 - 1 }])).toBeNull()
    expect(codec.encode([{ set: 'nope', expiresAt: T0 + 5_000 }])).toBeNull()
  })

  it('skips expired and unknown pins but keeps the live ones', () => {
    const { codec } = setup()
    const token = codec.encode([
      { set: 'nope', expiresAt: T0 + 5_000 },
      { set: 'users', expiresAt: T0 - 1 },
      { set: 'default', expiresAt: T0 + 5_000 },
    ])!
    expect(payloadOf(token)).toEqual([['default', 1_700_000_005]])
  })

  it('leaves out positions with forbidden characters or too long, keeping the pin (never a token the decoder refuses)', () => {
    const { codec } = setup()
    const bad: unknown[] = ['x'.repeat(MAX_POSITION_LENGTH + 1), 'line\nbreak', 'tab\t', 'é', '\u0000', '\x7f', '', 42, null]
    for (const position of bad) {
      const token = codec.encode([{ set: 'default', expiresAt: T0 + 1_000, position } as PinRecord])!
      expect(payloadOf(token)).toEqual([['default', 1_700_000_001]])
      expect(codec.decode(token)).toEqual({ ok: true, pins: [{ set: 'default', expiresAt: T0 + 1_000 }], dropped: 0 })
    }
  })

  it('rejects malformed pins', () => {
    const { codec } = setup()
    const bad: unknown[] = [
      null,
      'default',
      { set: 1, expiresAt: T0 + 1_000 },
      { set: 'default', expiresAt: NaN },
      { set: 'default', expiresAt: Infinity },
      { set: 'default', expiresAt: String(T0 + 1_000) },
      { expiresAt: T0 + 1_000 },
    ]
    for (const pin of bad) {
      expect(configError(() => codec.encode([pin as PinRecord])).option).toBe('encode(pins)')
    }
    expect(configError(() => codec.encode('default' as unknown as PinRecord[])).option).toBe('encode(pins)')
  })

  it('rejects more than MAX_PINS live pins and tokens longer than maxLength', () => {
    const { codec } = setup({ isKnownSet: () => true, maxLength: 100_000 })
    const many = Array.from({ length: MAX_PINS + 1 }, (_, i) => ({ set: `s${i}`, expiresAt: T0 + 1_000 }))
    expect(configError(() => codec.encode(many)).option).toBe('encode(pins)')
    const { codec: small } = setup({ isKnownSet: () => true, maxLength: 128 })
    const long = [{ set: 'x'.repeat(100), expiresAt: T0 + 1_000 }]
    const err = configError(() => small.encode(long))
    expect(err.option).toBe('maxLength')
    expect(err.message).toMatch(/raise maxLength/)
    // When only the positions make it too long, they are left out and the pins kept.
    const withPositions = [
      { set: 'a', expiresAt: T0 + 1_000, position: 'p'.repeat(100) },
      { set: 'b', expiresAt: T0 + 2_000, position: '0/1' },
    ]
    const token = small.encode(withPositions)!
    expect(token.length).toBeLessThanOrEqual(128)
    expect(payloadOf(token)).toEqual([['a', 1_700_000_001], ['b', 1_700_000_002]])
    const { codec: roomy } = setup({ isKnownSet: () => true, maxLength: 256 })
    expect(payloadOf(roomy.encode(withPositions)!)).toEqual([
      ['a', 1_700_000_001, 'p'.repeat(100)],
      ['b', 1_700_000_002, '0/1'],
    ])
    // The default fits MAX_PINS pins with short names and short positions.
    const { codec: dflt } = setup({ isKnownSet: () => true })
    const full = Array.from({ length: MAX_PINS }, (_, i) => ({ set: `db${i}`, expiresAt: T0 + 1_000, position: '16/B374D848' }))
    expect(dflt.encode(full)!.length).toBeLessThanOrEqual(4096)
  })

  it('rejects a known set name longer than 256 characters', () => {
    const { codec } = setup({ isKnownSet: () => true, maxLength: 100_000 })
    expect(configError(() => codec.encode([{ set: 'x'.repeat(257), expiresAt: T0 + 1_000 }])).option).toBe('encode(pins)')
    expect(configError(() => codec.encode([{ set: '', expiresAt: T0 + 1_000 }])).option).toBe('encode(pins)')
  })
})

describe('configuration errors', () => {
  const base: PinTokenCodecOptions = { secrets: [SECRET_A], pinSeconds: 15, isKnownSet: () => true }
  const cases: [string, Partial<Record<keyof PinTokenCodecOptions, unknown>> | null, RegExp][] = [
    ['secrets', { secrets: undefined }, /randomBytes\(32\)/],
    ['secrets', { secrets: [] }, /non-empty/],
    ['secrets', { secrets: SECRET_A }, /array/],
    ['secrets[0]', { secrets: ['short'] }, /at least 32 bytes.*randomBytes/],
    ['secrets[1]', { secrets: [SECRET_A, new Uint8Array(31)] }, /at least 32 bytes, this one is 31/],
    ['secrets[0]', { secrets: [42] }, /string or a Uint8Array/],
    ['secrets[0]', { secrets: [null] }, /string or a Uint8Array/],
    ['pinSeconds', { pinSeconds: 0 }, /pinSeconds: 15/],
    ['pinSeconds', { pinSeconds: -1 }, /finite/],
    ['pinSeconds', { pinSeconds: NaN }, /NaN/],
    ['pinSeconds', { pinSeconds: Infinity }, /Infinity/],
    ['pinSeconds', { pinSeconds: 1e308 }, /finite/],
    ['pinSeconds', { pinSeconds: '15' }, /string/],
    ['pinSeconds', { pinSeconds: undefined }, /undefined/],
    ['isKnownSet', { isKnownSet: undefined }, /function/],
    ['isKnownSet', { isKnownSet: new Set(['a']) }, /function/],
    ['clock', { clock: 1 }, /Date\.now/],
    ['maxLength', { maxLength: 0 }, /at least 128/],
    ['maxLength', { maxLength: 127 }, /at least 128/],
    ['maxLength', { maxLength: 1000.5 }, /integer/],
    ['maxLength', { maxLength: Infinity }, /integer/],
    ['maxLength', { maxLength: NaN }, /integer/],
    ['maxLength', { maxLength: '4096' }, /integer/],
    ['options', null, /options object/],
  ]
  it.each(cases)('%s: %o', (option, overrides, message) => {
    const opts = overrides === null ? null : { ...base, ...overrides }
    const err = configError(() => createPinTokenCodec(opts as PinTokenCodecOptions))
    expect(err.option).toBe(option)
    expect(err.name).toBe('PinDbConfigError')
    expect(err.message).toContain(`\`${option}\``)
    expect(err.message).toMatch(message)
  })

  it('never echoes a secret in an error message', () => {
    const err = configError(() => createPinTokenCodec({ ...base, secrets: ['hunter2-too-short'] }))
    expect(err.message).not.toContain('hunter2')
  })

  it('counts string secrets in UTF-8 bytes', () => {
    expect(() => createPinTokenCodec({ ...base, secrets: ['é'.repeat(16)] })).not.toThrow() // 32 bytes
    expect(configError(() => createPinTokenCodec({ ...base, secrets: ['é'.repeat(15) + 'x'] })).option).toBe('secrets[0]')
  })

  it('accepts the smallest valid values', () => {
    expect(() => createPinTokenCodec({ ...base, pinSeconds: 0.001, maxLength: 128 })).not.toThrow()
  })
})
