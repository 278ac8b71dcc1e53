/**
 * `Secure` by default when the request is HTTPS, as each framework decides it — Express
 * `req.secure` and Koa `ctx.secure` (believing `X-Forwarded-Proto` only when the app trusts the
 * proxy), Fastify `request.protocol` (with `trustProxy`), the URL scheme for fetch handlers and
 * Hono — and an explicit `cookie.secure` overriding it. Real framework servers on 127.0.0.1; no
 * database (the handlers pin with `markWrite`).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { afterAll, describe, expect, it } from 'vitest'
import { pinDbExpress } from '../../src/express/index.js'
import { pinDbFastify } from '../../src/fastify/index.js'
import { pinDbHono, withPinDb } from '../../src/fetch/index.js'
import { markWrite, type PinCarrierOptions } from '../../src/http/index.js'
import { createPinDb } from '../../src/index.js'
import { pinDbKoa } from '../../src/koa/index.js'

const pindb = createPinDb<Record<string, unknown>>({ primaries: { default: {} }, replicas: { default: [{}] } })
const options: PinCarrierOptions = { secrets: ['secure-test-secret-0123456789-abcdefghijkl'] }
const FORWARDED = { 'x-forwarded-proto': 'https' }

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
})

function listen(server: Server): Promise<string> {
  closers.push(() => new Promise((done) => server.close(() => done())))
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))
}

/** The pin cookie a POST gets back, sent with `headers`. */
async function pinCookie(base: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${base}/write`, { method: 'POST', headers })
  expect(response.status).toBe(200)
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('pindb='))
  expect(cookie).toBeDefined()
  return cookie!
}

function expressApp(trustProxy: boolean, carrier: PinCarrierOptions = options): Promise<string> {
  const app = express()
  if (trustProxy) app.set('trust proxy', 'loopback')
  app.use(pinDbExpress(pindb, carrier))
  app.post('/write', (_req, res) => {
    markWrite(pindb)
    res.send('ok')
  })
  return listen(createServer(app))
}

async function fastifyApp(trustProxy: boolean): Promise<string> {
  const app = Fastify({ trustProxy })
  await app.register(pinDbFastify(pindb, options))
  app.post('/write', async () => {
    markWrite(pindb)
    return 'ok'
  })
  await app.ready()
  closers.push(() => app.close())
  return app.listen({ port: 0, host: '127.0.0.1' })
}

function koaApp(proxy: boolean): Promise<string> {
  const app = new Koa()
  app.proxy = proxy
  app.use(pinDbKoa(pindb, options))
  app.use((ctx) => {
    markWrite(pindb)
    ctx.body = 'ok'
  })
  return listen(createServer(app.callback()))
}

const SECURE = /; SameSite=Lax; Secure$/
const PLAIN = /; SameSite=Lax$/

describe('Express: req.secure', () => {
  it('with trust proxy, X-Forwarded-Proto: https from the proxy gives Secure; plain HTTP does not', async () => {
    const base = await expressApp(true)
    expect(await pinCookie(base, FORWARDED)).toMatch(SECURE)
    expect(await pinCookie(base)).toMatch(PLAIN)
  })

  it('without trust proxy, X-Forwarded-Proto is not believed', async () => {
    expect(await pinCookie(await expressApp(false), FORWARDED)).toMatch(PLAIN)
  })

  it('an explicit cookie.secure overrides it', async () => {
    expect(await pinCookie(await expressApp(true, { ...options, cookie: { secure: false } }), FORWARDED)).toMatch(PLAIN)
    expect(await pinCookie(await expressApp(false, { ...options, cookie: { secure: true } }))).toMatch(SECURE)
  })
})

describe('Fastify: request.protocol', () => {
  it('with trustProxy, X-Forwarded-Proto: https gives Secure; without, it is not believed', async () => {
    const trusting = await fastifyApp(true)
    expect(await pinCookie(trusting, FORWARDED)).toMatch(SECURE)
    expect(await pinCookie(trusting)).toMatch(PLAIN)
    expect(await pinCookie(await fastifyApp(false), FORWARDED)).toMatch(PLAIN)
  })
})

describe('Koa: ctx.secure', () => {
  it('with app.proxy, X-Forwarded-Proto: https gives Secure; without, it is not believed', async () => {
    const trusting = await koaApp(true)
    expect(await pinCookie(trusting, FORWARDED)).toMatch(SECURE)
    expect(await pinCookie(trusting)).toMatch(PLAIN)
    expect(await pinCookie(await koaApp(false), FORWARDED)).toMatch(PLAIN)
  })
})

describe('fetch handlers and Hono: the URL scheme', () => {
  const cookieOf = (response: Response): string => response.headers.getSetCookie().find((c) => c.startsWith('pindb='))!

  it('withPinDb: https: URLs give Secure, http: ones do not; cookie.secure overrides', async () => {
    const handler = withPinDb(pindb, () => {
      markWrite(pindb)
      return new Response('ok')
    }, options)
    expect(cookieOf(await handler(new Request('https://example.com/write', { method: 'POST' })))).toMatch(SECURE)
    expect(cookieOf(await handler(new Request('http://example.com/write', { method: 'POST' })))).toMatch(PLAIN)
    const never = withPinDb(pindb, () => {
      markWrite(pindb)
      return new Response('ok')
    }, { ...options, cookie: { secure: false } })
    expect(cookieOf(await never(new Request('https://example.com/write', { method: 'POST' })))).toMatch(PLAIN)
  })

  it('Hono: the request URL’s scheme decides', async () => {
    const app = new Hono()
    app.use(pinDbHono(pindb, options))
    app.post('/write', (c) => {
      markWrite(pindb)
      return c.text('ok')
    })
    expect(cookieOf(await app.request('https://example.com/write', { method: 'POST' }))).toMatch(SECURE)
    expect(cookieOf(await app.request('http://example.com/write', { method: 'POST' }))).toMatch(PLAIN)
  })
})
