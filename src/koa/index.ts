/**
 * `pindb/koa`: pins that travel between requests, for Koa 2 and 3. Each request runs as a fresh
 * pindb unit of work — everything downstream of the middleware, across `await`s — carrying the
 * pins of its cookie and/or header; the live pins go back out on the response, set on `ctx.res`
 * just before its headers are flushed, so streamed bodies, redirects and the error responses Koa
 * renders itself (which drop every header set earlier) carry them too. Koa is not needed at
 * runtime.
 *
 * Mount it first, before anything that reads a database.
 *
 * @module
 */
import { createPinCarrier, nodeCarrierRequest, type NodeRequestLike } from '../http/carrier.js'
import { installPinHeaders, type NodeResponseLike } from '../http/node-response.js'
import type { PinCarrierOptions } from '../http/options.js'
import type { PinDb } from '../pindb.js'

export { markWrite, MAX_TOKENS_PER_REQUEST } from '../http/carrier.js'
export type { PinCarrierOptions, PinCookieOptions, PinRequestInfo } from '../http/options.js'
export { PIN_LOST_CHANNEL, type PinLostEvent, type PinLostHandler } from '../http/pin-lost.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'

/** The part of a Koa `Context` the middleware uses. */
export interface KoaContextLike {
  /** Node's request. */
  readonly req: NodeRequestLike
  /** Node's response. */
  readonly res: NodeResponseLike
  /** The URL before any mounting rewrote `ctx.url`. */
  readonly originalUrl: string
  /** HTTPS? Koa believes `X-Forwarded-Proto` only when `app.proxy` is true. */
  readonly secure: boolean
}

/** The middleware {@link pinDbKoa} returns: `app.use(it)`. */
export type PinDbKoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<unknown>

/**
 * Creates the Koa middleware. Each request runs in `pindb.run` with the pins of its valid tokens
 * (cookie and header, merged); invalid tokens are ignored and reported. The response gets
 * `Set-Cookie: pindb=…; Max-Age=…; Path=/; HttpOnly; SameSite=Lax` and/or the `x-pindb-token`
 * header while a pin is live — nothing when none is, when the request is `exempt`, or when pindb is
 * disabled. The cookie is `Secure` when `ctx.secure` is true, unless `cookie.secure` is set. Errors
 * thrown by `exempt` or `bind` reject the middleware's promise (Koa renders them).
 *
 * @throws {@link PinDbConfigError} for invalid options (checked here, once).
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { pinDbKoa } from 'pindb/koa'
 *
 * const app = new Koa()
 * app.use(pinDbKoa(pindb, { secrets: [process.env.PINDB_SECRET!] }))
 * app.use(async (ctx) => {
 *   await pool.query('INSERT INTO visits DEFAULT VALUES') // pins `default`
 *   ctx.redirect('/visits') // the cookie goes with the redirect; the next GET reads the primary
 * })
 * ```
 */
export function pinDbKoa(pindb: PinDb<object>, options: PinCarrierOptions): PinDbKoaMiddleware {
  const carrier = createPinCarrier(pindb, options)
  return async function pinDb(ctx, next) {
    return carrier.run(nodeCarrierRequest(ctx.req, ctx.originalUrl, () => ctx.secure), (unit) => {
      installPinHeaders(ctx.res, unit, pindb.options.causal)
      return next()
    })
  }
}
