/**
 * Pin headers on a Node `http` response (`ServerResponse`), shared by the Express and
 * Koa middleware: set just before the headers are flushed (`writeHead`, implicit or explicit), so
 * streamed, redirected and error responses carry them too; with causal reads, the first write is
 * held until the replication positions are settled. Once the headers are out, the end of the
 * response is watched for pins made too late to travel ({@link CarrierUnit.end}).
 *
 * @module
 */
import type { CarrierUnit } from './carrier.js'

/** The part of a Node `http` response (Express's, Koa's `ctx.res`) the middleware use. */
export interface NodeResponseLike {
  readonly headersSent: boolean
  getHeader(name: string): number | string | readonly string[] | undefined
  setHeader(name: string, value: number | string | readonly string[]): unknown
  writeHead(statusCode: number, ...rest: never[]): unknown
  write(chunk: never, ...rest: never[]): boolean
  end(...args: never[]): unknown
  flushHeaders?(): void
  destroy?(error?: Error): unknown
  once?(event: 'finish' | 'close', listener: () => void): unknown
}

type Method = 'writeHead' | 'write' | 'end' | 'flushHeaders'
type Patchable = Record<Method, ((...args: unknown[]) => unknown) | undefined>
const DEFERRED: readonly Method[] = ['writeHead', 'write', 'end', 'flushHeaders']

function asArray(value: unknown): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]
}

/** Sets the pin headers on `res` (a `set-cookie` is added to those already set). */
function setPinHeaders(res: NodeResponseLike, pairs: readonly [string, string][]): void {
  if (res.headersSent) return
  for (const [name, value] of pairs) {
    res.setHeader(name, name === 'set-cookie' ? [...asArray(res.getHeader('set-cookie')), value] : value)
  }
}

/**
 * `writeHead(status, [message,] headers)` with a headers object that sets `Set-Cookie` would replace
 * the pin cookie: add it there too.
 */
function withPinCookie(args: unknown[], pairs: readonly [string, string][]): unknown[] {
  const last = args.length - 1
  const headers = args[last]
  if (last < 1 || typeof headers !== 'object' || headers === null || Array.isArray(headers)) return args
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'set-cookie')
  const cookies = pairs.filter(([name]) => name === 'set-cookie').map(([, value]) => value)
  if (key === undefined || cookies.length === 0) return args
  const merged = { ...headers, [key]: [...asArray((headers as Record<string, unknown>)[key]), ...cookies] }
  return [...args.slice(0, last), merged]
}

/** Sets the pin headers when the response's headers are about to be written (`writeHead`, implicit or not). */
export function interceptWriteHead(res: NodeResponseLike, unit: CarrierUnit): void {
  const patchable = res as unknown as Patchable
  const original = patchable.writeHead!
  let done = false
  patchable.writeHead = function pinDbWriteHead(this: unknown, ...args: unknown[]): unknown {
    if (!done) {
      done = true
      const pairs = unit.responseHeaders()
      setPinHeaders(res, pairs)
      watchEnd(res, unit)
      args = withPinCookie(args, pairs)
    }
    return Reflect.apply(original, this, args)
  }
}

/**
 * Causal reads: the pins' replication positions need one async round trip, so the first
 * `writeHead`/`write`/`end`/`flushHeaders` and everything after it are held until it is done, then
 * the headers are set and the calls replayed in order. Held writes report no back-pressure.
 */
export function deferUntilSettled(res: NodeResponseLike, unit: CarrierUnit): void {
  const patchable = res as unknown as Patchable
  const originals = new Map(DEFERRED.map((m) => [m, patchable[m]] as const))
  let queue: [Method, unknown[]][] | undefined
  const release = (pairs: [string, string][]): void => {
    for (const [m, fn] of originals) patchable[m] = fn
    setPinHeaders(res, pairs)
    watchEnd(res, unit)
    for (const [m, args] of queue ?? []) {
      const fn = patchable[m]
      if (fn !== undefined) Reflect.apply(fn, res, m === 'writeHead' ? withPinCookie(args, pairs) : args)
    }
  }
  for (const m of DEFERRED) {
    if (originals.get(m) === undefined) continue
    patchable[m] = function pinDbDeferred(this: unknown, ...args: unknown[]): unknown {
      if (queue === undefined) {
        queue = []
        unit.responseHeadersAsync().catch(() => []).then(release).catch((error: unknown) => {
          res.destroy?.(error instanceof Error ? error : new Error(String(error)))
        })
      }
      queue.push([m, args])
      return m === 'write' ? true : m === 'flushHeaders' ? undefined : this
    }
  }
}

/** Reports pins lost to a response whose headers went out before them, when the response ends. */
function watchEnd(res: NodeResponseLike, unit: CarrierUnit): void {
  if (res.once === undefined || !unit.watchesLostPins) return
  const end = (): void => unit.end()
  res.once('finish', end)
  res.once('close', end)
}

/**
 * Installs the pin headers on `res` for `unit`: at `writeHead`, or — causal reads — after the
 * positions are settled, holding the response's writes until then.
 */
export function installPinHeaders(res: NodeResponseLike, unit: CarrierUnit, causal: boolean): void {
  if (!unit.writesBack) return
  if (causal) deferUntilSettled(res, unit)
  else interceptWriteHead(res, unit)
}
