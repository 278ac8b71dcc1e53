/**
 * Pins that travel, end to end: for Express, Fastify, Koa, Hono and the plain fetch wrapper, a real
 * HTTP server with a small notes API over the routed pg pool, against the test bed with the
 * delayed replica (`default-1`) 5 s behind and always chosen for reads. A write's pin,
 * carried by the cookie (or header) to the next request, makes that request read its own write
 * from the primary; without it — or once the window has passed, or with a tampered token — the
 * read goes to the lagging replica and is stale. A token bound to one session (`bind`) and replayed
 * with another session's cookie is ignored, and a write made after a streamed response's headers
 * went out is reported as a lost pin (`onPinLost`).
 */
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough, Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { serve } from '@hono/node-server'
import express from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { streamText } from 'hono/streaming'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pinDbExpress } from '../../src/express/index.js'
import { pinDbFastify } from '../../src/fastify/index.js'
import { pinDbHono, withPinDb } from '../../src/fetch/index.js'
import type { PinCarrierOptions } from '../../src/http/options.js'
import type { PinLostEvent } from '../../src/http/pin-lost.js'
import { pinDbKoa } from '../../src/koa/index.js'
import { createPinDb } from '../../src/index.js'
import type { TokenRejectedEvent } from '../../src/jobs.js'
import { createPgPool } from '../../src/pg/index.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const DELAYED = tb.pg.replicas[1].port
const TABLE = `http_e2e_${process.pid}_${Date.now()}`
const SECRET = 'e2e-test-secret-0123456789-abcdefghijklmnop'

const clock = { offset: 0 }
const events: TokenRejectedEvent[] = []
const pindb = createPinDb({
  primaries: { default: { ...tb.pg.primary, max: 20 } },
  replicas: { default: [{ port: tb.pg.replicas[0].port }, { port: DELAYED }] },
  replicaChoice: ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!),
  pinSeconds: 15,
  clock: () => Date.now() + clock.offset,
})
const pool = createPgPool(pindb, { pg })
const lost: PinLostEvent[] = []
const options: PinCarrierOptions = {
  secrets: [SECRET],
  onTokenRejected: (e) => events.push(e),
  onPinLost: (e) => lost.push(e),
  bind: (request) => request.cookies['sid'],
}

/**
 * `/notes/late` streams: it sends the start of its body, waits until the test has the response
 * headers and opens its gate, then writes — too late for the pin to travel — and ends the body.
 */
const gates = new Map<string, () => void>()
async function lateWrite(text: string, write: (chunk: string) => unknown, end: (chunk: string) => unknown): Promise<void> {
  await write('{"late":')
  await new Promise<void>((resolve) => gates.set(text, resolve))
  const id = await notes.create(text)
  await write(String(id))
  await end('}')
}

async function query(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  return (await pool.query(sql, params)) as unknown as pg.QueryResult
}

/** The notes API every framework serves. */
const notes = {
  async create(text: string): Promise<number> {
    return (await query(`INSERT INTO ${TABLE} (text) VALUES ($1) RETURNING id`, [text])).rows[0].id as number
  },
  async read(id: string): Promise<{ found: boolean; port: number }> {
    const row = (await query(`SELECT (SELECT count(*) FROM ${TABLE} WHERE id = $1)::int AS n, inet_server_port() AS port`, [Number(id)])).rows[0]
    return { found: row.n === 1, port: row.port as number }
  },
  async *stream(id: number): AsyncGenerator<string> {
    yield `{"id":${id},`
    await sleep(10)
    yield '"streamed":true}'
  },
}

type Started = { base: string; close: () => Promise<void> }

/** Express 4 does not catch a rejected async handler: pass the error on, as Express 4 apps do. */
type Handler = (req: express.Request, res: express.Response) => Promise<unknown>
const caught = (handler: Handler) => (req: express.Request, res: express.Response, next: express.NextFunction) => {
  handler(req, res).catch(next)
}

function expressServer(lib: typeof express = express): Promise<Started> {
  const app = lib()
  app.use(pinDbExpress(pindb, options))
  app.use(lib.json())
  app.post('/notes', caught(async (req, res) => res.status(201).json({ id: await notes.create(req.body.text) })))
  app.get('/notes/:id', caught(async (req, res) => res.json(await notes.read(String(req.params['id'])))))
  app.post('/notes/fail', caught(async (req) => {
    await notes.create(req.body.text)
    throw new Error('after the write')
  }))
  app.post('/notes/stream', caught(async (req, res) => {
    const id = await notes.create(req.body.text)
    for await (const chunk of notes.stream(id)) res.write(chunk)
    res.end()
  }))
  app.post('/notes/late', caught((req, res) => lateWrite(req.body.text, (c) => res.write(c), (c) => res.end(c))))
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () => resolve({
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((done) => server.close(() => done())),
    }))
  })
}

async function fastifyServer(): Promise<Started> {
  const app = Fastify()
  await app.register(pinDbFastify(pindb, options))
  app.post<{ Body: { text: string } }>('/notes', async (request, reply) => reply.code(201).send({ id: await notes.create(request.body.text) }))
  app.get<{ Params: { id: string } }>('/notes/:id', async (request) => notes.read(request.params.id))
  app.post<{ Body: { text: string } }>('/notes/fail', async (request) => {
    await notes.create(request.body.text)
    throw new Error('after the write')
  })
  app.post<{ Body: { text: string } }>('/notes/stream', async (request, reply) => {
    const id = await notes.create(request.body.text)
    return reply.type('application/json').send(Readable.from(notes.stream(id)))
  })
  app.post<{ Body: { text: string } }>('/notes/late', async (request, reply) => {
    const body = new PassThrough()
    void lateWrite(request.body.text, (c) => body.write(c), (c) => body.end(c))
    return reply.type('application/json').send(body)
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return { base, close: () => app.close() }
}

function serveFetch(fetch: (request: Request, env: unknown) => Promise<Response> | Response): Promise<Started> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({
      base: `http://127.0.0.1:${info.port}`,
      close: () => new Promise((done) => server.close(() => done())),
    }))
  })
}

function honoServer(): Promise<Started> {
  const app = new Hono()
  app.use(pinDbHono(pindb, options))
  app.post('/notes', async (c) => c.json({ id: await notes.create((await c.req.json<{ text: string }>()).text) }, 201))
  app.get('/notes/:id', async (c) => c.json(await notes.read(c.req.param('id'))))
  app.post('/notes/fail', async (c) => {
    await notes.create((await c.req.json<{ text: string }>()).text)
    throw new Error('after the write')
  })
  app.post('/notes/stream', async (c) => {
    const id = await notes.create((await c.req.json<{ text: string }>()).text)
    return streamText(c, async (stream) => {
      for await (const chunk of notes.stream(id)) await stream.write(chunk)
    })
  })
  app.post('/notes/late', async (c) => {
    const { text } = await c.req.json<{ text: string }>()
    return streamText(c, (stream) => lateWrite(text, (chunk) => stream.write(chunk), (chunk) => stream.write(chunk)))
  })
  app.onError((_err, c) => c.text('failed', 500))
  return serveFetch(app.fetch)
}

function fetchServer(): Promise<Started> {
  const handler = withPinDb(pindb, async (request: Request, _env: unknown) => {
    const { pathname } = new URL(request.url)
    if (request.method === 'GET') return Response.json(await notes.read(pathname.split('/')[2]!))
    const { text } = (await request.json()) as { text: string }
    if (pathname === '/notes/late') {
      const encoder = new TextEncoder()
      return new Response(new ReadableStream({
        start(controller) {
          void lateWrite(text, (c) => controller.enqueue(encoder.encode(c)), (c) => {
            controller.enqueue(encoder.encode(c))
            controller.close()
          })
        },
      }))
    }
    const id = await notes.create(text)
    if (pathname === '/notes/fail') throw new Error('after the write')
    if (pathname === '/notes/stream') return new Response(Readable.toWeb(Readable.from(notes.stream(id))) as ReadableStream)
    return Response.json({ id }, { status: 201 })
  }, { ...options, onError: () => new Response('failed', { status: 500 }) })
  return serveFetch(handler)
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += String(chunk)
  return body
}

function koaServer(): Promise<Started> {
  const app = new Koa()
  app.silent = true // the thrown error of /notes/fail is expected
  app.use(pinDbKoa(pindb, options))
  app.use(async (ctx) => {
    if (ctx.method === 'GET') {
      ctx.body = await notes.read(ctx.path.split('/')[2]!)
      return
    }
    const { text } = JSON.parse(await readBody(ctx.req)) as { text: string }
    if (ctx.path === '/notes/late') {
      const body = new PassThrough()
      void lateWrite(text, (c) => body.write(c), (c) => body.end(c))
      ctx.type = 'application/json'
      ctx.body = body
      return
    }
    const id = await notes.create(text)
    if (ctx.path === '/notes/fail') throw new Error('after the write')
    if (ctx.path === '/notes/stream') {
      ctx.type = 'application/json'
      ctx.body = Readable.from(notes.stream(id))
      return
    }
    ctx.status = 201
    ctx.body = { id }
  })
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () => resolve({
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((done) => server.close(() => done())),
    }))
  })
}

/** Polls (bounded) until `check` returns a value. */
async function eventually<T>(check: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = check()
    if (value !== undefined) return value
    await sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function onPrimary<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(tb.pg.primary)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  await setPgDelay(0)
  await onPrimary((c) => c.query(`CREATE TABLE ${TABLE} (id serial PRIMARY KEY, text text NOT NULL)`))
  await waitForPgReplicas()
  await setPgDelay(5000) // stale reads must stay stale on a loaded machine: nothing here waits for the replica
})

afterAll(async () => {
  try {
    await setPgDelay(0)
    await onPrimary((c) => c.query(`DROP TABLE IF EXISTS ${TABLE}`))
  } finally {
    await pool.end()
  }
})

describe.each([
  ['Express 5', () => expressServer(express)],
  ['Express 4', () => expressServer(express4)],
  ['Fastify', fastifyServer],
  ['Koa', koaServer],
  ['Hono', honoServer],
  ['fetch wrapper', fetchServer],
] as const)('%s', (name, start) => {
  let server: Started
  beforeAll(async () => {
    server = await start()
  })
  afterAll(() => server.close())

  const post = async (path: string, text: string, headers: Record<string, string> = {}) =>
    fetch(`${server.base}${path}`, { method: 'POST', body: JSON.stringify({ text }), headers: { 'content-type': 'application/json', ...headers } })
  const read = async (id: number, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.base}/notes/${id}`, { headers })
    expect(response.status).toBe(200)
    return { ...((await response.json()) as { found: boolean; port: number }), response }
  }
  const pinCookie = (response: Response) => {
    const cookies = response.headers.getSetCookie().filter((c) => c.startsWith('pindb='))
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatch(/^pindb=[\w.-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/)
    // At most the window; less when a carried pin is re-sent later (a loaded machine: no timing assumption).
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookies[0]!)![1])
    expect(maxAge).toBeGreaterThanOrEqual(1)
    expect(maxAge).toBeLessThanOrEqual(15)
    return cookies[0]!.split(';')[0]!
  }
  const create = async (text: string, headers: Record<string, string> = {}) => {
    const response = await post('/notes', text, headers)
    expect(response.status).toBe(201)
    return { id: ((await response.json()) as { id: number }).id, cookie: pinCookie(response), token: response.headers.get('x-pindb-token')! }
  }

  it('(a) reads its own write with the cookie while the replica lags; without it, stale', async () => {
    const { id, cookie } = await create('a')
    const pinned = await read(id, { cookie })
    expect([pinned.found, pinned.port]).toEqual([true, PRIMARY])
    expect(pinCookie(pinned.response)).toBe(cookie) // a carried pin is re-sent with its expiry unchanged
    const control = await read(id)
    expect([control.found, control.port]).toEqual([false, DELAYED])
    expect(control.response.headers.getSetCookie()).toEqual([])
  })

  it('(b) after the pin window, reads go back to the replica', async () => {
    const { id, cookie } = await create('b')
    events.length = 0
    clock.offset = 16_000
    try {
      const late = await read(id, { cookie })
      expect([late.found, late.port]).toEqual([false, DELAYED])
      expect(late.response.headers.getSetCookie()).toEqual([])
      expect(events).toEqual([{ source: 'cookie', reason: 'expired', length: cookie.length - 'pindb='.length }])
    } finally {
      clock.offset = 0
    }
  })

  it('(c) a tampered cookie is ignored: a stale read, still 200', async () => {
    const { id, cookie } = await create('c')
    events.length = 0
    const tampered = cookie.replace(/\.(.)/, (_m, c: string) => `.${c === 'W' ? 'X' : 'W'}`)
    const result = await read(id, { cookie: tampered })
    expect([result.found, result.port]).toEqual([false, DELAYED])
    expect(events.map((e) => [e.source, e.reason])).toEqual([['cookie', 'bad-signature']])
  })

  it('(d) interleaved clients never see each other’s pins', async () => {
    const a = await create('d-a')
    const b = await create('d-b')
    const requests = Array.from({ length: 24 }, (_, i) => {
      const who = i % 3 === 0 ? a : i % 3 === 1 ? b : undefined
      return read(who?.id ?? a.id, who === undefined ? {} : { cookie: who.cookie }).then((r) => ({ i, who, ...r }))
    })
    for (const r of await Promise.all(requests)) {
      if (r.who === undefined) {
        expect([r.found, r.port], `request ${r.i}`).toEqual([false, DELAYED])
        expect(r.response.headers.getSetCookie()).toEqual([])
      } else {
        expect([r.found, r.port], `request ${r.i}`).toEqual([true, PRIMARY])
        expect(pinCookie(r.response)).toBe(r.who.cookie)
      }
    }
  })

  it('(e) the header carries the pin for clients without cookies', async () => {
    const { id, token } = await create('e')
    expect(token).toMatch(/^1\./)
    const pinned = await read(id, { 'x-pindb-token': token })
    expect([pinned.found, pinned.port]).toEqual([true, PRIMARY])
    expect(pinned.response.headers.get('x-pindb-token')).toBe(token)
    const control = await read(id)
    expect([control.found, control.port]).toEqual([false, DELAYED])
  })

  it('(f) an error response after a write still carries the cookie', async () => {
    const response = await post('/notes/fail', `${name} f`)
    expect(response.status).toBe(500)
    const cookie = pinCookie(response)
    const id = await onPrimary(async (c) => (await c.query(`SELECT id FROM ${TABLE} WHERE text = $1`, [`${name} f`])).rows[0].id as number)
    const pinned = await read(id, { cookie })
    expect([pinned.found, pinned.port]).toEqual([true, PRIMARY])
  })

  it('(g) a streamed response carries the cookie', async () => {
    const response = await post('/notes/stream', 'g')
    expect(response.status).toBe(200)
    const cookie = pinCookie(response)
    const body = JSON.parse(await response.text()) as { id: number; streamed: boolean }
    expect(body.streamed).toBe(true)
    const pinned = await read(body.id, { cookie })
    expect([pinned.found, pinned.port]).toEqual([true, PRIMARY])
  })

  it('(h) regression: a write after a streamed response’s headers cannot travel, and is reported as a lost pin', async () => {
    // Before pindb reported it, a pin made while a response streamed vanished silently: the next
    // request read the lagging replica with no sign of why.
    const text = `${name} h`
    lost.length = 0
    const response = await post('/notes/late', text)
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie()).toEqual([]) // nothing was pinned when the headers went out
    const open = await eventually(() => gates.get(text), 'the route to wait at its gate')
    gates.delete(text)
    open()
    const body = JSON.parse(await response.text()) as { late: number }
    const event = await eventually(() => lost.find((e) => e.path === '/notes/late'), 'the pin-lost event')
    expect(event).toEqual({ sets: ['default'], reason: 'headers-sent', method: 'POST', path: '/notes/late' })
    const next = await read(body.late)
    expect([next.found, next.port]).toEqual([false, DELAYED]) // what the lost pin would have prevented
  })

  it('(i) a token bound to one session and replayed with another session is ignored (replica), and reported', async () => {
    const { id, cookie, token } = await create('i', { cookie: 'sid=alice' })
    const own = await read(id, { cookie: `sid=alice; ${cookie}` })
    expect([own.found, own.port]).toEqual([true, PRIMARY])
    events.length = 0
    const replayed = await read(id, { cookie: `sid=mallory; ${cookie}` })
    expect([replayed.found, replayed.port]).toEqual([false, DELAYED])
    const headerReplay = await read(id, { cookie: 'sid=mallory', 'x-pindb-token': token })
    expect([headerReplay.found, headerReplay.port]).toEqual([false, DELAYED])
    const noSession = await read(id, { cookie })
    expect([noSession.found, noSession.port]).toEqual([false, DELAYED])
    expect(events.map((e) => [e.source, e.reason])).toEqual([
      ['cookie', 'binding-mismatch'],
      ['header', 'binding-mismatch'],
      ['cookie', 'binding-mismatch'],
    ])
  })
})
