/**
 * The carrier's handling of tokens that are not bare bearer tokens and of pins that cannot travel:
 * cookies parsed with the `cookie` package (regression: a token hidden in another cookie's value
 * was accepted), `Secure` by default on HTTPS, the `bind` option, and lost pins (`onPinLost`,
 * channel `pindb:pin-lost`) — framework-independent, with an injected clock.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPinCarrier, nodeCarrierRequest, PIN_LOST_CHANNEL, type CarrierRequest, type CarrierUnit, type PinCarrier, type PinCarrierOptions, type PinLostEvent } from '../../src/http/index.js'
import { createPinDb, PinDbConfigError, type PinDb, type PinDbOptions } from '../../src/index.js'
import type { TokenRejectedEvent } from '../../src/jobs.js'
import { seamOf } from '../../src/adapter/seam.js'

type Cfg = Record<string, unknown>
const SECRET = 'carrier-tokens-secret-0123456789-abcdefgh'
const OLD_SECRET = 'carrier-tokens-old-secret-0123456789-abcd'

interface Setup {
  pindb: PinDb<Cfg>
  carrier: PinCarrier
  events: TokenRejectedEvent[]
  lost: PinLostEvent[]
}

function setup(carrierOptions: Partial<PinCarrierOptions> = {}, pindbOptions: Partial<PinDbOptions<Cfg>> = {}): Setup {
  const events: TokenRejectedEvent[] = []
  const lost: PinLostEvent[] = []
  const pindb = createPinDb<Cfg>({ primaries: { default: {}, egg: {} }, replicas: { default: [{}], egg: [{}] }, clock: () => 1_000_000, ...pindbOptions })
  const carrier = createPinCarrier(pindb, {
    secrets: [SECRET],
    onTokenRejected: (e) => events.push(e),
    onPinLost: (e) => lost.push(e),
    ...carrierOptions,
  })
  return { pindb, carrier, events, lost }
}

function request(headers: Record<string, string | string[]> = {}, extra: { secure?: boolean; encrypted?: boolean } = {}): CarrierRequest {
  return nodeCarrierRequest({
    method: 'POST',
    url: '/notes?x=1',
    headers,
    ...(extra.secure === undefined ? {} : { secure: extra.secure }),
    ...(extra.encrypted === undefined ? {} : { socket: { encrypted: extra.encrypted } }),
  })
}

/** A token pinning `default`, from a request that wrote (bound to `binding` if given). */
function tokenFrom(s: Setup, cookie?: string): string {
  const out = s.carrier.run(request(cookie === undefined ? {} : { cookie }), (unit) => {
    s.pindb.pin('default')
    return unit.responseHeaders()
  })
  return out.find(([name]) => name === 'x-pindb-token')![1]
}

function pinnedWith(s: Setup, headers: Record<string, string | string[]>): boolean {
  return s.carrier.run(request(headers), () => s.pindb.isPinned('default'))
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('cookies parsed with the cookie package', () => {
  it('regression: a token inside another cookie’s value is not read (the old parser split on `,`)', () => {
    // The hand-written parser split the Cookie header on `;` and `,`, so `other=x,pindb=<token>`
    // — one cookie named `other` whose value merely contains the text — pinned the request.
    const s = setup()
    const token = tokenFrom(s)
    expect(pinnedWith(s, { cookie: `other=x,pindb=${token}` })).toBe(false)
    expect(pinnedWith(s, { cookie: `other="a,pindb=${token}"` })).toBe(false)
    expect(pinnedWith(s, { cookie: `other=x; pindb=${token}` })).toBe(true)
    expect(pinnedWith(s, { cookie: `pindb="${token}"` })).toBe(true) // RFC 6265 quoted value
    expect(s.events).toEqual([])
  })

  it('several Cookie lines are each parsed; within one line the first cookie of the name wins', () => {
    const s = setup()
    const token = tokenFrom(s)
    expect(pinnedWith(s, { cookie: ['theme=dark', `pindb=${token}`] })).toBe(true)
    expect(pinnedWith(s, { cookie: `pindb=${token}; pindb=garbage` })).toBe(true)
    expect(s.events).toEqual([])
    expect(pinnedWith(s, { cookie: `pindb=garbage; pindb=${token}` })).toBe(false)
    expect(s.events.map((e) => e.reason)).toEqual(['malformed'])
  })
})

describe('Secure by default on HTTPS', () => {
  const cookieOf = (s: Setup, req: CarrierRequest): string =>
    s.carrier.run(req, (unit) => {
      s.pindb.pin('default')
      return unit.responseHeaders().find(([name]) => name === 'set-cookie')![1]
    })

  it('adds Secure when the request is HTTPS (Express req.secure, or a TLS socket), not otherwise', () => {
    const s = setup()
    expect(cookieOf(s, request({}, { secure: true }))).toMatch(/; SameSite=Lax; Secure$/)
    expect(cookieOf(s, request({}, { encrypted: true }))).toMatch(/; SameSite=Lax; Secure$/)
    expect(cookieOf(s, request({}, { secure: false, encrypted: true }))).toMatch(/; SameSite=Lax$/) // Express decides
    expect(cookieOf(s, request({}))).toMatch(/; SameSite=Lax$/)
    expect(cookieOf(s, request({ 'x-forwarded-proto': 'https' }))).toMatch(/; SameSite=Lax$/) // not trusted by itself
  })

  it('an explicit cookie.secure overrides the request, both ways', () => {
    expect(cookieOf(setup({ cookie: { secure: false } }), request({}, { secure: true }))).toMatch(/; SameSite=Lax$/)
    expect(cookieOf(setup({ cookie: { secure: true, domain: 'example.com' } }), request({}))).toMatch(/; SameSite=Lax; Secure; Domain=example\.com$/)
  })

  it('validates cookie.secure, bind and onPinLost', () => {
    const pindb = createPinDb<Cfg>({ primaries: { default: {} }, replicas: { default: [] } })
    const option = (options: unknown): string => {
      try {
        createPinCarrier(pindb, { secrets: [SECRET], ...(options as object) })
      } catch (error) {
        if (error instanceof PinDbConfigError) return error.option
      }
      return 'none'
    }
    expect(option({ cookie: { secure: 'yes' } })).toBe('cookie.secure')
    expect(option({ bind: 'sid' })).toBe('bind')
    expect(option({ onPinLost: true })).toBe('onPinLost')
    expect(option({ cookie: { sameSite: 'None' } })).toBe('cookie.sameSite') // None still needs an explicit secure: true
  })
})

describe('bind: tokens bound to the client', () => {
  const bySession: Partial<PinCarrierOptions> = { bind: (req) => req.cookies['sid'] }

  it('a token captured from one session and replayed with another is ignored and reported, never thrown', () => {
    const s = setup(bySession)
    const token = tokenFrom(s, 'sid=alice')
    expect(pinnedWith(s, { cookie: 'sid=alice', 'x-pindb-token': token })).toBe(true)
    expect(pinnedWith(s, { cookie: 'sid=mallory', 'x-pindb-token': token })).toBe(false)
    expect(pinnedWith(s, { cookie: `sid=mallory; pindb=${token}` })).toBe(false)
    expect(pinnedWith(s, { 'x-pindb-token': token })).toBe(false)
    expect(s.events.map((e) => [e.source, e.reason])).toEqual([
      ['header', 'binding-mismatch'],
      ['cookie', 'binding-mismatch'],
      ['header', 'binding-mismatch'],
    ])
  })

  it('a token issued before the client had a binding (before login) is still accepted after', () => {
    const s = setup(bySession)
    const token = tokenFrom(s)
    expect(pinnedWith(s, { cookie: `sid=alice; pindb=${token}` })).toBe(true)
    expect(s.events).toEqual([])
  })

  it('bind sees the method, the path without the query, the headers and the parsed cookies; what it throws propagates', () => {
    const seen: unknown[] = []
    const s = setup({ bind: (req) => { seen.push(req); return undefined } })
    pinnedWith(s, { cookie: 'sid=a%20b; x=1', authorization: 'Bearer t' })
    expect(seen).toEqual([{ method: 'POST', path: '/notes', headers: { cookie: 'sid=a%20b; x=1', authorization: 'Bearer t' }, cookies: { sid: 'a b', x: '1' } }])
    const failing = setup({ bind: () => { throw new Error('session store down') } })
    expect(() => pinnedWith(failing, {})).toThrow('session store down')
  })

  it('rotating the secret keeps bound tokens working: prepend the new one, drop the old one after pinSeconds', () => {
    const before = setup({ ...bySession, secrets: [OLD_SECRET] })
    const token = tokenFrom(before, 'sid=alice')
    const rotated = setup({ ...bySession, secrets: [SECRET, OLD_SECRET] })
    expect(pinnedWith(rotated, { cookie: `sid=alice; pindb=${token}` })).toBe(true)
    const fresh = tokenFrom(rotated, 'sid=alice')
    expect(fresh).not.toBe(token)
    const dropped = setup({ ...bySession, secrets: [SECRET] })
    expect(pinnedWith(dropped, { cookie: `sid=alice; pindb=${fresh}` })).toBe(true)
    expect(pinnedWith(dropped, { cookie: `sid=alice; pindb=${token}` })).toBe(false)
    expect(dropped.events.map((e) => e.reason)).toEqual(['bad-signature'])
  })
})

describe('several app instances', () => {
  it('instances sharing the secrets accept each other’s tokens; an instance with other secrets rejects them', () => {
    const a = setup()
    const b = setup() // another process: its own pindb and carrier, the same secrets
    const token = tokenFrom(a)
    expect(pinnedWith(b, { 'x-pindb-token': token })).toBe(true)
    const stranger = setup({ secrets: [OLD_SECRET] })
    expect(pinnedWith(stranger, { 'x-pindb-token': token })).toBe(false)
    expect(stranger.events.map((e) => e.reason)).toEqual(['bad-signature'])
  })

  it('rotation step by step across instances: add the new secret second, then first, then drop the old one', () => {
    const NEW = SECRET
    const OLD = OLD_SECRET
    const step0 = setup({ secrets: [OLD] })
    const step1 = setup({ secrets: [OLD, NEW] }) // rolled out while step0 instances still run
    const step2 = setup({ secrets: [NEW, OLD] }) // rolled out once every instance accepts NEW
    const step3 = setup({ secrets: [NEW] }) // after pinSeconds (+ the rollout) since step 2 finished
    // Step 1: instances sign with OLD still, so old-only instances keep accepting every token.
    expect(pinnedWith(step0, { 'x-pindb-token': tokenFrom(step1) })).toBe(true)
    // Step 2: tokens signed with NEW are accepted by step-1 instances still running.
    const signedNew = tokenFrom(step2)
    expect(pinnedWith(step1, { 'x-pindb-token': signedNew })).toBe(true)
    expect(pinnedWith(step2, { 'x-pindb-token': tokenFrom(step0) })).toBe(true)
    // Step 3: only NEW; a token signed with OLD is now rejected (it would have expired by then).
    expect(pinnedWith(step3, { 'x-pindb-token': signedNew })).toBe(true)
    expect(pinnedWith(step3, { 'x-pindb-token': tokenFrom(step0) })).toBe(false)
    // Skipping step 1 breaks: an OLD-only instance rejects what a [NEW, OLD] instance signs.
    expect(pinnedWith(step0, { 'x-pindb-token': signedNew })).toBe(false)
  })
})

describe('pins lost to a response whose headers were sent', () => {
  /** Runs a unit of work: `before` runs before the headers are computed, `after` after them. */
  function respond(s: Setup, before: () => void, after: () => void, headers: Record<string, string> = {}): void {
    s.carrier.run(request(headers), (unit: CarrierUnit) => {
      before()
      unit.responseHeaders()
      after()
      unit.end()
      unit.end() // idempotent
    })
  }

  it('regression: a set pinned after the headers is reported once, with the method and path', () => {
    const s = setup()
    respond(s, () => s.pindb.pin('egg'), () => s.pindb.pin('default'))
    expect(s.lost).toEqual([{ sets: ['default'], reason: 'headers-sent', method: 'POST', path: '/notes' }])
  })

  it('a carried pin written again after the headers is lost too (it would have got a fresh expiry)', () => {
    const s = setup()
    const token = tokenFrom(s)
    respond(s, () => undefined, () => s.pindb.pin('default'), { 'x-pindb-token': token })
    expect(s.lost.map((e) => e.sets)).toEqual([['default']])
  })

  it('nothing is reported when every pin was made before the headers, or when the set was already newly pinned', () => {
    const s = setup()
    respond(s, () => s.pindb.pin('default'), () => undefined)
    respond(s, () => s.pindb.pin('default'), () => s.pindb.pin('default'))
    respond(s, () => undefined, () => undefined)
    expect(s.lost).toEqual([])
  })

  it('causal: a pinned set written again after its position was sent is lost (the sent position is too old)', async () => {
    const s = setup({}, { causal: true })
    let position = 100
    seamOf(s.pindb).registerPositionSource('default', async () => `0/${position}`)
    await s.carrier.run(request(), async (unit) => {
      s.pindb.pin('default')
      seamOf(s.pindb).noteWrite('default')
      const sent = await unit.responseHeadersAsync()
      expect(s.carrier.codec.decode(sent.find(([n]) => n === 'x-pindb-token')![1]).pins[0]?.position).toBe('0/100')
      position = 200
      seamOf(s.pindb).noteWrite('default') // a second write, after the headers
      unit.end()
    })
    expect(s.lost.map((e) => e.sets)).toEqual([['default']])
  })

  it('is published on the pindb:pin-lost channel; a throwing onPinLost becomes a warning', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const s = setup({ onPinLost: () => { throw new Error('pager down') } })
    const seen: unknown[] = []
    const listener = (message: unknown) => seen.push(message)
    subscribe(PIN_LOST_CHANNEL, listener)
    try {
      respond(s, () => undefined, () => s.pindb.pin('egg'))
    } finally {
      unsubscribe(PIN_LOST_CHANNEL, listener)
    }
    expect(seen).toEqual([{ sets: ['egg'], reason: 'headers-sent', method: 'POST', path: '/notes' }])
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/onPinLost threw: pager down/)
  })

  it('does nothing (and watches nothing) when nobody listens, for exempt requests, or before any headers', () => {
    const quiet = setup()
    const noHook = createPinCarrier(quiet.pindb, { secrets: [SECRET] })
    noHook.run(request(), (unit) => {
      expect(unit.watchesLostPins).toBe(false)
      unit.responseHeaders()
      quiet.pindb.pin('default')
      unit.end()
    })
    const s = setup({ exempt: () => true })
    s.carrier.run(request(), (unit) => {
      expect(unit.watchesLostPins).toBe(false)
      unit.responseHeaders()
      s.pindb.pin('default')
      unit.end()
    })
    const t = setup()
    t.carrier.run(request(), (unit) => {
      expect(unit.watchesLostPins).toBe(true)
      t.pindb.pin('default')
      unit.end() // no headers were produced: nothing to compare with
    })
    expect([s.lost, t.lost]).toEqual([[], []])
  })
})
