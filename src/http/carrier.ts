/**
 * The framework-independent core of every pindb HTTP middleware: read the pin tokens a request
 * carries (cookie and/or header), run the request as a fresh unit of work with those pins, and
 * produce the response headers that carry the live pins on.
 *
 * Tokens: every valid token the request carries is used — the cookie's and the header's — and
 * their pins are merged (per set, the later expiry wins). A request carries at most
 * {@link MAX_TOKENS_PER_REQUEST} tokens; an invalid one is ignored and reported, never thrown.
 * Cookies are parsed with the `cookie` package: only `;` separates cookies, so a token inside
 * another cookie's value is never read. With the `bind` option, tokens are bound to the client
 * (a session id…), and a token replayed by another client is ignored and reported. Pins made after
 * the response headers were produced are reported as lost ({@link CarrierUnit.end}).
 *
 * @module
 */
import { AsyncResource } from 'node:async_hooks'
import { parseCookie } from 'cookie'
import { decodePins, encodePins, mergePins, reportTokenProblem, createPinCodec } from '../jobs.js'
import type { PinRecord } from '../pin-record.js'
import type { PinDb } from '../pindb.js'
import type { PinTokenCodec } from '../token/pin-token.js'
import { normalizeCarrierOptions, type NormalizedCarrierOptions, type PinCarrierOptions, type PinRequestInfo } from './options.js'
import { lostSets, pinLostWatched, reportPinLost, type SentPin } from './pin-lost.js'

/**
 * Most tokens read from one request (cookies of that name plus header values, in that order); the
 * rest are ignored, and reported once as `'oversized'` (with the length of the first one ignored).
 */
export const MAX_TOKENS_PER_REQUEST = 4

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** A request, as a framework adapter shows it to the carrier. */
export interface CarrierRequest {
  /** The HTTP method. */
  readonly method: string
  /** The path, with or without the query string (only used for `exempt`). */
  readonly url: string
  /** One header by lower-case name: its value, values, or nothing. */
  header(name: string): string | readonly string[] | null | undefined
  /** Every header (only used for `exempt` and `bind`). */
  headers(): Iterable<readonly [string, string | readonly string[] | undefined]>
  /**
   * Whether the request came over HTTPS, as the framework decides it (trusting
   * `X-Forwarded-Proto` only when the app trusts its proxy). Read when the pin cookie is written:
   * it gets `Secure` when this is true, unless the `cookie.secure` option says otherwise.
   * Undefined counts as false.
   */
  readonly secure?: boolean | undefined
}

/** One request's unit of work, as the adapter sees it. */
export interface CarrierUnit {
  /** False for `exempt` requests: nothing is written back. */
  readonly writesBack: boolean
  /**
   * The `[name, value]` response headers carrying the live pins (a `set-cookie` and/or the token
   * header); empty when nothing is pinned, when the request is exempt and when pindb is disabled.
   * Runs in the request's unit of work whatever context it is called from. Ignores replication
   * positions not yet fetched (use {@link CarrierUnit.responseHeadersAsync} with causal reads).
   */
  responseHeaders(): [string, string][]
  /** {@link CarrierUnit.responseHeaders} after `await pindb.settlePositions()` (causal reads). */
  responseHeadersAsync(): Promise<[string, string][]>
  /**
   * Call when the response is complete (its body fully sent, or the connection closed). If pins
   * were made after the last {@link CarrierUnit.responseHeaders} call — a write while the response
   * streamed — they could not travel: reports them (`onPinLost`, channel `pindb:pin-lost`).
   * Idempotent; does nothing when nobody listens, or when no headers were produced.
   */
  end(): void
  /**
   * Whether lost pins would be reported to anyone right now (an `onPinLost` hook or a
   * `pindb:pin-lost` subscriber): adapters may skip watching for the end of the response otherwise.
   */
  readonly watchesLostPins: boolean
}

/** What {@link createPinCarrier} returns; the HTTP middleware are thin wrappers around it. */
export interface PinCarrier {
  /** The pindb instance. */
  readonly pindb: PinDb<object>
  /** The token codec (from {@link createPinCodec}). */
  readonly codec: PinTokenCodec
  /** @internal */
  readonly options: NormalizedCarrierOptions
  /**
   * Runs `fn` as the request's unit of work: a fresh context with the request's carried pins
   * (and, on an unsafe method, the `pinOnUnsafeMethods` sets). `fn` gets the {@link CarrierUnit}
   * to build the response headers with. Errors thrown by `exempt` propagate.
   */
  run<T>(request: CarrierRequest, fn: (unit: CarrierUnit) => T): T
}

/** The value of a `Set-Cookie` header carrying `token` for `maxAgeSeconds`. */
function setCookie(options: NormalizedCarrierOptions, token: string, maxAgeSeconds: number, https: boolean): string {
  const cookie = options.cookie!
  const secure = cookie.secure ?? https
  return `${cookie.name}=${token}; Max-Age=${maxAgeSeconds}${cookie.attributes}${secure ? '; Secure' : ''}${cookie.domain}`
}

/** Cookie values are used as they are: a pin token needs no decoding. */
const RAW = { decode: (value: string) => value }

function values(value: string | readonly string[] | null | undefined): readonly string[] {
  if (value === null || value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

/**
 * The candidate tokens of one request, with where each came from: at most
 * {@link MAX_TOKENS_PER_REQUEST} + 1 (the extra one only to report that there were too many).
 */
function requestTokens(options: NormalizedCarrierOptions, request: CarrierRequest): { source: 'cookie' | 'header'; token: string }[] {
  const out: { source: 'cookie' | 'header'; token: string }[] = []
  const push = (source: 'cookie' | 'header', token: string): boolean => out.push({ source, token }) > MAX_TOKENS_PER_REQUEST
  if (options.cookie !== undefined) {
    const wanted = options.cookie.name
    for (const header of values(request.header('cookie'))) {
      // One value per Cookie header line (a list when the server kept them apart). Only `;`
      // separates cookies: splitting on `,` too read a token hidden in another cookie's value.
      let value = parseCookie(header, RAW)[wanted]
      if (value === undefined) continue
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      if (value !== '' && push('cookie', value)) return out
    }
  }
  if (options.header !== undefined) {
    for (const header of values(request.header(options.header))) {
      for (const part of header.split(',')) {
        const token = part.trim()
        if (token !== '' && push('header', token)) return out
      }
    }
  }
  return out
}

/**
 * @internal The pins carried by a request's tokens, rejections reported. `binding`: the request's
 * binding (from the `bind` option), against which bound tokens are checked.
 */
export function readRequestPins(carrier: Pick<PinCarrier, 'codec' | 'options'>, request: CarrierRequest, binding?: string): PinRecord[] {
  const { options, codec } = carrier
  const lists: PinRecord[][] = []
  for (const [i, { source, token }] of requestTokens(options, request).entries()) {
    if (i >= MAX_TOKENS_PER_REQUEST) reportTokenProblem({ source, reason: 'oversized', length: token.length }, options.onTokenRejected)
    else lists.push(decodePins(codec, token, source, options.onTokenRejected, binding))
  }
  return mergePins(lists)
}

function pathOf(url: string): string {
  const query = url.search(/[?#]/)
  return query === -1 ? url : url.slice(0, query)
}

function requestInfo(request: CarrierRequest): PinRequestInfo {
  const headers: Record<string, string> = {}
  for (const [name, value] of request.headers()) {
    if (value === undefined) continue
    headers[name.toLowerCase()] = typeof value === 'string' ? value : value.join(name.toLowerCase() === 'cookie' ? '; ' : ', ')
  }
  const cookie = headers['cookie']
  // `parseCookie` returns an object without a prototype: `cookies['constructor']` is undefined.
  const cookies = parseCookie(cookie ?? '')
  return { method: request.method.toUpperCase(), path: pathOf(request.url), headers, cookies }
}

/**
 * Creates the carrier the HTTP middleware are built on. Use it directly to support a framework
 * pindb has no middleware for. Options are validated here, once.
 *
 * @throws {@link PinDbConfigError} naming the option and the fix.
 *
 * @example
 * ```ts
 * const carrier = createPinCarrier(pindb, { secrets: [process.env.PINDB_SECRET!] })
 * const response = await carrier.run(request, async (unit) => {
 *   const res = await handle(request)
 *   for (const [name, value] of await unit.responseHeadersAsync()) res.headers.append(name, value)
 *   return res
 * })
 * ```
 */
export function createPinCarrier(pindb: PinDb<object>, options: PinCarrierOptions): PinCarrier {
  const normalized = normalizeCarrierOptions(pindb, options)
  const codec = createPinCodec(pindb, normalized.secrets)
  const carrier: PinCarrier = {
    pindb,
    codec,
    options: normalized,
    run<T>(request: CarrierRequest, fn: (unit: CarrierUnit) => T): T {
      const info = normalized.exempt === undefined && normalized.bind === undefined ? undefined : requestInfo(request)
      const writesBack = normalized.exempt === undefined || !normalized.exempt(info!)
      const bound = normalized.bind === undefined ? undefined : normalized.bind(info!)
      const binding = typeof bound === 'string' && bound !== '' ? bound : undefined
      const pins = readRequestPins(carrier, request, binding)
      return pindb.run(() => {
        if (writesBack && normalized.unsafeSets.length > 0 && !SAFE_METHODS.has(request.method.toUpperCase())) {
          for (const set of normalized.unsafeSets) pindb.pin(set)
        }
        // Bound to this unit of work: a response may be flushed from another async context
        // (a stream's callback, a framework's error path).
        const inUnit = AsyncResource.bind(<R>(f: () => R): R => f())
        /** What the last response headers carried, when someone watches for lost pins. */
        let sent: Map<string, SentPin> | undefined
        let ended = false
        const headers = (): [string, string][] => {
          if (!writesBack) return []
          return inUnit(() => {
            const out = responseHeaders(carrier, binding, request.secure === true)
            if (out !== undefined) sent = pinLostWatched(normalized.onPinLost) ? livePins(pindb) : undefined
            return out ?? []
          })
        }
        const unit: CarrierUnit = {
          writesBack,
          responseHeaders: headers,
          async responseHeadersAsync() {
            if (!writesBack) return []
            await inUnit(() => pindb.settlePositions())
            return headers()
          },
          end() {
            if (ended || sent === undefined) return
            ended = true
            const before = sent
            const lost = inUnit(() => lostSets(before, livePins(pindb)))
            if (lost.length > 0) {
              reportPinLost({ sets: lost, reason: 'headers-sent', method: request.method.toUpperCase(), path: pathOf(request.url) }, normalized.onPinLost)
            }
          },
          get watchesLostPins() {
            return writesBack && pinLostWatched(normalized.onPinLost)
          },
        }
        return fn(unit)
      }, { pins })
    },
  }
  return carrier
}

/** The current unit of work's live pins, as far as losing them matters. */
function livePins(pindb: PinDb<object>): Map<string, SentPin> {
  return new Map(pindb.capturePins().map((pin) => [pin.set, { newly: pindb.isNewlyPinned(pin.set), position: pin.position }]))
}

/**
 * The response headers carrying the current unit of work's live pins; undefined when pindb is
 * disabled or carries pins in neither a cookie nor a header (nothing could travel, nothing be lost).
 */
function responseHeaders(carrier: PinCarrier, binding: string | undefined, https: boolean): [string, string][] | undefined {
  const { pindb, options } = carrier
  if (!pindb.enabled || (options.cookie === undefined && options.header === undefined)) return undefined
  const pins = pindb.capturePins()
  const token = encodePins(carrier.codec, pins, 'response', options.onTokenRejected, binding)
  if (token === null) return []
  const out: [string, string][] = []
  if (options.cookie !== undefined) {
    const now = pindb.options.clock()
    const latest = Math.min(Math.max(...pins.map((pin) => pin.expiresAt)), now + pindb.options.pinMs)
    out.push(['set-cookie', setCookie(options, token, Math.max(1, Math.ceil((latest - now) / 1000)), https)])
  }
  if (options.header !== undefined) out.push([options.header, token])
  return out
}

/**
 * Marks the current request (or job) as a write: pins `sets` (a DB set or replica alias, or a
 * list; default every DB set) in the current unit of work, so its later reads go to the primary
 * and the middleware carries the pins on — for writes pindb cannot see (an HTTP call to another
 * service, a cache) or a handler that wants the next request pinned anyway.
 *
 * @throws {@link PinDbError} `PINDB_NO_CONTEXT` outside a unit of work (no middleware, no `pindb.run`);
 *   {@link PinDbConfigError} for an unknown or unmanaged alias.
 *
 * @example
 * ```ts
 * app.post('/profile', async (req, res) => {
 *   await profileService.update(req.body) // writes through another service
 *   markWrite(pindb, 'default')
 *   res.redirect('/profile')
 * })
 * ```
 */
export function markWrite(pindb: PinDb<object>, sets?: string | readonly string[]): void {
  const list = sets === undefined ? [...pindb.topology.sets.keys()] : typeof sets === 'string' ? [sets] : sets
  for (const set of list) pindb.pin(set)
}

/** The part of a Node `IncomingMessage` (or an Express, Fastify or Koa request) the middleware read. */
export interface NodeRequestLike {
  /** The HTTP method. */
  readonly method?: string | undefined
  /** The request target (path and query). */
  readonly url?: string | undefined
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** Express's HTTPS flag (honours its `trust proxy` setting). */
  readonly secure?: boolean | undefined
  /** The connection: a TLS socket (Node's `https`) has `encrypted: true`. */
  readonly socket?: object | undefined
}

/**
 * A {@link CarrierRequest} over a Node-style request. `url` overrides `req.url` (Express's
 * `originalUrl`); `secure` tells whether the request came over HTTPS (default: Express's
 * `req.secure` when there is one, else whether the socket is a TLS socket).
 */
export function nodeCarrierRequest(req: NodeRequestLike, url?: string, secure?: () => boolean): CarrierRequest {
  return {
    method: req.method ?? 'GET',
    url: url ?? req.url ?? '/',
    header: (name) => req.headers[name],
    headers: () => Object.entries(req.headers),
    get secure() {
      if (secure !== undefined) return secure()
      return typeof req.secure === 'boolean' ? req.secure : (req.socket as { encrypted?: unknown } | undefined)?.encrypted === true
    },
  }
}
