/**
 * The Next.js App Router wrappers: route handlers, server actions and server components, each run
 * as a pindb unit of work carrying the pins of the request's cookie (and token header).
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import { createPinCarrier, type CarrierRequest, type CarrierUnit, type PinCarrier, type PinCarrierOptions } from '../http/index.js'
import type { PinDb } from '../pindb.js'
import { loadNextRequestApis, nextCarrierRequest, setCookieThroughStore, type NextRequestApis } from './request-apis.js'

/** Options of {@link createPinDbNext}: the carrier's, plus where Next's request APIs come from. */
export interface PinDbNextOptions extends PinCarrierOptions {
  /** `next/headers` (`await import('next/headers')`). Default: imported on first use. */
  next?: NextRequestApis
}

/** A route handler, `(request, context) => Response`, as {@link PinDbNext.withPinDb} wraps it. */
export type NextRouteHandler<R extends Request, A extends unknown[]> = (request: R, ...rest: A) => Response | Promise<Response>

/** The wrappers {@link createPinDbNext} returns, sharing one validated carrier. */
export interface PinDbNext {
  /** The carrier the wrappers share. */
  readonly carrier: PinCarrier
  /**
   * Wraps a route handler (`export const POST = withPinDb(async (request) => …)`): the request runs
   * as a unit of work with its carried pins; the response carries the live pins (`Set-Cookie` and/or
   * the token header). When the handler throws — `redirect()` and `notFound()` included — the pin
   * cookie is set through `cookies()`, which Next adds to the response it makes of the error.
   */
  withPinDb<R extends Request, A extends unknown[]>(handler: NextRouteHandler<R, A>): (request: R, ...rest: A) => Promise<Response>
  /**
   * Wraps a server action: it runs as a unit of work with the request's pins, and the live pins
   * are set as the pin cookie through `cookies()` — also when the action throws (`redirect()`
   * included) — so the page rendered next, in this response or the next request, reads the primary.
   * Actions cannot set response headers: the token header is read, never written.
   */
  pinDbAction<A extends unknown[], T>(action: (...args: A) => T | Promise<T>): (...args: A) => Promise<T>
  /**
   * Runs `fn` — a server component's data access — as a unit of work with the request's pins (read
   * from `cookies()`, so the render after a server action sees the pins it set). Inside a unit of
   * work already (a wrapped action or route handler, `pindb.run`), `fn` runs in that one. A write in
   * `fn` pins the rest of `fn`, but does not travel: Next forbids setting cookies during a render.
   */
  runWithRequestPins<T>(fn: () => T | Promise<T>): Promise<T>
  /** Wraps a server component (page, layout or any async component) in {@link PinDbNext.runWithRequestPins}. */
  pinDbPage<P extends unknown[], T>(component: (...props: P) => T | Promise<T>): (...props: P) => Promise<T>
}

/** `response` with the pin headers added: in place when its headers are mutable, else on a copy. */
function withHeaders(response: Response, pairs: readonly [string, string][]): Response {
  if (pairs.length === 0) return response
  try {
    for (const [name, value] of pairs) response.headers.append(name, value)
    return response
  } catch {
    // Immutable headers (`Response.redirect()`, a proxied `fetch()` response): copy, body as is.
    try {
      const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers })
      for (const [name, value] of pairs) copy.headers.append(name, value)
      return copy
    } catch {
      return response // a status `new Response` refuses (101): nothing can carry the pins
    }
  }
}

function routeRequest(request: Request): CarrierRequest {
  return {
    method: request.method,
    get url() {
      try {
        return new URL(request.url).pathname
      } catch {
        return request.url
      }
    },
    header: (name) => request.headers.get(name),
    headers: () => request.headers.entries(),
    // The pin cookie gets `Secure` over HTTPS (directly, or behind a proxy that says so).
    get secure() {
      return request.url.startsWith('https:') || isForwardedHttps(request.headers.get('x-forwarded-proto'))
    },
  }
}

/** True when a proxy's `X-Forwarded-Proto` says the client used HTTPS (first hop). */
export function isForwardedHttps(value: string | null): boolean {
  return value !== null && value.split(',')[0]!.trim().toLowerCase() === 'https'
}

/**
 * Creates the Next.js wrappers. Options are validated here, once; `next` is imported on first use
 * (an optional peer: only this entry needs it).
 *
 * @throws {@link PinDbConfigError} for invalid options.
 *
 * @example
 * ```ts
 * // lib/pindb.ts
 * import { createPinDbNext } from 'pindb/next'
 * export const { withPinDb, pinDbAction, runWithRequestPins, pinDbPage } =
 *   createPinDbNext(pindb, { secrets: [process.env.PINDB_SECRET!] })
 *
 * // app/notes/actions.ts
 * 'use server'
 * export const addNote = pinDbAction(async (form: FormData) => {
 *   await pool.query('INSERT INTO notes (body) VALUES ($1)', [form.get('body')]) // pins `default`
 *   redirect('/notes') // the redirect carries the pin cookie; /notes reads the primary
 * })
 * ```
 */
export function createPinDbNext(pindb: PinDb<object>, options: PinDbNextOptions): PinDbNext {
  const { next, ...carrierOptions } = options
  if (next !== undefined && (typeof next !== 'object' || next === null || typeof next.cookies !== 'function' || typeof next.headers !== 'function')) {
    throw new PinDbConfigError('next', "must be Next's `next/headers` module (`await import('next/headers')`), with `cookies` and `headers`.")
  }
  const carrier = createPinCarrier(pindb, carrierOptions)
  const cookieName = carrier.options.cookie?.name
  const apis = (): Promise<NextRequestApis> => (next === undefined ? loadNextRequestApis() : Promise.resolve(next))

  /** Sets the live pins as the pin cookie through Next's cookie store. */
  async function carryByCookie(unit: CarrierUnit, api: NextRequestApis): Promise<void> {
    if (!unit.writesBack || cookieName === undefined) return
    const cookies = (await unit.responseHeadersAsync()).filter(([name]) => name === 'set-cookie')
    if (cookies.length === 0) return
    const store = await api.cookies()
    for (const [, value] of cookies) setCookieThroughStore(store, value)
  }

  async function runWithRequestPins<T>(fn: () => T | Promise<T>): Promise<T> {
    if (pindb.inContext) return fn()
    const request = await nextCarrierRequest(await apis(), 'GET', cookieName)
    return carrier.run(request, () => fn())
  }

  return {
    carrier,
    withPinDb<R extends Request, A extends unknown[]>(handler: NextRouteHandler<R, A>) {
      return async function pinDbRouteHandler(request: R, ...rest: A): Promise<Response> {
        return carrier.run(routeRequest(request), async (unit) => {
          let response: Response
          try {
            response = await handler(request, ...rest)
          } catch (error) {
            // Next turns `redirect()`/`notFound()` into a response that includes the cookie store's cookies.
            await apis().then((api) => carryByCookie(unit, api)).catch(() => {})
            throw error
          }
          return unit.writesBack ? withHeaders(response, await unit.responseHeadersAsync()) : response
        })
      }
    },
    pinDbAction<A extends unknown[], T>(action: (...args: A) => T | Promise<T>) {
      return async function pinDbServerAction(...args: A): Promise<T> {
        const api = await apis()
        const request = await nextCarrierRequest(api, 'POST', cookieName)
        return carrier.run(request, async (unit) => {
          let result: T
          try {
            result = await action(...args)
          } catch (error) {
            // A redirect() is an error too: the pins of the writes before it must travel with it.
            await carryByCookie(unit, api).catch(() => {})
            throw error
          }
          await carryByCookie(unit, api)
          return result
        })
      }
    },
    runWithRequestPins,
    pinDbPage<P extends unknown[], T>(component: (...props: P) => T | Promise<T>) {
      return function pinDbServerComponent(...props: P): Promise<T> {
        return runWithRequestPins(() => component(...props))
      }
    },
  }
}
