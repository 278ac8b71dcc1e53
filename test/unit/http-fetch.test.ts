/**
 * `pindb/fetch` without a server: withPinDb over plain Request/Response (immutable headers,
 * streaming bodies, onError) and pinDbHono through `app.request()`.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { markWrite, pinDbHono, withPinDb } from '../../src/fetch/index.js'
import { createPinDb, PinDbConfigError, type PinDb } from '../../src/index.js'

type Cfg = Record<string, unknown>
const SECRET = 'fetch-test-secret-0123456789-abcdefghijklm'

function setup(): PinDb<Cfg> {
  return createPinDb<Cfg>({ primaries: { default: {}, egg: {} }, replicas: { default: [{}], egg: [{}] } })
}

function cookieToken(response: Response): string | undefined {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('pindb='))
  return cookie === undefined ? undefined : /^pindb=([^;]+)/.exec(cookie)![1]
}

describe('withPinDb', () => {
  it('adds the cookie and header to a mutable response, and restores pins from them', async () => {
    const pindb = setup()
    const handler = withPinDb(pindb, async (request: Request, ctx: { write: boolean }) => {
      if (ctx.write) markWrite(pindb, 'egg')
      return Response.json({ pinned: [...pindb.getPinned()], path: new URL(request.url).pathname })
    }, { secrets: [SECRET] })
    const first = await handler(new Request('http://x/a'), { write: true })
    const token = cookieToken(first)!
    expect(first.headers.get('x-pindb-token')).toBe(token)
    expect(await first.json()).toEqual({ pinned: ['egg'], path: '/a' })
    const second = await handler(new Request('http://x/b', { headers: { cookie: `pindb=${token}` } }), { write: false })
    expect(await second.json()).toEqual({ pinned: ['egg'], path: '/b' })
    const third = await handler(new Request('http://x/c', { headers: { 'x-pindb-token': token } }), { write: false })
    expect(await third.json()).toEqual({ pinned: ['egg'], path: '/c' })
    const fresh = await handler(new Request('http://x/d'), { write: false })
    expect(await fresh.json()).toEqual({ pinned: [], path: '/d' })
    expect(fresh.headers.getSetCookie()).toEqual([])
  })

  it('copies a response with immutable headers (Response.redirect), keeping status and other headers', async () => {
    const pindb = setup()
    const handler = withPinDb(pindb, () => (markWrite(pindb), Response.redirect('http://x/next', 303)), { secrets: [SECRET], header: false })
    const response = await handler(new Request('http://x/', { method: 'POST' }))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('http://x/next')
    expect(cookieToken(response)).toMatch(/^1\./)
  })

  it('keeps a streaming body streaming, and keeps cookies the handler set', async () => {
    const pindb = setup()
    let pull = 0
    const handler = withPinDb(pindb, () => {
      markWrite(pindb)
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pull++
          controller.enqueue(new TextEncoder().encode(`chunk${pull};`))
          if (pull === 3) controller.close()
        },
      })
      return new Response(body, { headers: { 'set-cookie': 'app=1; Path=/' } })
    }, { secrets: [SECRET] })
    const response = await handler(new Request('http://x/'))
    expect(response.headers.getSetCookie()).toHaveLength(2)
    expect(response.headers.getSetCookie()[0]).toBe('app=1; Path=/')
    expect(pull).toBeLessThan(3) // not buffered by the wrapper
    expect(await response.text()).toBe('chunk1;chunk2;chunk3;')
  })

  it('a thrown error propagates by default, or becomes onError’s response carrying the pins', async () => {
    const pindb = setup()
    const boom = new Error('boom')
    const failing = (_request: Request): Response => {
      markWrite(pindb, 'default')
      throw boom
    }
    await expect(withPinDb(pindb, failing, { secrets: [SECRET] })(new Request('http://x/'))).rejects.toBe(boom)
    const handled = withPinDb(pindb, failing, { secrets: [SECRET], onError: (err) => new Response(String(err), { status: 500 }) })
    const response = await handled(new Request('http://x/'))
    expect(response.status).toBe(500)
    expect(cookieToken(response)).toMatch(/^1\./)
    expect(() => withPinDb(pindb, failing, { secrets: [SECRET], onError: 1 as never })).toThrow(PinDbConfigError)
  })

  it('exempt sees the path without the query', async () => {
    const pindb = setup()
    const paths: string[] = []
    const handler = withPinDb(pindb, () => (markWrite(pindb), new Response('ok')), {
      secrets: [SECRET],
      exempt: (r) => (paths.push(r.path), r.path === '/login'),
    })
    expect(cookieToken(await handler(new Request('http://x/login?next=%2F', { method: 'POST' })))).toBeUndefined()
    expect(cookieToken(await handler(new Request('http://x/other?a=1', { method: 'POST' })))).toMatch(/^1\./)
    expect(paths).toEqual(['/login', '/other'])
  })
})

describe('pinDbHono', () => {
  function app(pindb: PinDb<Cfg>): Hono {
    const hono = new Hono()
    hono.use(pinDbHono(pindb, { secrets: [SECRET] }))
    hono.post('/write', async (c) => {
      const body = await c.req.json<{ set: string }>()
      await new Promise((resolve) => setTimeout(resolve, 1))
      markWrite(pindb, body.set)
      return c.json({ pinned: [...pindb.getPinned()] })
    })
    hono.get('/read', (c) => c.json({ pinned: [...pindb.getPinned()] }))
    hono.get('/redirect', (c) => (markWrite(pindb), c.redirect('/read')))
    hono.get('/proxy', () => (markWrite(pindb), Response.redirect('http://x/read', 302)))
    hono.get('/fail', () => {
      markWrite(pindb, 'egg')
      throw new Error('boom')
    })
    hono.onError((err, c) => c.text(`error: ${err.message}`, 500))
    return hono
  }

  it('keeps the context across body parsing and awaits, and round-trips the pins', async () => {
    const hono = app(setup())
    const write = await hono.request('/write', { method: 'POST', body: JSON.stringify({ set: 'egg' }), headers: { 'content-type': 'application/json' } })
    expect(await write.json()).toEqual({ pinned: ['egg'] })
    const token = cookieToken(write)!
    const read = await hono.request('/read', { headers: { cookie: `pindb=${token}` } })
    expect(await read.json()).toEqual({ pinned: ['egg'] })
    expect(cookieToken(read)).toBe(token)
    const anon = await hono.request('/read')
    expect(await anon.json()).toEqual({ pinned: [] })
    expect(anon.headers.has('set-cookie')).toBe(false)
  })

  it('redirects, immutable responses and errors rendered by onError carry the pins', async () => {
    const hono = app(setup())
    const redirect = await hono.request('/redirect')
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/read'])
    expect(cookieToken(redirect)).toMatch(/^1\./)
    const proxied = await hono.request('/proxy')
    expect([proxied.status, proxied.headers.get('location'), proxied.headers.getSetCookie().length]).toEqual([302, 'http://x/read', 1])
    const failed = await hono.request('/fail')
    expect([failed.status, await failed.text()]).toEqual([500, 'error: boom'])
    expect(cookieToken(failed)).toMatch(/^1\./)
  })
})
