/**
 * `pindb/next` end to end: the fixture app in `test/fixtures/next-app` (App Router, importing
 * pindb from `src/`) is built once with `next build`, served with `next start` on an ephemeral
 * loopback port, and driven over real HTTP — as a browser does, with and without JavaScript —
 * against the test bed, whose replica 1 (the one the app always reads from) lags 10 s. A write's
 * pin, carried by the cookie, makes the next request (or the render in the same response) read
 * from the primary; without it the read is stale.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { createPinDbNext, type NextCookieAttributes, type NextRequestApis } from '../../src/next/index.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const DELAYED = tb.pg.replicas[1].port
const APP = fileURLToPath(new URL('../fixtures/next-app/', import.meta.url))
const NEXT_BIN = createRequire(import.meta.url).resolve('next/dist/bin/next')
const TABLE = `next_e2e_${process.pid}_${Date.now()}`
/** Bounds: the build is CPU-bound and slow on a busy 2-core machine; nothing waits on a timer. */
const BUILD_TIMEOUT_MS = 540_000
const START_TIMEOUT_MS = 60_000

/** This process's build directory (several Node lines run this file at once). */
const DIST_DIR = `.next-${process.pid}`

let server: ChildProcess | undefined
let base = ''

/** Runs `next <args>` in the fixture; resolves with its output once it exits with 0 (or, with `ready`, once it prints the URL). */
function runNext(args: string[], timeoutMs: number, ready?: RegExp): Promise<{ child: ChildProcess; output: string; url?: string }> {
  const child = spawn(process.execPath, [NEXT_BIN, ...args], {
    cwd: APP,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', PINDB_PG_PORT: String(PRIMARY), NEXT_FIXTURE_TABLE: TABLE, NODE_ENV: 'production', PINDB_NEXT_DIST_DIR: DIST_DIR },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`next ${args.join(' ')} did not ${ready ? 'start' : 'finish'} within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const url = ready === undefined ? undefined : ready.exec(output)?.[1]
      if (url !== undefined) {
        clearTimeout(timer)
        resolve({ child, output, url })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0 && ready === undefined) resolve({ child, output })
      else reject(new Error(`next ${args.join(' ')} exited with ${code ?? signal}:\n${output}`))
    })
  })
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
  await setPgDelay(10_000)
  rmSync(`${APP}${DIST_DIR}`, { recursive: true, force: true })
  await runNext(['build'], BUILD_TIMEOUT_MS)
  const started = await runNext(['start', '--port', '0', '--hostname', '127.0.0.1'], START_TIMEOUT_MS, /(http:\/\/127\.0\.0\.1:\d+)/)
  server = started.child
  base = started.url!
  // Load every route once, so that no test's reads wait for a cold route to load while the
  // replica catches up (these writes of "warm-up" notes are not asserted on).
  const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"warm-up"}', redirect: 'manual' } as const
  for (const [path, init] of [['/notes', {}], ['/api/notes/0', {}], ['/api/notes', json], ['/api/notes/redirect', json], ['/api/notes/moved', json]] as const) {
    await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(START_TIMEOUT_MS) })
  }
}, BUILD_TIMEOUT_MS + 3 * START_TIMEOUT_MS)

afterAll(async () => {
  try {
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve))
      server.kill('SIGTERM')
      const timer = setTimeout(() => server!.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  } finally {
    rmSync(`${APP}${DIST_DIR}`, { recursive: true, force: true })
    await setPgDelay(0)
    await onPrimary((c) => c.query(`DROP TABLE IF EXISTS ${TABLE}`))
  }
})

/** The pin cookie a response sets, as a `Cookie` request header value (`pindb=…`). */
function pinCookie(response: Response): string {
  const cookies = response.headers.getSetCookie().filter((c) => c.startsWith('pindb='))
  expect(cookies).toHaveLength(1)
  expect(cookies[0]).toMatch(/; Max-Age=1[45](;|$)/)
  expect(cookies[0]).toMatch(/; HttpOnly(;|$)/)
  expect(cookies[0]).toMatch(/; SameSite=Lax(;|$)/i)
  return cookies[0]!.split(';')[0]!
}

type Note = { found: boolean; latest: number; port: number }

/** `GET /api/notes/:id` (route handler). */
async function readApi(id: number, headers: Record<string, string> = {}): Promise<Note> {
  const response = await fetch(`${base}/api/notes/${id}`, { headers })
  expect(response.status).toBe(200)
  return (await response.json()) as Note
}

/** `GET /notes?id=` (server component): what the page shows, from its markup. */
async function readPage(path: string, headers: Record<string, string> = {}): Promise<Note & { html: string }> {
  const response = await fetch(`${base}${path}`, { headers })
  expect(response.status).toBe(200)
  const html = await response.text()
  const p = /<p id="note" data-found="(true|false)" data-latest="(\d+)" data-port="(\d+)"/.exec(html)
  expect(p, html.slice(0, 500)).not.toBeNull()
  return { found: p![1] === 'true', latest: Number(p![2]), port: Number(p![3]), html }
}

async function createApi(text: string): Promise<{ id: number; cookie: string; token: string }> {
  const response = await fetch(`${base}/api/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })
  expect(response.status).toBe(201)
  const { id } = (await response.json()) as { id: number }
  return { id, cookie: pinCookie(response), token: response.headers.get('x-pindb-token')! }
}

describe('route handlers (withPinDb)', () => {
  it('a write pins the next request through the cookie; without it, the read is stale', async () => {
    const { id, cookie } = await createApi('route')
    expect(await readApi(id, { cookie })).toMatchObject({ found: true, port: PRIMARY })
    expect(await readApi(id)).toMatchObject({ found: false, port: DELAYED })
  })

  it('the x-pindb-token header carries the pin for clients without cookies', async () => {
    const { id, token } = await createApi('route header')
    expect(token).toMatch(/^1\./)
    expect(await readApi(id, { 'x-pindb-token': token })).toMatchObject({ found: true, port: PRIMARY })
  })

  it('a tampered cookie is ignored: a stale read, still 200', async () => {
    const { id, cookie } = await createApi('route tampered')
    const tampered = cookie.replace(/\.(.)/, (_m, c: string) => `.${c === 'W' ? 'X' : 'W'}`)
    expect(tampered).not.toBe(cookie)
    expect(await readApi(id, { cookie: tampered })).toMatchObject({ found: false, port: DELAYED })
  })

  it('a handler that writes and then calls redirect() (a thrown error) still sets the pin cookie', async () => {
    const response = await fetch(`${base}/api/notes/redirect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'route redirect' }),
      redirect: 'manual',
    })
    expect(response.status).toBe(307)
    const location = response.headers.get('location')!
    expect(location).toMatch(/^\/notes\?id=\d+$/)
    const cookie = pinCookie(response)
    expect(await readPage(location, { cookie })).toMatchObject({ found: true, port: PRIMARY })
    expect(await readPage(location)).toMatchObject({ found: false, port: DELAYED })
  })

  it('a Response.redirect() (immutable headers) is copied with the pin cookie added', async () => {
    const response = await fetch(`${base}/api/notes/moved`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'route moved' }),
      redirect: 'manual',
    })
    expect(response.status).toBe(303)
    const location = new URL(response.headers.get('location')!).pathname + new URL(response.headers.get('location')!).search
    expect(location).toMatch(/^\/notes\?id=\d+$/)
    expect(await readPage(location, { cookie: pinCookie(response) })).toMatchObject({ found: true, port: PRIMARY })
  })
})

describe('server actions (pinDbAction) and server components (pinDbPage)', () => {
  it('a <form action> POST without JavaScript: the redirect carries the pin, and the next render reads the primary', async () => {
    // What a browser without JavaScript does: load the page, submit its form.
    const page = await readPage('/notes')
    const field = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(page.html)?.[1]
    expect(field).toBeDefined()
    const form = new FormData()
    form.set(field!, '')
    form.set('text', 'from the form')
    const response = await fetch(`${base}/notes`, { method: 'POST', body: form, headers: { origin: base }, redirect: 'manual' })
    expect(response.status).toBe(303)
    const location = response.headers.get('location')!
    expect(location).toMatch(/^\/notes\?id=\d+$/)
    const cookie = pinCookie(response)
    const id = Number(location.split('=')[1])
    expect(await readPage(location, { cookie })).toMatchObject({ found: true, latest: id, port: PRIMARY })
    const stale = await readPage(location)
    expect(stale).toMatchObject({ found: false, port: DELAYED })
    expect(stale.latest).toBeLessThan(id)
  })

  it('an action called from the client (Next-Action): the render in the same response and the next one read the primary', async () => {
    // The action id, as the client bundle knows it: from the build's server-reference manifest.
    const manifest = JSON.parse(readFileSync(`${APP}${DIST_DIR}/server/server-reference-manifest.json`, 'utf8')) as {
      node: Record<string, { exportedName?: string }>
    }
    const actionId = Object.entries(manifest.node).find(([, entry]) => entry.exportedName === 'addNoteAndRender')?.[0]
    expect(actionId).toBeDefined()
    const response = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'next-action': actionId!, origin: base, accept: 'text/x-component', 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(['from the client']),
    })
    expect(response.status).toBe(200)
    const cookie = pinCookie(response)
    const payload = await response.text()
    // The action's result (row 1 of the RSC payload) and the page re-rendered after
    // `revalidatePath()`, which saw the cookie the action set.
    const id = Number(/^1:(\d+)$/m.exec(payload)?.[1])
    expect(id).toBeGreaterThan(0)
    const rendered = /"id":"note","data-found":"(?:true|false)","data-latest":"(\d+)","data-port":"(\d+)"/.exec(payload)
    expect(rendered, payload.slice(0, 500)).not.toBeNull()
    expect([Number(rendered![1]), Number(rendered![2])]).toEqual([id, PRIMARY])
    expect(await readPage(`/notes?id=${id}`, { cookie })).toMatchObject({ found: true, latest: id, port: PRIMARY })
    expect(await readPage(`/notes?id=${id}`)).toMatchObject({ found: false, port: DELAYED })
  })

  it('a render without a pin cookie reads the replica and sets no cookie', async () => {
    const response = await fetch(`${base}/notes`)
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(/data-port="(\d+)"/.exec(await response.text())?.[1]).toBe(String(DELAYED))
  })
})

describe('createPinDbNext with injected request APIs (no server)', () => {
  const pindb = createPinDb({ primaries: { default: {} }, replicas: { default: [{}] } })
  const secrets = ['next-unit-secret-0123456789-abcdefghijklmno']

  /** `next/headers` look-alike: a cookie jar that records what is set, and `set` refusing in a "render". */
  function fakeNext(cookies: Record<string, string>, { render = false } = {}) {
    const set: [string, string, NextCookieAttributes][] = []
    const apis: NextRequestApis = {
      cookies: async () => ({
        getAll: (name) => (name in cookies ? [{ name, value: cookies[name]! }] : []),
        set: (name, value, attributes) => {
          if (render) throw new Error('Cookies can only be modified in a Server Action or Route Handler.')
          set.push([name, value, attributes])
        },
      }),
      headers: async () => new Headers(),
    }
    return { apis, set }
  }

  it('rejects a `next` option that is not next/headers', () => {
    expect(() => createPinDbNext(pindb, { secrets, next: {} as NextRequestApis })).toThrow(/`next`: must be Next's `next\/headers` module/)
  })

  it('an action sets the pin cookie through cookies().set, with the carrier’s attributes — also when it throws (redirect)', async () => {
    const { apis, set } = fakeNext({})
    const { pinDbAction } = createPinDbNext(pindb, { secrets, next: apis, cookie: { secure: true, sameSite: 'Strict', path: '/app' } })
    const redirect = new Error('NEXT_REDIRECT')
    await expect(pinDbAction(async () => {
      pindb.pin('default')
      throw redirect
    })()).rejects.toBe(redirect)
    expect(set).toHaveLength(1)
    expect(set[0]![0]).toBe('pindb')
    expect(set[0]![2]).toEqual({ maxAge: 15, path: '/app', httpOnly: true, sameSite: 'strict', secure: true })
    // The cookie it set carries the pin into the next unit of work.
    const next = fakeNext({ pindb: set[0]![1] })
    const { runWithRequestPins } = createPinDbNext(pindb, { secrets, next: next.apis })
    expect(await runWithRequestPins(() => pindb.isPinned('default'))).toBe(true)
    expect(await createPinDbNext(pindb, { secrets, next: fakeNext({}).apis }).runWithRequestPins(() => pindb.isPinned('default'))).toBe(false)
  })

  it('an action that pins nothing sets no cookie; runWithRequestPins inside an action uses the action’s unit of work', async () => {
    const { apis, set } = fakeNext({})
    const { pinDbAction, runWithRequestPins } = createPinDbNext(pindb, { secrets, next: apis })
    expect(await pinDbAction(async () => 'read only')()).toBe('read only')
    expect(set).toEqual([])
    const seen = await pinDbAction(async () => {
      pindb.pin('default')
      return runWithRequestPins(() => pindb.isNewlyPinned('default'))
    })()
    expect(seen).toBe(true)
    expect(set).toHaveLength(1)
  })
})
