/**
 * `pindb/next`: pins that travel between requests in a Next.js App Router app (tested with Next 16;
 * it uses only the async `cookies()` and `headers()` of `next/headers`, as in Next 15).
 * {@link createPinDbNext} returns a wrapper per kind of server code — route handlers
 * (`withPinDb`), server actions (`pinDbAction`) and server components (`runWithRequestPins`,
 * `pinDbPage`) — that runs it as a pindb unit of work with the pins of the request's signed
 * cookie (or token header). Route handlers and server actions carry their live pins on in the pin
 * cookie, so a write in an action makes the page rendered after it read the primary. Server
 * components only read pins: Next does not let a render set cookies.
 *
 * `next` is an optional peer dependency: `next/headers` is imported on first use.
 *
 * @module
 */
export { createPinDbNext, type NextRouteHandler, type PinDbNext, type PinDbNextOptions } from './pin-db-next.js'
export type { NextCookie, NextCookieAttributes, NextCookieStore, NextRequestApis } from './request-apis.js'
export { markWrite, MAX_TOKENS_PER_REQUEST, type PinCarrierOptions, type PinCookieOptions, type PinRequestInfo } from '../http/index.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'
