/**
 * `pindb/fetch`: pins that travel between requests, for handlers built on the Fetch API's
 * `Request` and `Response` — Next.js route handlers, Bun and Deno style servers
 * ({@link withPinDb}) — and Hono ({@link pinDbHono}). Each request runs as a fresh pindb unit of
 * work carrying the pins of its cookie and/or header; the live pins go back out on the response.
 *
 * A response whose headers are immutable (`Response.redirect()`, a proxied `fetch()` response) is
 * copied into a new `Response` with the same status and body; a streaming body stays a stream.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import { createPinCarrier, type CarrierRequest, type CarrierUnit } from '../http/carrier.js'
import type { PinCarrierOptions } from '../http/options.js'
import type { PinDb } from '../pindb.js'

export { markWrite, MAX_TOKENS_PER_REQUEST } from '../http/carrier.js'
export type { PinCarrierOptions, PinCookieOptions, PinRequestInfo } from '../http/options.js'
export { PIN_LOST_CHANNEL, type PinLostEvent, type PinLostHandler } from '../http/pin-lost.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'

/** Options of {@link withPinDb}. */
export interface WithPinDbOptions extends PinCarrierOptions {
  /**
   * Turns an error thrown by the handler into a response, which then carries the pins made before
   * the error (a write committed, then a failure). Default: none — the error propagates to the
   * host framework, and the pins made before it do not travel.
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>
}

/** A `(request, ...rest) => Response` handler, as {@link withPinDb} wraps and returns it. */
export type FetchHandler<A extends unknown[] = []> = (request: Request, ...rest: A) => Response | Promise<Response>

function fetchCarrierRequest(request: Request, path: () => string): CarrierRequest {
  return {
    method: request.method,
    get url() {
      return path()
    },
    header: (name) => request.headers.get(name),
    headers: () => request.headers.entries(),
    get secure() {
      return request.url.startsWith('https:')
    },
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname
  } catch {
    return url
  }
}

/** `response` with the pin headers added: in place when its headers are mutable, else on a copy. */
function withHeaders(response: Response, pairs: readonly [string, string][]): Response {
  if (pairs.length === 0) return response
  try {
    for (const [name, value] of pairs) response.headers.append(name, value)
    return response
  } catch {
    // Immutable headers: copy. The body is passed through as is (a stream stays a stream).
    try {
      const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers })
      for (const [name, value] of pairs) copy.headers.append(name, value)
      return copy
    } catch {
      // A status `new Response` refuses (101, 0): leave the response alone.
      return response
    }
  }
}

/**
 * `response` whose body reports, once fully read, the pins made after its headers were computed
 * (a write while it streamed). Only when someone listens: it costs a copy of the response.
 */
function watchingEnd(unit: CarrierUnit, response: Response): Response {
  if (response.body === null || !unit.watchesLostPins) return response
  try {
    const body = response.body.pipeThrough(new TransformStream({ flush: () => unit.end() }))
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  } catch {
    return response
  }
}

async function finish(unit: CarrierUnit, response: Response): Promise<Response> {
  return unit.writesBack ? watchingEnd(unit, withHeaders(response, await unit.responseHeadersAsync())) : response
}

/**
 * Wraps a Fetch-API handler: each request runs in `pindb.run` with the pins of its valid tokens
 * (cookie and header, merged; invalid ones ignored and reported), and the response gets
 * `Set-Cookie: pindb=…; Max-Age=…; Path=/; HttpOnly; SameSite=Lax` and/or the `x-pindb-token`
 * header while a pin is live — nothing when none is, when the request is `exempt`, or when pindb
 * is disabled. The cookie is `Secure` when `request.url` is `https:`, unless `cookie.secure` is set.
 *
 * @throws {@link PinDbConfigError} for invalid options (checked here, once).
 *
 * @example
 * ```ts
 * // app/notes/route.ts (Next.js)
 * import { withPinDb } from 'pindb/fetch'
 * export const POST = withPinDb(pindb, async (request) => {
 *   await pool.query('INSERT INTO notes (body) VALUES ($1)', [(await request.json()).text])
 *   return Response.json({ ok: true })
 * }, { secrets: [process.env.PINDB_SECRET!] })
 * ```
 */
export function withPinDb<A extends unknown[]>(pindb: PinDb<object>, handler: FetchHandler<A>, options: WithPinDbOptions): FetchHandler<A> {
  const { onError, ...carrierOptions } = options
  if (onError !== undefined && typeof onError !== 'function') {
    throw new PinDbConfigError('onError', 'must be a function (error, request) => Response.')
  }
  const carrier = createPinCarrier(pindb, carrierOptions)
  return async function pinDbHandler(request: Request, ...rest: A): Promise<Response> {
    return carrier.run(fetchCarrierRequest(request, () => pathOf(request.url)), async (unit) => {
      let response: Response
      try {
        response = await handler(request, ...rest)
      } catch (error) {
        if (onError === undefined) throw error
        response = await onError(error, request)
      }
      return finish(unit, response)
    })
  }
}

/** The part of a Hono `Context` the middleware uses. */
export interface HonoContextLike {
  readonly req: { readonly raw: Request; readonly path: string }
  res: Response | undefined
}

/** What {@link pinDbHono} returns: Hono middleware, `app.use(it)`. */
export type PinDbHonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<void>

/**
 * Creates Hono middleware with the same behaviour as {@link withPinDb}. Errors thrown by handlers
 * are rendered by Hono (`app.onError`) before this middleware sees the response, so error responses
 * carry the pins too. The cookie is `Secure` when the request URL is `https:`, unless
 * `cookie.secure` is set. Hono is not needed at runtime.
 *
 * @throws {@link PinDbConfigError} for invalid options (checked here, once).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { pinDbHono } from 'pindb/fetch'
 *
 * const app = new Hono()
 * app.use(pinDbHono(pindb, { secrets: [process.env.PINDB_SECRET!] }))
 * app.post('/notes', async (c) => {
 *   await pool.query('INSERT INTO notes (body) VALUES ($1)', [(await c.req.json()).text])
 *   return c.json({ ok: true })
 * })
 * ```
 */
export function pinDbHono(pindb: PinDb<object>, options: PinCarrierOptions): PinDbHonoMiddleware {
  const carrier = createPinCarrier(pindb, options)
  return async function pinDb(c, next) {
    await carrier.run(fetchCarrierRequest(c.req.raw, () => c.req.path), async (unit) => {
      await next()
      const response = c.res
      if (response === undefined || !unit.writesBack) return
      const updated = await finish(unit, response)
      if (updated !== response) {
        // Hono's `res` setter merges the old response's headers into the new one, dropping our
        // Set-Cookie; clear it first.
        c.res = undefined
        c.res = updated
      }
    })
  }
}
