/**
 * The Express, Fastify and Koa middleware on real HTTP servers, without a database: the unit of work
 * survives body parsing and awaits; the pin cookie goes out on JSON, streamed, piped, redirected
 * and error responses, alongside the app's own cookies; causal reads hold the response until the
 * replication position is fetched, then replay it intact.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { markWrite, pinDbExpress } from '../../src/express/index.js'
import { pinDbFastify } from '../../src/fastify/index.js'
import { createPinDb, type PinDb } from '../../src/index.js'
import { createPinCodec } from '../../src/jobs.js'
import { pinDbKoa } from '../../src/koa/index.js'
import { seamOf } from '../../src/adapter/seam.js'

type Cfg = Record<string, unknown>
const SECRET = 'adapters-test-secret-0123456789-abcdefghij'
const POSITION = '0/3000148'

function makePinDb(causal = false): PinDb<Cfg> {
  const pindb = createPinDb<Cfg>({ primaries: { default: {}, egg: {} }, replicas: { default: [{}], egg: [{}] }, causal })
  seamOf(pindb).registerPositionSource('default', async () => (await sleep(30), POSITION))
  return pindb
}

/** Pins `default` as a committed write would (with a pending position under causal). */
function write(pindb: PinDb<Cfg>): void {
  markWrite(pindb, 'default')
  seamOf(pindb).noteWrite('default')
}

/** A JSON POST whose body arrives in two parts, 20 ms apart, after the headers (parsed in the socket's async context). */
function slowJsonPost(url: string, json: string): Promise<Response> {
  const half = Math.floor(json.length / 2)
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      await sleep(20)
      controller.enqueue(new TextEncoder().encode(json.slice(0, half)))
      await sleep(20)
      controller.enqueue(new TextEncoder().encode(json.slice(half)))
      controller.close()
    },
  })
  return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit)
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))
}

function pinCookies(response: Response): string[] {
  return response.headers.getSetCookie().filter((c) => c.startsWith('pindb='))
}

function decodeCookie(pindb: PinDb<Cfg>, response: Response) {
  const [cookie] = pinCookies(response)
  return cookie === undefined ? undefined : createPinCodec(pindb, [SECRET]).decode(/^pindb=([^;]+)/.exec(cookie)![1]!)
}

function expressApp(pindb: PinDb<Cfg>): express.Express {
  const app = express()
  app.use(pinDbExpress(pindb, { secrets: [SECRET], exempt: (r) => { if (r.path === '/exempt-throws') throw new Error('exempt failed'); return false } }))
  app.use(express.json())
  app.post('/json', async (req, res) => {
    await sleep(2)
    write(pindb)
    res.json({ inContext: pindb.inContext, body: req.body as unknown, pinned: [...pindb.getPinned()] })
  })
  app.get('/write-head', (_req, res) => (write(pindb), res.writeHead(200, { 'Set-Cookie': 'app=1', 'content-type': 'text/plain' }).end('ok')))
  app.get('/cookie', (_req, res) => (write(pindb), res.cookie('app', '2').send('ok')))
  app.get('/stream', async (_req, res) => {
    write(pindb)
    res.write('a;')
    await sleep(5)
    res.write('b;')
    res.end('c;')
  })
  app.get('/pipe', (_req, res) => (write(pindb), Readable.from(['x;', 'y;', 'z;']).pipe(res)))
  app.get('/flush', async (_req, res) => (write(pindb), res.flushHeaders(), await sleep(5), res.end('flushed')))
  app.get('/redirect', (_req, res) => (write(pindb), res.redirect(303, '/next')))
  app.get('/throw', () => {
    write(pindb)
    throw new Error('sync boom')
  })
  app.get('/reject', async () => {
    write(pindb)
    await sleep(2)
    throw new Error('async boom')
  })
  app.get('/exempt-throws', (_req, res) => res.send('unreachable'))
  return app
}

describe.each([false, true])('Express (causal: %s)', (causal) => {
  const pindb = makePinDb(causal)
  let server: Server
  let base: string
  beforeAll(async () => {
    server = createServer(expressApp(pindb))
    base = await listen(server)
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const expectPin = (response: Response) => {
    expect(pinCookies(response)).toHaveLength(1)
    expect(pinCookies(response)[0]).toMatch(/; Max-Age=15; Path=\/; HttpOnly; SameSite=Lax$/)
    const decoded = decodeCookie(pindb, response)
    expect(decoded).toMatchObject({ ok: true, pins: [causal ? { set: 'default', position: POSITION } : { set: 'default' }] })
    if (!causal) expect(decoded!.pins[0]).not.toHaveProperty('position')
  }

  it('keeps the unit of work across express.json() and awaits', async () => {
    const response = await fetch(`${base}/json`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } })
    expect(await response.json()).toEqual({ inContext: true, body: { n: 1 }, pinned: ['default'] })
    expectPin(response)
    const slow = await slowJsonPost(`${base}/json`, '{"n":3,"pad":"0123456789"}')
    expect(await slow.json()).toEqual({ inContext: true, body: { n: 3, pad: '0123456789' }, pinned: ['default'] })
    expectPin(slow)
  })

  it('adds the pin cookie to Set-Cookie given to writeHead, and to res.cookie()', async () => {
    const head = await fetch(`${base}/write-head`)
    expect(head.headers.getSetCookie()).toContain('app=1')
    expectPin(head)
    const cookie = await fetch(`${base}/cookie`)
    expect(cookie.headers.getSetCookie()[0]).toMatch(/^app=2; Path=\//)
    expectPin(cookie)
  })

  it('streamed, piped, flushed and redirected responses carry it, bodies intact', async () => {
    for (const [path, body] of [['/stream', 'a;b;c;'], ['/pipe', 'x;y;z;'], ['/flush', 'flushed']] as const) {
      const response = await fetch(`${base}${path}`)
      expectPin(response)
      expect(await response.text()).toBe(body)
    }
    const redirect = await fetch(`${base}/redirect`, { redirect: 'manual' })
    expect([redirect.status, redirect.headers.get('location')]).toEqual([303, '/next'])
    expectPin(redirect)
  })

  it('error responses rendered by Express carry it (sync throw, async rejection)', async () => {
    for (const path of ['/throw', '/reject']) {
      const response = await fetch(`${base}${path}`)
      expect(response.status).toBe(500)
      expectPin(response)
    }
  })

  it('an exempt() that throws goes to the error handler; no pin, no crash', async () => {
    const response = await fetch(`${base}/exempt-throws`)
    expect(response.status).toBe(500)
    expect(pinCookies(response)).toEqual([])
  })
})

describe('Express middleware on a bare node:http server', () => {
  it('works as a Connect-style middleware without Express', async () => {
    const pindb = makePinDb()
    const middleware = pinDbExpress(pindb, { secrets: [SECRET], cookie: false })
    const server = createServer((req, res) => middleware(req, res, () => (write(pindb), res.end(JSON.stringify([...pindb.getPinned()])))))
    const base = await listen(server)
    try {
      const response = await fetch(base)
      expect(await response.json()).toEqual(['default'])
      expect(response.headers.get('x-pindb-token')).toMatch(/^1\./)
      expect(response.headers.getSetCookie()).toEqual([])
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe.each([false, true])('Fastify (causal: %s)', (causal) => {
  const pindb = makePinDb(causal)
  let app: FastifyInstance
  let base: string
  beforeAll(async () => {
    app = Fastify()
    await app.register(pinDbFastify(pindb, { secrets: [SECRET] }))
    app.post('/json', async (request) => {
      await sleep(2)
      write(pindb)
      await Promise.resolve()
      return { inContext: pindb.inContext, body: request.body, pinned: [...pindb.getPinned()] }
    })
    app.get('/cookie', async (_request, reply) => (write(pindb), reply.header('set-cookie', 'app=1').send('ok')))
    app.get('/stream', async (_request, reply) => (write(pindb), reply.type('text/plain').send(Readable.from(['x;', 'y;']))))
    app.get('/throw', async () => {
      write(pindb)
      throw new Error('boom')
    })
    await app.register(async (child) => {
      child.addHook('onSend', async (request, _reply, payload) => {
        if (request.url === '/late-error' && payload !== 'recovered') throw new Error('late')
        return payload
      })
      child.setErrorHandler(async (_err, _request, reply) => reply.code(500).send('recovered'))
      child.get('/late-error', async () => (write(pindb), 'first'))
    })
    base = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(() => app.close())

  const expectPin = (response: Response) => {
    expect(pinCookies(response)).toHaveLength(1)
    expect(decodeCookie(pindb, response)).toMatchObject({ ok: true, pins: [causal ? { set: 'default', position: POSITION } : { set: 'default' }] })
  }

  it('handlers inherit the unit of work after body parsing and across awaits', async () => {
    const response = await fetch(`${base}/json`, { method: 'POST', body: '{"n":2}', headers: { 'content-type': 'application/json' } })
    expect(await response.json()).toEqual({ inContext: true, body: { n: 2 }, pinned: ['default'] })
    expectPin(response)
    const slow = await slowJsonPost(`${base}/json`, '{"n":4,"pad":"0123456789"}')
    expect(await slow.json()).toEqual({ inContext: true, body: { n: 4, pad: '0123456789' }, pinned: ['default'] })
    expectPin(slow)
  })

  it('keeps the app’s cookies; streams and errors carry the pin', async () => {
    const cookie = await fetch(`${base}/cookie`)
    expect(cookie.headers.getSetCookie()[0]).toBe('app=1')
    expectPin(cookie)
    const stream = await fetch(`${base}/stream`)
    expect(await stream.text()).toBe('x;y;')
    expectPin(stream)
    const failed = await fetch(`${base}/throw`)
    expect(failed.status).toBe(500)
    expectPin(failed)
  })

  it('sends one pin cookie when onSend runs again after a later hook failed', async () => {
    const response = await fetch(`${base}/late-error`)
    expect([response.status, await response.text()]).toEqual([500, 'recovered'])
    expectPin(response)
  })

  it('unknown routes (404) pass through without a cookie', async () => {
    const response = await fetch(`${base}/nope`)
    expect(response.status).toBe(404)
    expect(pinCookies(response)).toEqual([])
  })
})

function koaApp(pindb: PinDb<Cfg>): Koa {
  const app = new Koa()
  app.silent = true // the errors of /throw are expected
  app.use(pinDbKoa(pindb, { secrets: [SECRET], exempt: (r) => { if (r.path === '/exempt-throws') throw new Error('exempt failed'); return false } }))
  app.use(async (ctx, next) => {
    await sleep(2)
    switch (ctx.path) {
      case '/json': {
        let body = ''
        for await (const chunk of ctx.req) body += String(chunk)
        write(pindb)
        ctx.body = { inContext: pindb.inContext, body: JSON.parse(body) as unknown, pinned: [...pindb.getPinned()] }
        return
      }
      case '/cookie':
        write(pindb)
        ctx.cookies.set('app', '2')
        ctx.body = 'ok'
        return
      case '/stream':
        write(pindb)
        ctx.type = 'text/plain'
        ctx.body = Readable.from(['x;', 'y;', 'z;'])
        return
      case '/redirect':
        write(pindb)
        ctx.status = 303
        ctx.redirect('/next')
        return
      case '/throw':
        write(pindb)
        throw new Error('boom')
      case '/unwritten':
        ctx.body = { inContext: pindb.inContext, pinned: [...pindb.getPinned()] }
        return
      default:
        return next()
    }
  })
  return app
}

describe.each([false, true])('Koa (causal: %s)', (causal) => {
  const pindb = makePinDb(causal)
  let server: Server
  let base: string
  beforeAll(async () => {
    server = createServer(koaApp(pindb).callback())
    base = await listen(server)
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const expectPin = (response: Response) => {
    expect(pinCookies(response)).toHaveLength(1)
    expect(pinCookies(response)[0]).toMatch(/; Max-Age=15; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(decodeCookie(pindb, response)).toMatchObject({ ok: true, pins: [causal ? { set: 'default', position: POSITION } : { set: 'default' }] })
  }

  it('keeps the unit of work across a body read after the headers, and awaits', async () => {
    const slow = await slowJsonPost(`${base}/json`, '{"n":3,"pad":"0123456789"}')
    expect(await slow.json()).toEqual({ inContext: true, body: { n: 3, pad: '0123456789' }, pinned: ['default'] })
    expectPin(slow)
  })

  it('keeps the app’s cookies; streamed and redirected responses carry the pin, bodies intact', async () => {
    const cookie = await fetch(`${base}/cookie`)
    expect(cookie.headers.getSetCookie()[0]).toMatch(/^app=2; path=\//)
    expectPin(cookie)
    const stream = await fetch(`${base}/stream`)
    expectPin(stream)
    expect(await stream.text()).toBe('x;y;z;')
    const redirect = await fetch(`${base}/redirect`, { redirect: 'manual' })
    expect([redirect.status, redirect.headers.get('location')]).toEqual([303, '/next'])
    expectPin(redirect)
  })

  it('error responses Koa renders itself (which drop earlier headers) carry the pin', async () => {
    const response = await fetch(`${base}/throw`)
    expect(response.status).toBe(500)
    expectPin(response)
  })

  it('no write, no cookie; unknown routes (404) pass through; an exempt() that throws is a 500, no pin', async () => {
    const unwritten = await fetch(`${base}/unwritten`)
    expect(await unwritten.json()).toEqual({ inContext: true, pinned: [] })
    expect(pinCookies(unwritten)).toEqual([])
    const missing = await fetch(`${base}/missing`)
    expect(missing.status).toBe(404)
    expect(pinCookies(missing)).toEqual([])
    const exempt = await fetch(`${base}/exempt-throws`)
    expect(exempt.status).toBe(500)
    expect(pinCookies(exempt)).toEqual([])
  })
})
