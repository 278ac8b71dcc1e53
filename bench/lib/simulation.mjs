/**
 * The staleness simulation shared by bench/staleness.bench.mjs and scripts/demo.mjs: the notes
 * app of ./notes-app.mjs in one pinning mode, and simulated users — real HTTP clients, each with
 * its own cookie jar — who write notes and read them back.
 *
 * One user's loop:
 *   1. POST /notes (the app also reads the user's note count in that same request);
 *   2. 1–3 read-backs of that note in SEPARATE requests, 0–300 ms apart (GET /notes/:id or GET /notes?user=);
 *   3. browsing for a while: a read every 400–1200 ms, of the user's list or of an older note of theirs.
 *      The browse phase lasts 30–100 % of `browseMs`, so reads land at every age of the last write.
 * A read is STALE when it does not show what the user knows exists: the count misses the new note,
 * the note is not found, or the list does not start with the user's latest note.
 */
import { setMaxListeners } from 'node:events'
import { startNotesApp } from './notes-app.mjs'
import { serverName } from './testbed.mjs'

/**
 * The pinning modes.
 * - `off`: no pinning — a plain read/write splitter (Prisma's replica extension, Drizzle's
 *   `withReplicas`): no middleware, no unit of work, so every read goes to a replica, even right
 *   after a write in the same request.
 * - `request`: pinned for the rest of the request only (Laravel `sticky`): a fresh unit of work per
 *   request, no cookie.
 * - `window-2s` / `window-15s`: the pin travels in a signed cookie for 2 s (Rails' default) /
 *   15 s (django-pindb's and pindb's default); every read of a pinned user goes to the primary.
 * - `causal`: the cookie carries the primary's WAL position too; a pinned read goes to a replica
 *   the monitor (every 100 ms) saw replay it, else to the primary. Default `pinSeconds` (15).
 * - `causal-60s`: the same with `pinSeconds: 60` (longer than the largest lag measured).
 */
export const MODES = Object.freeze({
  off: { name: 'off', label: 'off — read/write splitter', pin: 'none' },
  request: { name: 'request', label: 'request only (Laravel sticky)', pin: 'request' },
  'window-2s': { name: 'window-2s', label: 'window 2 s (Rails)', pin: 'cookie', pinSeconds: 2 },
  'window-15s': { name: 'window-15s', label: 'window 15 s (django-pindb)', pin: 'cookie', pinSeconds: 15 },
  causal: { name: 'causal', label: 'causal (pindb, pinSeconds 15)', pin: 'cookie', pinSeconds: 15, causal: true },
  'causal-60s': { name: 'causal-60s', label: 'causal (pindb, pinSeconds 60)', pin: 'cookie', pinSeconds: 60, causal: true },
})

/** A small seeded PRNG (mulberry32): the same seed gives every mode the same users' schedules. */
function prng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const rand = (min, max) => min + next() * (max - min)
  return { next, rand, randInt: (min, max) => Math.floor(rand(min, max + 1)) }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** A tiny cookie jar: `name=value` with `Max-Age`, as a browser keeps it for one host. */
class CookieJar {
  #cookies = new Map()

  header() {
    const now = Date.now()
    const parts = []
    for (const [name, { value, expires }] of this.#cookies) {
      if (expires <= now) this.#cookies.delete(name)
      else parts.push(`${name}=${value}`)
    }
    return parts.join('; ')
  }

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const maxAge = attributes.map((a) => /^\s*max-age=(-?\d+)/i.exec(a)).find(Boolean)
      const expires = maxAge ? Date.now() + Number(maxAge[1]) * 1000 : Infinity
      if (expires <= Date.now()) this.#cookies.delete(name)
      else this.#cookies.set(name, { value: pair.slice(eq + 1).trim(), expires })
    }
  }
}

/**
 * Runs one simulation cell: starts the app in `mode` over `replicaPorts`, runs `users` simulated
 * users for `durationMs`, stops the app. Calls `onRead(record)` as each read completes; resolves
 * `{ reads, writes, errors, durationMs }`. Stops early (cleanly) when `signal` aborts. `onStart()` is
 * called when the app is up and the users' clock starts.
 *
 * A read record: `{ t, user, kind, latencyMs, port, server, replica, stale, ageMs, reason, alias,
 * pinned, pinPosition, knownPosition, serverPosition, expected }` — `kind` is 'in-request' (the
 * count inside the POST), 'read-back' or 'browse'; `t` and `ageMs` (since the user's latest write
 * was acknowledged) in ms; `latencyMs` is the HTTP round trip (for 'in-request', the POST's).
 * `seed` drives every random choice (think times, browse lengths, which read): cells with the same
 * seed replay the same users' schedules, so modes are compared on the same traffic.
 */
export async function runCell({ mode, replicaPorts, users = 8, durationMs = 10_000, browseMs = 3000, onRead, onStart, signal: outer, label = 'u', seed = 1 }) {
  // One signal per cell, without a listener limit (fetch leaves one listener per request until GC).
  const cellAbort = new AbortController()
  setMaxListeners(0, cellAbort.signal)
  const signal = cellAbort.signal
  const onOuterAbort = () => cellAbort.abort()
  if (outer?.aborted) cellAbort.abort()
  outer?.addEventListener('abort', onOuterAbort, { once: true })
  const app = await startNotesApp({ mode, replicaPorts })
  onStart?.()
  const reads = []
  let writes = 0
  const errors = []
  const start = Date.now()
  const deadline = start + durationMs
  const stopped = () => signal.aborted || Date.now() >= deadline
  const record = (r) => {
    const full = { t: Date.now() - start, ...r, server: serverName(r.port), replica: serverName(r.port).startsWith('replica') }
    reads.push(full)
    onRead?.(full)
  }

  async function call(method, path, jar) {
    const cookie = jar.header()
    const t0 = performance.now()
    const response = await fetch(app.url + path, { method, headers: cookie ? { cookie } : {}, ...(signal ? { signal } : {}) })
    const body = await response.json()
    const latencyMs = performance.now() - t0
    jar.store(response)
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${body.error ?? ''}`)
    return { body, latencyMs }
  }

  const diag = (b) => ({ reason: b.reason, alias: b.alias, pinned: b.pinned, pinPosition: b.pinPosition, knownPosition: b.knownPosition, serverPosition: b.lsn, port: b.port })

  async function simulateUser(index) {
    const user = `${label}-${mode.name}-${start}-${index}`
    const jar = new CookieJar()
    const { next: random, rand, randInt } = prng(seed * 7919 + index)
    const notes = [] // { id, at } of this user's acknowledged writes
    await sleep(rand(0, Math.min(1000, durationMs / 4)), signal) // staggered starts
    while (!stopped()) {
      try {
        await cycle()
      } catch (err) {
        if (signal.aborted) return
        errors.push(String(err?.message ?? err)) // counted and reported; the user carries on
        if (errors.length >= 50 && errors.length > reads.length) return cellAbort.abort() // the app is broken: stop the cell
        await sleep(200, signal)
      }
    }

    async function cycle() {
      const { body: w, latencyMs } = await call('POST', `/notes?user=${encodeURIComponent(user)}&body=note-${notes.length + 1}`, jar)
      writes++
      notes.push({ id: w.id, at: Date.now() })
      record({ user, kind: 'in-request', latencyMs, ageMs: 0, stale: w.count < notes.length, expected: notes.length, ...diag(w) })
      const latest = () => notes[notes.length - 1]

      const readBack = async (kind, old) => {
        const target = old ?? latest()
        const ageMs = Date.now() - latest().at
        if (old === undefined && random() < 0.5) {
          const { body, latencyMs: ms } = await call('GET', `/notes?user=${encodeURIComponent(user)}`, jar)
          record({ user, kind, latencyMs: ms, ageMs, stale: body.notes[0]?.id !== target.id, expected: target.id, ...diag(body) })
        } else {
          const { body, latencyMs: ms } = await call('GET', `/notes/${target.id}`, jar)
          record({ user, kind, latencyMs: ms, ageMs, stale: body.note?.id !== target.id, expected: target.id, ...diag(body) })
        }
      }

      for (let i = randInt(1, 3); i > 0 && !stopped(); i--) {
        await sleep(rand(0, 300), signal)
        if (!stopped()) await readBack('read-back')
      }
      const browseEnd = Date.now() + rand(0.3, 1) * browseMs
      while (!stopped() && Date.now() < browseEnd) {
        await sleep(rand(400, 1200), signal)
        if (stopped()) break
        const older = notes.length > 1 && random() < 0.5 ? notes[randInt(0, notes.length - 2)] : undefined
        await readBack('browse', older)
      }
    }
  }

  const runUser = async (i) => {
    try {
      await simulateUser(i)
    } catch (err) {
      if (!signal.aborted) errors.push(String(err?.message ?? err))
    }
  }
  try {
    await Promise.all(Array.from({ length: users }, (_, i) => runUser(i)))
  } finally {
    outer?.removeEventListener('abort', onOuterAbort)
    await app.close()
  }
  return { reads, writes, errors, durationMs: Date.now() - start }
}

/**
 * Checks, before measuring anything, that the app works over the built pindb: one user's write
 * and read-back in causal mode. Throws an Error saying what failed (a broken dist/, a server down).
 */
export async function smokeTest({ replicaPorts }) {
  const result = await runCell({ mode: MODES.causal, replicaPorts, users: 1, durationMs: 400, browseMs: 0, label: 'smoke' })
  if (result.errors.length > 0 || result.reads.length === 0) {
    throw new Error(`the notes app does not work over the built pindb (dist/): ${result.errors[0] ?? 'no read completed'}`)
  }
}
