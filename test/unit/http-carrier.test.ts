/**
 * The framework-independent HTTP pin carrier: options validation, cookie and header output,
 * django-pindb's worked examples (§6.6 A–E) with an injected clock, rejected tokens, header mode,
 * pinOnUnsafeMethods, exempt, markWrite, and the kill switch.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPinCarrier, markWrite, nodeCarrierRequest, MAX_TOKENS_PER_REQUEST, type PinCarrier } from '../../src/http/carrier.js'
import type { PinCarrierOptions, PinRequestInfo } from '../../src/http/options.js'
import { createPinDb, PinDbConfigError, type PinDb, type PinDbOptions } from '../../src/index.js'
import { TOKEN_CHANNEL, type TokenRejectedEvent } from '../../src/jobs.js'
import { createPinTokenCodec } from '../../src/token/pin-token.js'

type Cfg = Record<string, unknown>
const SECRET = 'carrier-test-secret-0123456789-abcdefghij'
const OTHER_SECRET = 'another-secret-entirely-0123456789-abcdef'
const Ham = { model: 'Ham' } as const
const Egg = { model: 'Egg' } as const

interface Setup {
  pindb: PinDb<Cfg>
  clock: { now: number }
  carrier: PinCarrier
  events: TokenRejectedEvent[]
}

/** S = 15 s; default and egg have 2 replicas each, solo none; the clock starts at 1 s (epoch ms). */
function setup(carrierOptions: Partial<PinCarrierOptions> = {}, pindbOptions: Partial<PinDbOptions<Cfg>> = {}): Setup {
  const clock = { now: 1_000 }
  const events: TokenRejectedEvent[] = []
  const pindb = createPinDb<Cfg>({
    primaries: { default: {}, egg: {}, solo: {} },
    replicas: { default: [{}, {}], egg: [{}, {}], solo: [] },
    delegates: [{ dbForWrite: (h) => (h.model === 'Egg' ? 'egg' : undefined), dbForRead: (h) => (h.model === 'Egg' ? 'egg' : undefined) }],
    clock: () => clock.now,
    ...pindbOptions,
  })
  const carrier = createPinCarrier(pindb, { secrets: [SECRET], onTokenRejected: (e) => events.push(e), ...carrierOptions })
  return { pindb, clock, carrier, events }
}

function request(headers: Record<string, string | string[]> = {}, method = 'GET', url = '/notes?x=1') {
  return nodeCarrierRequest({ method, url, headers })
}

/** Runs a request through the carrier; returns the response headers and what `fn` returned. */
function serve<T>(s: Setup, headers: Record<string, string | string[]>, fn: () => T, method = 'GET'): { out: [string, string][]; result: T } {
  return s.carrier.run(request(headers, method), (unit) => {
    const result = fn()
    return { out: unit.responseHeaders(), result }
  })
}

/** The token of a `pindb=` Set-Cookie value, and its pins as [set, expiry ms]. */
function cookiePins(s: Setup, out: [string, string][]): { maxAge: number; pins: [string, number][] } {
  const cookie = out.find(([name]) => name === 'set-cookie')?.[1]
  if (cookie === undefined) throw new Error('no set-cookie')
  const token = /^pindb=([^;]+);/.exec(cookie)![1]!
  const decoded = s.carrier.codec.decode(token)
  if (!decoded.ok) throw new Error(decoded.reason)
  return { maxAge: Number(/Max-Age=(\d+)/.exec(cookie)![1]), pins: decoded.pins.map((p) => [p.set, p.expiresAt]) }
}

function tokenFor(s: Setup, pins: [string, number][], secret = SECRET): string {
  const codec = createPinTokenCodec({ secrets: [secret], pinSeconds: 15, isKnownSet: () => true, clock: () => s.clock.now })
  return codec.encode(pins.map(([set, expiresAt]) => ({ set, expiresAt })))!
}

function configError(fn: () => unknown): PinDbConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof PinDbConfigError) return err
    throw err
  }
  throw new Error('expected a PinDbConfigError')
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('options validation (once, at construction)', () => {
  const pindb = createPinDb<Cfg>({ primaries: { default: {} }, replicas: { default: [{}] } })
  const make = (options: unknown) => () => createPinCarrier(pindb, options as PinCarrierOptions)

  it('requires secrets and says how to generate one', () => {
    const err = configError(make({}))
    expect(err.option).toBe('secrets')
    expect(err.message).toMatch(/randomBytes\(32\)/)
    expect(configError(make({ secrets: ['short'] })).option).toBe('secrets[0]')
  })

  it('rejects unknown option keys, top level and in cookie, naming them', () => {
    expect(configError(make({ secrets: [SECRET], cookies: {} })).option).toBe('cookies')
    expect(configError(make({ secrets: [SECRET], cookie: { maxAge: 5 } })).option).toBe('cookie.maxAge')
    expect(configError(make(null)).option).toBe('options')
  })

  it('rejects a header name that is not an HTTP token, or a standard header', () => {
    expect(configError(make({ secrets: [SECRET], header: 'x pindb' })).option).toBe('header')
    expect(configError(make({ secrets: [SECRET], header: '' })).option).toBe('header')
    expect(configError(make({ secrets: [SECRET], header: 'Set-Cookie' })).message).toMatch(/standard header/)
  })

  it('rejects SameSite=None without Secure, and bad cookie attributes', () => {
    const err = configError(make({ secrets: [SECRET], cookie: { sameSite: 'None' } }))
    expect(err.option).toBe('cookie.sameSite')
    expect(err.message).toMatch(/secure: true/)
    expect(() => make({ secrets: [SECRET], cookie: { sameSite: 'None', secure: true } })()).not.toThrow()
    expect(configError(make({ secrets: [SECRET], cookie: { sameSite: 'lax' } })).option).toBe('cookie.sameSite')
    expect(configError(make({ secrets: [SECRET], cookie: { name: 'a;b' } })).option).toBe('cookie.name')
    expect(configError(make({ secrets: [SECRET], cookie: { path: 'app' } })).option).toBe('cookie.path')
    expect(configError(make({ secrets: [SECRET], cookie: { domain: 'a b' } })).option).toBe('cookie.domain')
    expect(configError(make({ secrets: [SECRET], cookie: { name: '__Host-pin' } })).option).toBe('cookie.secure')
    expect(configError(make({ secrets: [SECRET], cookie: { name: '__Host-pin', secure: true, path: '/x' } })).option).toBe('cookie.domain')
  })

  it('checks pinOnUnsafeMethods sets, exempt and onTokenRejected', () => {
    const err = configError(make({ secrets: [SECRET], pinOnUnsafeMethods: ['nope'] }))
    expect(err.option).toBe('pinOnUnsafeMethods[0]')
    expect(err.message).toMatch(/Known DB sets: default/)
    expect(configError(make({ secrets: [SECRET], pinOnUnsafeMethods: 'yes' })).option).toBe('pinOnUnsafeMethods')
    expect(configError(make({ secrets: [SECRET], exempt: true })).option).toBe('exempt')
    expect(configError(make({ secrets: [SECRET], onTokenRejected: 'log' })).option).toBe('onTokenRejected')
  })
})

describe('cookie output', () => {
  it('formats the default cookie: Max-Age, Path=/, HttpOnly, SameSite=Lax, no Secure or Domain', () => {
    const s = setup()
    const { out } = serve(s, {}, () => s.pindb.dbForWrite(Ham))
    expect(out).toHaveLength(2)
    expect(out[0]![1]).toMatch(/^pindb=1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}; Max-Age=15; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(out[1]).toEqual(['x-pindb-token', /^pindb=([^;]+);/.exec(out[0]![1])![1]])
  })

  it('formats every attribute when configured', () => {
    const s = setup({ cookie: { name: 'pin', secure: true, domain: 'example.com', path: '/app', sameSite: 'None' }, header: false })
    const { out } = serve(s, {}, () => s.pindb.dbForWrite(Ham))
    expect(out).toHaveLength(1)
    expect(out[0]![1]).toMatch(/^pin=[^;]+; Max-Age=15; Path=\/app; HttpOnly; SameSite=None; Secure; Domain=example\.com$/)
  })

  it('Max-Age is the remaining window of the latest pin, rounded up', () => {
    const s = setup()
    s.clock.now = 10_000
    const carried = tokenFor(s, [['default', 16_000]])
    s.clock.now = 10_500
    const { out } = serve(s, { cookie: `pindb=${carried}` }, () => undefined)
    expect(cookiePins(s, out)).toEqual({ maxAge: 6, pins: [['default', 16_000]] }) // ceil(5.5)
  })
})

describe("django-pindb's worked examples (§6.6, S = 15, greedy)", () => {
  it('A: no cookie, a write at t=1 → [["default", 16]]', () => {
    const s = setup()
    const { out } = serve(s, {}, () => s.pindb.dbForWrite(Ham))
    expect(cookiePins(s, out)).toEqual({ maxAge: 15, pins: [['default', 16_000]] })
  })

  it('B: carried default until 16, a write at t=2 refreshes it → 17', () => {
    const s = setup()
    const cookie = `pindb=${tokenFor(s, [['default', 16_000]])}`
    s.clock.now = 2_000
    const { out, result } = serve(s, { cookie }, () => {
      const before = [s.pindb.isPinned('default'), s.pindb.isNewlyPinned('default')]
      s.pindb.dbForWrite(Ham)
      return before
    })
    expect(result).toEqual([true, false])
    expect(cookiePins(s, out)).toEqual({ maxAge: 15, pins: [['default', 17_000]] })
  })

  it('C: a withPrimary write keeps the carried expiry; a new egg pin gets 17', () => {
    const s = setup()
    const cookie = `pindb=${tokenFor(s, [['default', 16_000]])}`
    s.clock.now = 2_000
    const { out } = serve(s, { cookie }, () => {
      s.pindb.withPrimary('default', () => s.pindb.dbForWrite(Ham))
      s.pindb.dbForWrite(Egg)
    })
    expect(cookiePins(s, out)).toEqual({ maxAge: 15, pins: [['default', 16_000], ['egg', 17_000]] })
  })

  it('D: no cookie and no write → no Set-Cookie, no header', () => {
    const s = setup()
    expect(serve(s, {}, () => s.pindb.dbForRead(Ham)).out).toEqual([])
  })

  it('E: a bad cookie is treated as no pins, and reported', () => {
    const s = setup()
    const { out, result } = serve(s, { cookie: 'pindb=bad thing' }, () => s.pindb.getPinned())
    expect(result).toEqual(new Set())
    expect(out).toEqual([])
    expect(s.events).toEqual([{ source: 'cookie', reason: 'malformed', length: 9 }])
  })
})

describe('rejected tokens: ignored, reported, never thrown', () => {
  it('reports tampered, forged, expired, oversized and malformed tokens to the callback and the channel', () => {
    const s = setup()
    const seen: unknown[] = []
    const listener = (message: unknown) => seen.push(message)
    subscribe(TOKEN_CHANNEL, listener)
    try {
      const good = tokenFor(s, [['default', 16_000]])
      const [v, payload, mac] = good.split('.') as [string, string, string]
      const tampered = `${v}.${payload.slice(0, -2)}${payload.endsWith('A') ? 'B' : 'A'}${payload.slice(-1)}.${mac}`
      const forged = tokenFor(s, [['default', 16_000]], OTHER_SECRET)
      const cases: [string, TokenRejectedEvent['reason']][] = [
        [tampered, 'bad-signature'], [forged, 'bad-signature'], ['x'.repeat(5000), 'oversized'], ['1.abc', 'malformed'],
      ]
      for (const [token, reason] of cases) {
        s.events.length = 0
        const { out, result } = serve(s, { cookie: `a=b; pindb=${token}; c=d` }, () => s.pindb.getPinned())
        expect(result).toEqual(new Set())
        expect(out).toEqual([])
        expect(s.events).toEqual([{ source: 'cookie', reason, length: token.length }])
      }
      s.events.length = 0
      s.clock.now = 16_000
      expect(serve(s, { 'x-pindb-token': good }, () => s.pindb.getPinned()).result).toEqual(new Set())
      expect(s.events).toEqual([{ source: 'header', reason: 'expired', length: good.length }])
      expect(seen).toHaveLength(5)
      expect(seen[4]).toEqual(s.events[0])
    } finally {
      unsubscribe(TOKEN_CHANNEL, listener)
    }
  })

  it('a throwing onTokenRejected becomes a process warning, not an error', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const s = setup({ onTokenRejected: () => { throw new Error('logger down') } })
    expect(serve(s, { cookie: 'pindb=garbage' }, () => 'ok').result).toBe('ok')
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/logger down/)
  })

  it(`reads at most ${MAX_TOKENS_PER_REQUEST} tokens per request and reports the rest once, as oversized`, () => {
    const s = setup()
    const token = tokenFor(s, [['egg', 10_000]])
    // One token per Cookie line (a name repeated within one line counts once: the first wins).
    const cookie = Array.from({ length: MAX_TOKENS_PER_REQUEST + 50 }, () => `pindb=${token}`)
    expect(serve(s, { cookie }, () => s.pindb.getPinned()).result).toEqual(new Set(['egg']))
    expect(s.events).toEqual([{ source: 'cookie', reason: 'oversized', length: token.length }])
  })

  it('reports pins that cannot be encoded (more than 64 sets) and sends nothing', () => {
    const primaries = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [i === 0 ? 'default' : `s${i}`, {}]))
    const replicas = Object.fromEntries(Object.keys(primaries).map((k) => [k, []]))
    const s = setup({}, { primaries, replicas, delegates: [] })
    const { out } = serve(s, {}, () => markWrite(s.pindb))
    expect(out).toEqual([])
    expect(s.events).toHaveLength(1)
    expect(s.events[0]).toMatchObject({ source: 'response', reason: 'encode-failed' })
    expect(s.events[0]!.error).toBeInstanceOf(PinDbConfigError)
  })
})

describe('header mode', () => {
  it('restores pins from the header and answers with the token in the same header', () => {
    const s = setup({ cookie: false, header: 'X-Pin-Token' })
    const token = tokenFor(s, [['egg', 12_000]])
    const { out, result } = serve(s, { 'x-pin-token': token }, () => s.pindb.getPinned())
    expect(result).toEqual(new Set(['egg']))
    expect(out).toHaveLength(1)
    expect(out[0]![0]).toBe('x-pin-token')
    expect(s.carrier.codec.decode(out[0]![1])).toMatchObject({ ok: true, pins: [{ set: 'egg', expiresAt: 12_000 }] })
  })

  it('uses every valid token: cookie and header pins are merged, the later expiry wins', () => {
    const s = setup()
    const cookie = `pindb=${tokenFor(s, [['default', 9_000], ['egg', 5_000]])}`
    const header = tokenFor(s, [['egg', 12_000]])
    const { out } = serve(s, { cookie, 'x-pindb-token': `${header}, garbage` }, () => undefined)
    expect(cookiePins(s, out).pins).toEqual([['default', 9_000], ['egg', 12_000]])
    expect(s.events).toEqual([{ source: 'header', reason: 'malformed', length: 7 }])
  })

  it('header: false ignores the header and sends none', () => {
    const s = setup({ header: false })
    const { out, result } = serve(s, { 'x-pindb-token': tokenFor(s, [['egg', 12_000]]) }, () => {
      const pinned = s.pindb.getPinned()
      s.pindb.dbForWrite(Ham)
      return pinned
    })
    expect(result).toEqual(new Set())
    expect(out.map(([name]) => name)).toEqual(['set-cookie'])
  })
})

describe('pinOnUnsafeMethods, exempt, markWrite, disabled', () => {
  it('true pins every set on unsafe methods only, from the start of the request', () => {
    const s = setup({ pinOnUnsafeMethods: true })
    for (const method of ['POST', 'put', 'PATCH', 'DELETE']) {
      expect(serve(s, {}, () => s.pindb.getNewlyPinned(), method).result).toEqual(new Set(['default', 'egg', 'solo']))
    }
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect(serve(s, {}, () => s.pindb.getPinned(), method).out).toEqual([])
  })

  it('a list pins only those sets', () => {
    const s = setup({ pinOnUnsafeMethods: ['egg'] })
    const { out } = serve(s, {}, () => undefined, 'POST')
    expect(cookiePins(s, out).pins).toEqual([['egg', 16_000]])
  })

  it('exempt requests keep their carried pins but pin nothing on the method and send nothing', () => {
    const seen: PinRequestInfo[] = []
    const s = setup({ pinOnUnsafeMethods: true, exempt: (r) => (seen.push(r), r.path === '/login') })
    const cookie = `pindb=${tokenFor(s, [['egg', 12_000]])}`
    const { out, result } = s.carrier.run(request({ cookie, 'X-Custom': 'y' }, 'post', '/login?next=/'), (unit) => {
      const pinned = s.pindb.getPinned()
      s.pindb.dbForWrite(Ham)
      return { out: unit.responseHeaders(), result: { pinned, writesBack: unit.writesBack } }
    })
    expect(result).toEqual({ pinned: new Set(['egg']), writesBack: false })
    expect(out).toEqual([])
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/login', headers: { cookie, 'x-custom': 'y' } })
  })

  it('markWrite pins every set by default, or the given sets (replica aliases map to their set)', () => {
    const s = setup()
    expect(serve(s, {}, () => (markWrite(s.pindb), s.pindb.getPinned())).result).toEqual(new Set(['default', 'egg', 'solo']))
    expect(serve(s, {}, () => (markWrite(s.pindb, 'egg-1'), s.pindb.getPinned())).result).toEqual(new Set(['egg']))
    expect(serve(s, {}, () => (markWrite(s.pindb, ['solo']), s.pindb.getPinned())).result).toEqual(new Set(['solo']))
    expect(() => markWrite(s.pindb)).toThrow(/needs a pinning context/)
  })

  it('sends nothing while pindb is disabled', () => {
    let enabled = false
    const s = setup({ pinOnUnsafeMethods: true }, { enabled: () => enabled })
    expect(serve(s, {}, () => markWrite(s.pindb), 'POST').out).toEqual([])
    enabled = true
    expect(serve(s, {}, () => markWrite(s.pindb), 'POST').out).toHaveLength(2)
  })

  it('response headers come from the request’s unit of work, whatever context asks', async () => {
    const s = setup()
    const unit = s.carrier.run(request(), (u) => (s.pindb.pin('egg'), u))
    const fromOutside = await new Promise<[string, string][]>((resolve) => setTimeout(() => resolve(unit.responseHeaders()), 1))
    expect(cookiePins(s, fromOutside).pins).toEqual([['egg', 16_000]])
    expect(await s.pindb.run(() => unit.responseHeadersAsync())).toEqual(fromOutside)
  })
})
