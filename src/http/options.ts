/**
 * Options of the HTTP pin carriers (`pindb/express`, `pindb/fastify`, `pindb/koa`, `pindb/fetch`,
 * `pindb/http`): their types, defaults and validation — once, when the middleware is created.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import type { TokenRejectedHandler } from '../jobs.js'
import type { PinDb } from '../pindb.js'
import type { PinLostHandler } from './pin-lost.js'

/** What `exempt` is shown of a request. */
export interface PinRequestInfo {
  /** The method, upper case (`'POST'`). */
  readonly method: string
  /** The path, without the query string (`'/login'`). */
  readonly path: string
  /** The request headers: lower-case names, repeated headers joined with `', '` (`cookie` with `'; '`). */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The request's cookies, parsed with the `cookie` package (the first of a repeated name wins). */
  readonly cookies: Readonly<Record<string, string | undefined>>
}

/** The pin cookie's attributes. It is always `HttpOnly`. */
export interface PinCookieOptions {
  /** Cookie name. Default `'pindb'`. `__Host-` and `__Secure-` prefixes need `secure: true` (and `__Host-` no `domain`, path `/`). */
  name?: string
  /**
   * Send it only over HTTPS. Default: `Secure` exactly when the request came over HTTPS, as the
   * framework decides it (Express `req.secure` and Koa `ctx.secure`, which believe
   * `X-Forwarded-Proto` only when the app trusts the proxy; Fastify `request.protocol`, likewise
   * with `trustProxy`; the URL scheme for fetch handlers and Hono). `true` or `false` overrides it.
   * `true` is required for `sameSite: 'None'` and the `__Secure-` / `__Host-` name prefixes.
   */
  secure?: boolean
  /** `Domain` attribute. Default none (the exact host). */
  domain?: string
  /** `Path` attribute. Default `'/'`. */
  path?: string
  /** `SameSite` attribute. Default `'Lax'`. */
  sameSite?: 'Lax' | 'Strict' | 'None'
}

/** Options of every HTTP pin carrier. Only `secrets` is required. */
export interface PinCarrierOptions {
  /**
   * HMAC keys for the pin token, newest first: tokens are signed with the first and accepted when
   * signed with any (rotation). At least 32 bytes each; generate one with
   * `node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`.
   */
  secrets: readonly (string | Uint8Array)[]
  /** Carry pins in a cookie (browsers). Default `{}` (cookie `pindb`, `Path=/`, `HttpOnly`, `SameSite=Lax`); `false` turns it off. */
  cookie?: false | PinCookieOptions
  /**
   * Request and response header carrying the token, for API clients without cookies: send back
   * the value of the last response's header (and keep sending it while it is fresh). Default
   * `'x-pindb-token'`; `false` turns it off. Cross-origin browser clients need it listed in
   * `Access-Control-Expose-Headers`. A request that carries both a cookie and a header gets the
   * pins of every valid token, merged (per set, the later expiry wins): neither wins.
   */
  header?: false | string
  /**
   * Pin on the method, like django-multidb-router: `true` pins every DB set for requests whose
   * method is not safe (anything but GET, HEAD, OPTIONS, TRACE), a list pins those sets. Pinned
   * from the start of the request, so its reads go to the primary too. Default false: pindb pins on
   * actual writes (and {@link markWrite}), whatever the method.
   */
  pinOnUnsafeMethods?: boolean | readonly string[]
  /**
   * Requests whose pins are not written back (a login, a "like": POSTs that should not pin). An
   * exempt request still runs in a fresh context with its carried pins restored, so its own reads
   * stay consistent, but `pinOnUnsafeMethods` is skipped and no cookie or header is sent.
   */
  exempt?: (request: PinRequestInfo) => boolean
  /** Told about every rejected token (forged, expired, malformed, oversized, bound to another client) and failed encoding. The request proceeds unpinned either way. */
  onTokenRejected?: TokenRejectedHandler
  /**
   * Binds pin tokens to something of the client's, so that a token replayed by another client is
   * ignored: return a session id, a user id, an API key id… from the request (called once per
   * request, before any other middleware ran: read it from a header or cookie, e.g.
   * `(request) => request.cookies['sid']`). The token then carries a keyed hash of it (never the
   * value); a request whose binding differs — or that has none — gets no pins from a bound token,
   * and the rejection is reported as `'binding-mismatch'`. A token issued while the client had no
   * binding (before logging in) stays accepted. Errors it throws propagate, like `exempt`'s.
   */
  bind?: (request: PinRequestInfo) => string | undefined
  /**
   * Told when pins could not travel because they were made after the response's headers were sent
   * (a write while a response streams); also published on the `pindb:pin-lost` diagnostics
   * channel. The event (`PinLostEvent`) names the sets, the reason, the method and the path.
   */
  onPinLost?: PinLostHandler
}

/** @internal Validated cookie options. */
export interface NormalizedCookie {
  readonly name: string
  /** `; Path=…; HttpOnly; SameSite=…`. */
  readonly attributes: string
  /** `'; Domain=…'` or `''`. */
  readonly domain: string
  /** The `secure` option: undefined means "when the request is HTTPS". */
  readonly secure: boolean | undefined
}

/** @internal Validated carrier options. */
export interface NormalizedCarrierOptions {
  readonly secrets: readonly (string | Uint8Array)[]
  readonly cookie: NormalizedCookie | undefined
  /** Lower case. */
  readonly header: string | undefined
  /** DB sets pinned on unsafe methods (empty: none). */
  readonly unsafeSets: readonly string[]
  readonly exempt: ((request: PinRequestInfo) => boolean) | undefined
  readonly onTokenRejected: TokenRejectedHandler | undefined
  readonly bind: ((request: PinRequestInfo) => string | undefined) | undefined
  readonly onPinLost: PinLostHandler | undefined
}

const KNOWN = ['secrets', 'cookie', 'header', 'pinOnUnsafeMethods', 'exempt', 'onTokenRejected', 'bind', 'onPinLost']
const KNOWN_COOKIE = ['name', 'secure', 'domain', 'path', 'sameSite']
/** RFC 9110 `token`: header names, cookie names. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** Cookie attribute values: no controls, no `;`, no `,`, no whitespace (RFC 6265 §4.1.1, conservatively). */
const ATTRIBUTE_VALUE = /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+$/
/** Headers a pin token must never be carried in. */
const RESERVED_HEADERS = new Set(['cookie', 'set-cookie', 'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'authorization'])

function checkKeys(option: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new PinDbConfigError(option === '' ? key : `${option}.${key}`, `is not an option here. Known options: ${known.join(', ')}.`)
    }
  }
}

function normalizeCookie(cookie: unknown): NormalizedCookie | undefined {
  if (cookie === false) return undefined
  if (cookie === undefined) return normalizeCookie({})
  if (typeof cookie !== 'object' || cookie === null) {
    throw new PinDbConfigError('cookie', 'must be false or an object like { name, secure, domain, path, sameSite }.')
  }
  checkKeys('cookie', cookie, KNOWN_COOKIE)
  const { name = 'pindb', secure, domain, path = '/', sameSite = 'Lax' } = cookie as PinCookieOptions
  if (typeof name !== 'string' || !HTTP_TOKEN.test(name)) {
    throw new PinDbConfigError('cookie.name', `${JSON.stringify(name)} is not a valid cookie name: use letters, digits and !#$%&'*+.^_\`|~- only, e.g. 'pindb'.`)
  }
  if (secure !== undefined && typeof secure !== 'boolean') {
    throw new PinDbConfigError('cookie.secure', 'must be a boolean, or left out for `Secure` exactly on HTTPS requests.')
  }
  if (domain !== undefined && (typeof domain !== 'string' || !ATTRIBUTE_VALUE.test(domain))) {
    throw new PinDbConfigError('cookie.domain', `${JSON.stringify(domain)} is not a valid cookie domain, e.g. 'example.com'.`)
  }
  if (typeof path !== 'string' || !path.startsWith('/') || !/^[\x20-\x3a\x3c-\x7e]+$/.test(path)) {
    throw new PinDbConfigError('cookie.path', `${JSON.stringify(path)} is not a valid cookie path: it must start with '/' and contain no ';' or control characters.`)
  }
  if (sameSite !== 'Lax' && sameSite !== 'Strict' && sameSite !== 'None') {
    throw new PinDbConfigError('cookie.sameSite', `must be 'Lax', 'Strict' or 'None' (this exact case); got ${JSON.stringify(sameSite)}.`)
  }
  if (sameSite === 'None' && secure !== true) {
    throw new PinDbConfigError('cookie.sameSite', "browsers reject `SameSite=None` without `Secure`: add `secure: true` (and serve over HTTPS), or use 'Lax'.")
  }
  if ((name.startsWith('__Secure-') || name.startsWith('__Host-')) && secure !== true) {
    throw new PinDbConfigError('cookie.secure', `browsers reject a cookie named "${name}" without \`Secure\`: add \`secure: true\`.`)
  }
  if (name.startsWith('__Host-') && (domain !== undefined || path !== '/')) {
    throw new PinDbConfigError('cookie.domain', `a "__Host-" cookie must have no \`domain\` and \`path: '/'\`.`)
  }
  return { name, attributes: `; Path=${path}; HttpOnly; SameSite=${sameSite}`, domain: domain === undefined ? '' : `; Domain=${domain}`, secure }
}

function normalizeHeader(header: unknown): string | undefined {
  if (header === false) return undefined
  if (header === undefined) return 'x-pindb-token'
  if (typeof header !== 'string' || !HTTP_TOKEN.test(header)) {
    throw new PinDbConfigError('header', `${JSON.stringify(header)} is not a valid HTTP header name: use letters, digits and !#$%&'*+.^_\`|~- only, e.g. 'x-pindb-token'; or false for no header.`)
  }
  const lower = header.toLowerCase()
  if (RESERVED_HEADERS.has(lower)) {
    throw new PinDbConfigError('header', `"${header}" is a standard header and cannot carry the pin token; pick your own, e.g. 'x-pindb-token'.`)
  }
  return lower
}

function normalizeUnsafe(pindb: PinDb<object>, value: unknown): string[] {
  if (value === undefined || value === false) return []
  if (value === true) return [...pindb.topology.sets.keys()]
  if (!Array.isArray(value)) throw new PinDbConfigError('pinOnUnsafeMethods', 'must be a boolean or a list of DB sets, e.g. [\'default\'].')
  const sets = new Set<string>()
  for (const [i, alias] of (value as unknown[]).entries()) {
    const set = typeof alias === 'string' && pindb.topology.sets.has(alias) ? alias : undefined
    if (set === undefined) {
      throw new PinDbConfigError(`pinOnUnsafeMethods[${i}]`, `${JSON.stringify(alias)} is not a DB set. Known DB sets: ${[...pindb.topology.sets.keys()].join(', ')}.`)
    }
    sets.add(set)
  }
  return [...sets]
}

/** @internal Validates carrier options once; throws {@link PinDbConfigError} naming the option and the fix. */
export function normalizeCarrierOptions(pindb: PinDb<object>, options: PinCarrierOptions): NormalizedCarrierOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PinDbConfigError('options', "expected an options object with at least `secrets`, e.g. { secrets: [process.env.PINDB_SECRET] }.")
  }
  checkKeys('', options, KNOWN)
  const { exempt, onTokenRejected, bind, onPinLost } = options
  if (exempt !== undefined && typeof exempt !== 'function') {
    throw new PinDbConfigError('exempt', 'must be a function (request) => boolean.')
  }
  if (bind !== undefined && typeof bind !== 'function') {
    throw new PinDbConfigError('bind', "must be a function (request) => string | undefined, e.g. (request) => request.cookies['sid'].")
  }
  if (onPinLost !== undefined && typeof onPinLost !== 'function') {
    throw new PinDbConfigError('onPinLost', 'must be a function (event) => void.')
  }
  if (onTokenRejected !== undefined && typeof onTokenRejected !== 'function') {
    throw new PinDbConfigError('onTokenRejected', 'must be a function (event) => void.')
  }
  return Object.freeze({
    secrets: options.secrets,
    cookie: normalizeCookie(options.cookie),
    header: normalizeHeader(options.header),
    unsafeSets: Object.freeze(normalizeUnsafe(pindb, options.pinOnUnsafeMethods)),
    exempt,
    onTokenRejected,
    bind,
    onPinLost,
  })
}
