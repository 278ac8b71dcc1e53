/**
 * Tokens are not bare bearer tokens: a token encoded with a binding (a session id, a user id…)
 * carries a keyed hash of it, never the value, and decodes only with the same binding — in the
 * codec, across secret rotation, and in the job helpers (captureJobPins / runWithJobPins).
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { captureJobPins, createPinCodec, runWithJobPins, type TokenRejectedEvent } from '../../src/jobs.js'
import { createPinTokenCodec } from '../../src/token/index.js'

const SECRET_A = 'binding-secret-a-0123456789-abcdefghijklmnop'
const SECRET_B = 'binding-secret-b-0123456789-abcdefghijklmnop'
const T0 = 1_700_000_000_000
const PIN = [{ set: 'default', expiresAt: T0 + 10_000 }]

function codecWith(secrets: string[]) {
  return createPinTokenCodec({ secrets, pinSeconds: 15, isKnownSet: () => true, clock: () => T0 })
}

function payloadOf(token: string): unknown {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

describe('bound pin tokens', () => {
  it('decode only with the binding they were encoded with; another binding or none is binding-mismatch', () => {
    const codec = codecWith([SECRET_A])
    const token = codec.encode(PIN, { binding: 'session-alice' })!
    expect(codec.decode(token, { binding: 'session-alice' })).toEqual({ ok: true, pins: PIN, dropped: 0 })
    expect(codec.decode(token, { binding: 'session-mallory' })).toEqual({ ok: false, reason: 'binding-mismatch', pins: [] })
    expect(codec.decode(token)).toEqual({ ok: false, reason: 'binding-mismatch', pins: [] })
    expect(codec.decode(token, { binding: '' })).toEqual({ ok: false, reason: 'binding-mismatch', pins: [] })
  })

  it('an unbound token is accepted whatever the binding (issued before the client had one, e.g. before login)', () => {
    const codec = codecWith([SECRET_A])
    const token = codec.encode(PIN)!
    expect(codec.decode(token, { binding: 'session-alice' })).toEqual({ ok: true, pins: PIN, dropped: 0 })
    expect(codec.encode(PIN, { binding: '' })).toBe(token) // '' is no binding
  })

  it('carries a keyed 22-character tag, never the binding in clear, matching the documented derivation', () => {
    const codec = codecWith([SECRET_A])
    const token = codec.encode(PIN, { binding: 'user-42' })!
    expect(token).not.toContain(Buffer.from('user-42').toString('base64url'))
    const payload = payloadOf(token) as unknown[]
    const key = createHmac('sha256', SECRET_A).update('pindb/pin-token-binding').digest()
    const tag = createHmac('sha256', key).update('user-42').digest().subarray(0, 16).toString('base64url')
    expect(payload).toEqual([tag, ['default', (T0 + 10_000) / 1000]])
    expect(JSON.stringify(payload)).not.toContain('user-42')
    // An unkeyed hash of the binding is not the tag (a guessed user id cannot be checked without the secret).
    expect(tag).not.toBe(createHmac('sha256', '').update('user-42').digest().subarray(0, 16).toString('base64url'))
  })

  it('the tag is covered by the MAC: swapping in the tag of another binding is a bad signature', () => {
    const codec = codecWith([SECRET_A])
    const alice = codec.encode(PIN, { binding: 'alice' })!
    const mallory = codec.encode(PIN, { binding: 'mallory' })!
    const [v, , mac] = alice.split('.') as [string, string, string]
    const forged = `${v}.${mallory.split('.')[1]}.${mac}`
    expect(codec.decode(forged, { binding: 'mallory' })).toMatchObject({ ok: false, reason: 'bad-signature' })
  })

  it('survives secret rotation: a bound token signed with the old secret decodes after a new one is prepended', () => {
    const before = codecWith([SECRET_A])
    const token = before.encode(PIN, { binding: 'alice' })!
    const after = codecWith([SECRET_B, SECRET_A])
    expect(after.decode(token, { binding: 'alice' })).toMatchObject({ ok: true, pins: PIN })
    expect(after.decode(token, { binding: 'bob' })).toMatchObject({ ok: false, reason: 'binding-mismatch' })
    expect(codecWith([SECRET_B]).decode(token, { binding: 'alice' })).toMatchObject({ ok: false, reason: 'bad-signature' })
  })

  it('rejects a malformed tag (wrong length or characters) as malformed, never throws on odd options', () => {
    const codec = codecWith([SECRET_A])
    const key = createHmac('sha256', SECRET_A).update('pindb/pin-token').digest()
    const signJson = (value: unknown): string => {
      const signed = `1.${Buffer.from(JSON.stringify(value)).toString('base64url')}`
      return `${signed}.${createHmac('sha256', key).update(signed).digest().subarray(0, 16).toString('base64url')}`
    }
    for (const tag of ['A'.repeat(21), 'A'.repeat(23), `${'A'.repeat(21)}+`, '']) {
      expect(codec.decode(signJson([tag, ['default', T0 / 1000 + 10]]), { binding: 'alice' }), tag).toMatchObject({ ok: false, reason: 'malformed' })
    }
    const token = codec.encode(PIN, { binding: 'alice' })!
    expect(() => codec.decode(token, null as never)).not.toThrow()
    expect(codec.decode(token, { binding: 42 as never })).toMatchObject({ ok: false, reason: 'binding-mismatch' })
  })
})

describe('job pins with a binding', () => {
  it('runWithJobPins ignores a token bound to another binding and reports binding-mismatch', async () => {
    const pindb = createPinDb<Record<string, unknown>>({ primaries: { default: {} }, replicas: { default: [{}] } })
    const codec = createPinCodec(pindb, [SECRET_A])
    const token = await pindb.run(async () => {
      pindb.pin('default')
      return captureJobPins(pindb, codec, { binding: 'tenant-1' })
    })
    expect(token).not.toBeNull()
    const events: TokenRejectedEvent[] = []
    const onTokenRejected = (e: TokenRejectedEvent) => events.push(e)
    expect(runWithJobPins(pindb, codec, token, () => pindb.isPinned('default'), { binding: 'tenant-1', onTokenRejected })).toBe(true)
    expect(runWithJobPins(pindb, codec, token, () => pindb.isPinned('default'), { binding: 'tenant-2', onTokenRejected })).toBe(false)
    expect(runWithJobPins(pindb, codec, token, () => pindb.isPinned('default'), { onTokenRejected })).toBe(false)
    expect(events).toEqual([
      { source: 'job', reason: 'binding-mismatch', length: token!.length },
      { source: 'job', reason: 'binding-mismatch', length: token!.length },
    ])
  })
})
