/**
 * `pindb/http`: the framework-independent pin carrier every pindb HTTP middleware is built on
 * (`pindb/express`, `pindb/fastify`, `pindb/fetch`, `pindb/koa`). Use it to support a framework
 * pindb has no middleware for: describe the request as a {@link CarrierRequest}, run the handler
 * in {@link PinCarrier.run}, and put {@link CarrierUnit.responseHeadersAsync}'s headers on the
 * response before its headers are sent. Set {@link CarrierRequest.secure} so the cookie gets
 * `Secure` on HTTPS, and call {@link CarrierUnit.end} when a streamed response is complete so
 * that pins made after its headers went out are reported ({@link PIN_LOST_CHANNEL}).
 *
 * @example
 * ```ts
 * import { createPinCarrier, type CarrierRequest } from 'pindb/http'
 *
 * const carrier = createPinCarrier(pindb, { secrets: [process.env.PINDB_SECRET!] })
 * async function handle(req: MyRequest): Promise<MyResponse> {
 *   const request: CarrierRequest = {
 *     method: req.method,
 *     url: req.path,
 *     secure: req.protocol === 'https',
 *     header: (name) => req.headers[name],
 *     headers: () => Object.entries(req.headers),
 *   }
 *   return carrier.run(request, async (unit) => {
 *     const res = await app(req) // reads and writes through pindb's pools
 *     for (const [name, value] of await unit.responseHeadersAsync()) res.appendHeader(name, value)
 *     res.onFinished(() => unit.end()) // a streamed body: report pins made too late to travel
 *     return res
 *   })
 * }
 * ```
 *
 * @module
 */
export {
  createPinCarrier,
  markWrite,
  MAX_TOKENS_PER_REQUEST,
  nodeCarrierRequest,
  type CarrierRequest,
  type CarrierUnit,
  type NodeRequestLike,
  type PinCarrier,
} from './carrier.js'
export type { PinCarrierOptions, PinCookieOptions, PinRequestInfo } from './options.js'
export { PIN_LOST_CHANNEL, type PinLostEvent, type PinLostHandler } from './pin-lost.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'
