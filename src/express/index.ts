/**
 * `pindb/express`: pins that travel between requests, for Express 4 and 5 (and any Connect-style
 * stack on Node's `http`): each request runs as a fresh pindb unit of work carrying the pins of
 * its cookie and/or header, and the live pins go back out on the response — set just before the
 * headers are flushed, so streamed, redirected and error responses carry them too.
 *
 * Mount it before anything that reads a database (body parsers may come before or after it).
 *
 * @module
 */
import { createPinCarrier, nodeCarrierRequest, type CarrierUnit, type NodeRequestLike } from '../http/carrier.js'
import type { PinCarrierOptions } from '../http/options.js'
import type { PinDb } from '../pindb.js'

export { markWrite, MAX_TOKENS_PER_REQUEST } from '../http/carrier.js'
export type { PinCarrierOptions, PinCookieOptions, PinRequestInfo } from '../http/options.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'

/** The part of an Express request the middleware reads. */
export interface ExpressRequestLike extends NodeRequestLike {
  /** Express's URL before mounting rewrote `url`. */
  readonly originalUrl?: string | undefined
}

/** The part of an Express (Node `http`) response the middleware uses. */
export interface ExpressResponseLike {
  readonly headersSent: boolean
  getHeader(name: string): number | string | readonly string[] | undefined
  setHeader(name: string, value: number | string | readonly string[]): unknown
  writeHead(statusCode: number, ...rest: never[]): unknown
  write(chunk: never, ...rest: never[]): boolean
  end(...args: never[]): unknown
  flushHeaders?(): void
  destroy?(error?: Error): unknown
}

/** The middleware {@link pinDbExpress} returns: `app.use(it)`. */
export type PinDbExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: (err?: unknown) => void) => void

type Method = 'writeHead' | 'write' | 'end' | 'flushHeaders'
type Patchable = Record<Method, ((...args: unknown[]) => unknown) | undefined>
const DEFERRED: readonly Method[] = ['writeHead', 'write', 'end', 'flushHeaders']

function asArray(value: unknown): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]
}

/** Sets the pin headers on `res` (a `set-cookie` is added to those already set). */
function setPinHeaders(res: ExpressResponseLike, pairs: readonly [string, string][]): void {
  if (res.headersSent) return
  for (const [name, value] of pairs) {
    res.setHeader(name, name === 'set-cookie' ? [...asArray(res.getHeader('set-cookie')), value] : value)
  }
}

/**
 * `writeHead(status, [message,] headers)` with a headers object that sets `Set-Cookie` would replace
 * the pin cookie: add it there too.
 */
function withPinCookie(args: unknown[], pairs: readonly [string, string][]): unknown[] {
  const last = args.length - 1
  const headers = args[last]
  if (last < 1 || typeof headers !== 'object' || headers === null || Array.isArray(headers)) return args
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'set-cookie')
  const cookies = pairs.filter(([name]) => name === 'set-cookie').map(([, value]) => value)
  if (key === undefined || cookies.length === 0) return args
  const merged = { ...headers, [key]: [...asArray((headers as Record<string, unknown>)[key]), ...cookies] }
  return [...args.slice(0, last), merged]
}

/** Sets the pin headers when the response's headers are about to be written (`writeHead`, implicit or not). */
function interceptWriteHead(res: ExpressResponseLike, unit: CarrierUnit): void {
  const patchable = res as unknown as Patchable
  const original = patchable.writeHead!
  let done = false
  patchable.writeHead = function pinDbWriteHead(this: unknown, ...args: unknown[]): unknown {
    if (!done) {
      done = true
      const pairs = unit.responseHeaders()
      setPinHeaders(res, pairs)
      args = withPinCookie(args, pairs)
    }
    return Reflect.apply(original, this, args)
  }
}

/**
 * Causal reads: the pins' replication positions need one async round trip, so the first
 * `writeHead`/`write`/`end`/`flushHeaders` and everything after it are held until it is done, then
 * the headers are set and the calls replayed in order. Held writes report no back-pressure.
 */
function deferUntilSettled(res: ExpressResponseLike, unit: CarrierUnit): void {
  const patchable = res as unknown as Patchable
  const originals = new Map(DEFERRED.map((m) => [m, patchable[m]] as const))
  let queue: [Method, unknown[]][] | undefined
  const release = (pairs: [string, string][]): void => {
    for (const [m, fn] of originals) patchable[m] = fn
    setPinHeaders(res, pairs)
    for (const [m, args] of queue ?? []) {
      const fn = patchable[m]
      if (fn !== undefined) Reflect.apply(fn, res, m === 'writeHead' ? withPinCookie(args, pairs) : args)
    }
  }
  for (const m of DEFERRED) {
    if (originals.get(m) === undefined) continue
    patchable[m] = function pinDbDeferred(this: unknown, ...args: unknown[]): unknown {
      if (queue === undefined) {
        queue = []
        unit.responseHeadersAsync().catch(() => []).then(release).catch((error: unknown) => {
          res.destroy?.(error instanceof Error ? error : new Error(String(error)))
        })
      }
      queue.push([m, args])
      return m === 'write' ? true : m === 'flushHeaders' ? undefined : this
    }
  }
}

/**
 * Creates the Express middleware. Each request runs in `pindb.run` with the pins of its valid
 * tokens (cookie and header, merged); invalid tokens are ignored and reported. The response gets
 * `Set-Cookie: pindb=…; Max-Age=…; Path=/; HttpOnly; SameSite=Lax` and/or the `x-pindb-token`
 * header while a pin is live — nothing when none is, when the request is `exempt`, or when pindb
 * is disabled.
 *
 * @throws {@link PinDbConfigError} for invalid options (checked here, once).
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { pinDbExpress } from 'pindb/express'
 *
 * const app = express()
 * app.use(pinDbExpress(pindb, { secrets: [process.env.PINDB_SECRET!] }))
 * app.post('/notes', async (req, res) => {
 *   await pool.query('INSERT INTO notes (body) VALUES ($1)', [req.body.text]) // pins `default`
 *   res.redirect('/notes') // the cookie goes with the redirect; the next GET reads the primary
 * })
 * ```
 */
export function pinDbExpress(pindb: PinDb<object>, options: PinCarrierOptions): PinDbExpressMiddleware {
  const carrier = createPinCarrier(pindb, options)
  return function pinDbMiddleware(req, res, next) {
    let entered = false
    try {
      carrier.run(nodeCarrierRequest(req, req.originalUrl), (unit) => {
        entered = true
        if (unit.writesBack) {
          if (pindb.options.causal) deferUntilSettled(res, unit)
          else interceptWriteHead(res, unit)
        }
        next()
      })
    } catch (err) {
      // `exempt` threw: let the app's error handler render it. Errors from `next` are Express's own.
      if (entered) throw err
      next(err)
    }
  }
}
