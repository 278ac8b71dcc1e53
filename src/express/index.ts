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
import { createPinCarrier, nodeCarrierRequest, type NodeRequestLike } from '../http/carrier.js'
import { installPinHeaders, type NodeResponseLike } from '../http/node-response.js'
import type { PinCarrierOptions } from '../http/options.js'
import type { PinDb } from '../pindb.js'

export { markWrite, MAX_TOKENS_PER_REQUEST } from '../http/carrier.js'
export type { PinCarrierOptions, PinCookieOptions, PinRequestInfo } from '../http/options.js'
export { PIN_LOST_CHANNEL, type PinLostEvent, type PinLostHandler } from '../http/pin-lost.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'

/** The part of an Express request the middleware reads. */
export interface ExpressRequestLike extends NodeRequestLike {
  /** Express's URL before mounting rewrote `url`. */
  readonly originalUrl?: string | undefined
}

/** The part of an Express (Node `http`) response the middleware uses. */
export type ExpressResponseLike = NodeResponseLike

/** The middleware {@link pinDbExpress} returns: `app.use(it)`. */
export type PinDbExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: (err?: unknown) => void) => void

/**
 * Creates the Express middleware. Each request runs in `pindb.run` with the pins of its valid
 * tokens (cookie and header, merged); invalid tokens are ignored and reported. The response gets
 * `Set-Cookie: pindb=…; Max-Age=…; Path=/; HttpOnly; SameSite=Lax` and/or the `x-pindb-token`
 * header while a pin is live — nothing when none is, when the request is `exempt`, or when pindb
 * is disabled. The cookie is `Secure` when `req.secure` is true (HTTPS, or `X-Forwarded-Proto:
 * https` from a proxy the app trusts: `app.set('trust proxy', …)`), unless `cookie.secure` is set.
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
        installPinHeaders(res, unit, pindb.options.causal)
        next()
      })
    } catch (err) {
      // `exempt` threw: let the app's error handler render it. Errors from `next` are Express's own.
      if (entered) throw err
      next(err)
    }
  }
}
