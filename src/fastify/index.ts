/**
 * `pindb/fastify`: pins that travel between requests, for Fastify 4 and 5. Each request runs as a
 * fresh pindb unit of work (opened in `onRequest`, so every hook and the handler inherit it —
 * including after the body is parsed and across `await`s) carrying the pins of its cookie and/or
 * header; the live pins go back out in `onSend`, which also runs for error replies and streams.
 *
 * The plugin is marked with `Symbol.for('skip-override')` (what `fastify-plugin` does), so
 * registering it on the root instance covers every route; no runtime dependency on
 * `fastify-plugin`.
 *
 * @module
 */
import { AsyncResource } from 'node:async_hooks'
import { createPinCarrier, nodeCarrierRequest, type CarrierUnit, type NodeRequestLike } from '../http/carrier.js'
import type { PinCarrierOptions } from '../http/options.js'
import type { PinDb } from '../pindb.js'

export { markWrite, MAX_TOKENS_PER_REQUEST } from '../http/carrier.js'
export type { PinCarrierOptions, PinCookieOptions, PinRequestInfo } from '../http/options.js'
export { PIN_LOST_CHANNEL, type PinLostEvent, type PinLostHandler } from '../http/pin-lost.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'

/** The part of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  header(name: string, value: string): unknown
  getHeader(name: string): unknown
  removeHeader(name: string): unknown
}

type Done = (err?: Error) => void

/** The part of a Fastify request the plugin reads. */
export interface FastifyRequestLike extends NodeRequestLike {
  /** `'https'` or `'http'`; Fastify believes `X-Forwarded-Proto` only with `trustProxy`. */
  readonly protocol?: string | undefined
}

/** The part of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  addHook(name: 'onRequest' | 'preValidation', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => void): unknown
  addHook(name: 'onResponse', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => void): unknown
  addHook(name: 'onSend', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown) => Promise<unknown>): unknown
}

/** What {@link pinDbFastify} returns: a Fastify plugin, `app.register(it)`. */
export interface PinDbFastifyPlugin {
  (instance: FastifyInstanceLike, options: unknown, done: Done): void
  /** Marks the plugin as not encapsulated (as `fastify-plugin` does), so it applies app-wide. */
  readonly [key: symbol]: unknown
}

/** A request's unit of work, and a handle on its async context to re-enter it after body parsing. */
interface Entry {
  readonly unit: CarrierUnit
  readonly resource: AsyncResource
  /** The `Set-Cookie` value added by `onSend`, replaced if `onSend` runs again (an error after it). */
  cookie?: string
}

/** Adds the pin headers to a reply; a pin cookie added by an earlier `onSend` of this reply is replaced. */
function addPinHeaders(entry: Entry, reply: FastifyReplyLike, pairs: readonly [string, string][]): void {
  const previous = entry.cookie
  if (previous !== undefined) {
    const current = reply.getHeader('set-cookie')
    const kept = (Array.isArray(current) ? current : current === undefined ? [] : [current]).filter((c) => c !== previous)
    reply.removeHeader('set-cookie')
    for (const cookie of kept) reply.header('set-cookie', String(cookie))
    delete entry.cookie
  }
  for (const [name, value] of pairs) {
    reply.header(name, value)
    if (name === 'set-cookie') entry.cookie = value
  }
}

/**
 * Creates the Fastify plugin. Each request runs in `pindb.run` with the pins of its valid tokens
 * (cookie and header, merged); invalid tokens are ignored and reported. The reply gets
 * `Set-Cookie: pindb=…; Max-Age=…; Path=/; HttpOnly; SameSite=Lax` and/or the `x-pindb-token`
 * header while a pin is live — nothing when none is, when the request is `exempt`, or when pindb is
 * disabled. With causal reads, replication positions are settled in `onSend` first. The cookie is
 * `Secure` when `request.protocol` is `'https'` (HTTPS, or `X-Forwarded-Proto: https` with
 * Fastify's `trustProxy`), unless `cookie.secure` is set.
 *
 * @throws {@link PinDbConfigError} for invalid options (checked here, once).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { pinDbFastify } from 'pindb/fastify'
 *
 * const app = Fastify()
 * await app.register(pinDbFastify(pindb, { secrets: [process.env.PINDB_SECRET!] }))
 * app.post('/notes', async (request) => {
 *   await pool.query('INSERT INTO notes (body) VALUES ($1)', [request.body.text]) // pins `default`
 *   return { ok: true } // the reply carries the pin
 * })
 * ```
 */
export function pinDbFastify(pindb: PinDb<object>, options: PinCarrierOptions): PinDbFastifyPlugin {
  const carrier = createPinCarrier(pindb, options)
  const entries = new WeakMap<object, Entry>()

  const plugin = function pinDb(instance: FastifyInstanceLike, _options: unknown, done: Done): void {
    instance.addHook('onRequest', function pinDbOnRequest(request, _reply, next) {
      let entered = false
      try {
        carrier.run(nodeCarrierRequest(request, undefined, () => request.protocol === 'https'), (unit) => {
          entered = true
          entries.set(request, { unit, resource: new AsyncResource('pindb') })
          next()
        })
      } catch (err) {
        if (entered) throw err
        next(err instanceof Error ? err : new Error(String(err)))
      }
    })
    // A body arriving after the headers is read in the socket's async context. Fastify's own
    // content-type parser restores the request's context; re-entering it here also covers
    // parsers and versions that do not.
    instance.addHook('preValidation', function pinDbPreValidation(request, _reply, next) {
      const entry = entries.get(request)
      if (entry === undefined) next()
      else entry.resource.runInAsyncScope(next)
    })
    instance.addHook('onSend', async function pinDbOnSend(request, reply, payload) {
      const entry = entries.get(request)
      if (entry === undefined || !entry.unit.writesBack) return payload
      addPinHeaders(entry, reply, await entry.unit.responseHeadersAsync())
      return payload
    })
    // After the reply (a streamed one included) is sent: report pins made too late to travel.
    instance.addHook('onResponse', function pinDbOnResponse(request, _reply, next) {
      entries.get(request)?.unit.end()
      next()
    })
    done()
  }
  Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true })
  Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: 'pindb' })
  Object.defineProperty(plugin, Symbol.for('plugin-meta'), { value: { name: 'pindb', fastify: '4.x || 5.x' } })
  return plugin as PinDbFastifyPlugin
}
