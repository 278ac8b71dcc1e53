/**
 * The part of Next.js's request APIs (`next/headers`) that `pindb/next` uses, typed structurally
 * so that pindb does not depend on Next's types, and loaded lazily so that `next` stays an
 * optional peer needed only by this entry.
 *
 * @module
 */
import { PinDbError } from '../errors.js'
import type { CarrierRequest } from '../http/index.js'

/** One cookie, as Next's cookie store returns it. */
export interface NextCookie {
  /** Cookie name. */
  readonly name: string
  /** Cookie value. */
  readonly value: string
}

/** Attributes of a cookie set through Next's cookie store (`cookies().set(name, value, options)`). */
export interface NextCookieAttributes {
  /** Lifetime in seconds. */
  maxAge?: number
  /** `Path` attribute. */
  path?: string
  /** `Domain` attribute. */
  domain?: string
  /** `HttpOnly` (always true for the pin cookie). */
  httpOnly?: boolean
  /** `Secure` attribute. */
  secure?: boolean
  /** `SameSite` attribute, lower case as Next writes it. */
  sameSite?: 'lax' | 'strict' | 'none'
}

/** The part of the store `await cookies()` returns that pindb uses. */
export interface NextCookieStore {
  /** Every cookie of that name the request carries (Next keeps one per name). */
  getAll(name: string): NextCookie[]
  /** Only allowed in server actions and route handlers: Next throws during a render. */
  set(name: string, value: string, attributes: NextCookieAttributes): unknown
}

/** The part of `next/headers` pindb uses: pass `await import('next/headers')`, or let pindb import it. */
export interface NextRequestApis {
  /** `next/headers`'s `cookies()`. */
  cookies(): Promise<NextCookieStore>
  /** `next/headers`'s `headers()`. */
  headers(): Promise<{ get(name: string): string | null; entries(): Iterable<[string, string]> }>
}

let loaded: Promise<NextRequestApis> | undefined

/** @internal `next/headers`, imported on first use, with an error naming the package and the fix. */
export function loadNextRequestApis(): Promise<NextRequestApis> {
  // A literal specifier, so that Next's bundler can resolve it (a computed one would not bundle).
  loaded ??= import('next/headers.js').then(
    (mod) => mod as unknown as NextRequestApis,
    (cause: unknown) => {
      loaded = undefined
      throw new PinDbError('PINDB_DRIVER_MISSING', '[next] could not load "next/headers". Install Next.js (`npm install next`), or pass `{ next: await import(\'next/headers\') }` to createPinDbNext().', { cause })
    },
  )
  return loaded
}

/**
 * A {@link CarrierRequest} for the request being handled, built from Next's request APIs: the pin
 * cookie comes from the cookie store — which, in the render that follows a server action, already
 * holds the cookies that action set — and the token header from the request headers.
 *
 * @internal
 */
export async function nextCarrierRequest(apis: NextRequestApis, method: string, cookieName: string | undefined): Promise<CarrierRequest> {
  const [store, headers] = await Promise.all([apis.cookies(), apis.headers()])
  const cookie = cookieName === undefined ? '' : store.getAll(cookieName).map((c) => `${cookieName}=${c.value}`).join('; ')
  return {
    method,
    url: headers.get('next-url') ?? '/',
    header: (name) => (name === 'cookie' ? cookie : headers.get(name)),
    headers: () => [...headers.entries()].map(([name, value]) => [name, name === 'cookie' ? cookie : value] as const),
    secure: (headers.get('x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase() === 'https',
  }
}

/**
 * Sets a `Set-Cookie` value pindb produced (`name=value; Max-Age=…; Path=…; HttpOnly; SameSite=…[; Secure][; Domain=…]`)
 * through Next's cookie store, so that Next sends it with the action's (or redirect's) response.
 *
 * @internal
 */
export function setCookieThroughStore(store: NextCookieStore, setCookie: string): void {
  const [pair = '', ...parts] = setCookie.split('; ')
  const eq = pair.indexOf('=')
  const attributes: NextCookieAttributes = {}
  for (const part of parts) {
    const [key = '', value = ''] = part.split('=')
    switch (key.toLowerCase()) {
      case 'max-age': attributes.maxAge = Number(value); break
      case 'path': attributes.path = value; break
      case 'domain': attributes.domain = value; break
      case 'httponly': attributes.httpOnly = true; break
      case 'secure': attributes.secure = true; break
      case 'samesite': attributes.sameSite = value.toLowerCase() as 'lax' | 'strict' | 'none'; break
    }
  }
  store.set(pair.slice(0, eq), pair.slice(eq + 1), attributes)
}
