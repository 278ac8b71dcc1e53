/**
 * Server endpoints for the doctor: the `host:port` an alias's config connects to, and whether the
 * endpoint a replica replicates from is the same server (host names resolved with DNS).
 *
 * @internal
 * @module
 */
import { lookup } from 'node:dns/promises'
import type { DriverName } from './types.js'

/** A host and port. */
export interface Endpoint {
  host: string
  port: number
}

const LOOPBACK = 'loopback'

function fromUrl(value: unknown): { host?: string; port?: number } {
  if (typeof value !== 'string') return {}
  try {
    const url = new URL(value)
    const host = decodeURIComponent(url.hostname).replace(/^\[|\]$/g, '')
    return { ...(host === '' ? {} : { host }), ...(url.port === '' ? {} : { port: Number(url.port) }) }
  } catch {
    return {}
  }
}

/** The endpoint a connection config points at, with the driver's defaults. */
export function endpointOf(driver: DriverName, config: object): Endpoint {
  const c = config as Record<string, unknown>
  const url = fromUrl(driver === 'pg' ? c['connectionString'] : c['uri'])
  const envHost = driver === 'pg' ? process.env['PGHOST'] : undefined
  const envPort = driver === 'pg' ? process.env['PGPORT'] : undefined
  const host = typeof c['host'] === 'string' && c['host'] !== '' ? c['host'] : url.host ?? (envHost || 'localhost')
  const rawPort = c['port'] ?? url.port ?? (envPort || (driver === 'pg' ? 5432 : 3306))
  const port = Number(rawPort)
  return { host, port: Number.isInteger(port) && port > 0 ? port : driver === 'pg' ? 5432 : 3306 }
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatEndpoint(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`
}

function canonical(address: string): string {
  const a = address.trim().toLowerCase().replace(/\/\d+$/, '').replace(/^::ffff:(?=\d+\.)/, '')
  if (a === 'localhost' || a === '::1' || /^127\./.test(a) || a.startsWith('/')) return LOOPBACK
  return a
}

const cache = new Map<string, Promise<Set<string>>>()

/** The addresses a host name (or address, or Unix socket directory) stands for; itself when it does not resolve. */
export function addressesOf(host: string): Promise<Set<string>> {
  const key = host.trim().toLowerCase()
  let found = cache.get(key)
  if (found === undefined) {
    const own = canonical(key)
    found = own === LOOPBACK || /^[\d.]+$/.test(own) || own.includes(':')
      ? Promise.resolve(new Set([own]))
      : lookup(key, { all: true }).then(
        (list) => new Set([own, ...list.map((entry) => canonical(entry.address))]),
        () => new Set([own]),
      )
    cache.set(key, found)
  }
  return found
}

/**
 * Whether `target` (for example the host and port a replica streams from) is one of `candidates`
 * (the primary's configured and server-reported endpoints): same port, and a shared address.
 */
export async function endpointMatches(target: Endpoint, candidates: readonly Endpoint[]): Promise<boolean> {
  const wanted = await addressesOf(target.host)
  for (const c of candidates) {
    if (c.port !== target.port) continue
    for (const address of await addressesOf(c.host)) if (wanted.has(address)) return true
  }
  return false
}
