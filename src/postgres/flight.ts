/**
 * Running one postgres.js query on the server routing chose — and again on another after a
 * failover. A postgres.js query is a `Promise` that the connection settles by calling its
 * `resolve` / `reject`; a {@link Flight} intercepts those two so that each attempt settles an
 * attempt promise (which the shared failover loop awaits) and only the final outcome reaches the
 * caller. Everything else (`.values()`, `.raw()`, `.cursor()`, `.forEach()`, `.describe()`,
 * `.simple()`) stays on the query, where the connection reads it.
 *
 * @module
 */
import type { PgjsHandler, PgjsQuery } from './types.js'

/**
 * @internal An error carried through the failover loop. Without `code` it is never retried (the
 * statement failed, or rows were already streamed to the caller); with `code: '08006'` it is a
 * lost connection, which postgres.js reports with codes of its own.
 */
export class Carried {
  constructor(readonly error: unknown, readonly code?: string) {}
}

/** @internal The caller's error of a settled attempt chain. */
export function uncarry(err: unknown): unknown {
  return err instanceof Carried ? err.error : err
}

/** postgres.js's own codes for a connection that was lost or never opened. */
const CONNECTION_LOST = new Set(['CONNECTION_CLOSED', 'CONNECT_TIMEOUT'])

/** @internal Where a query can run: a postgres.js scope's handler and canceller. */
export interface PgjsTarget {
  readonly handler: PgjsHandler
  readonly cancel: ((query: PgjsQuery) => unknown) | null
}

/** @internal The target of a postgres.js scope (pool, reserved connection, transaction), read off a query it makes. */
export function targetOf(sql: { unsafe(query: string): PgjsQuery }): PgjsTarget {
  const probe = sql.unsafe('')
  return { handler: probe.handler, cancel: probe.canceller }
}

/** @internal The postgres.js error of a query cancelled before it reached a server. */
export function cancelError(): Error {
  return Object.assign(new Error('57014: canceling statement due to user request'), { code: '57014' })
}

/** @internal `err`, carried as a lost connection when postgres.js says so. */
export function carryLost(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && CONNECTION_LOST.has(code) ? new Carried(err, '08006') : err
}

const flights = new WeakMap<PgjsQuery, Flight>()

/** @internal One routed query: its attempts and its final outcome. */
export class Flight {
  readonly #query: PgjsQuery
  #resolve: (value: unknown) => void
  #reject: (err: unknown) => void
  #attempt: { resolve(value: unknown): void; reject(err: unknown): void } | undefined
  #tries = 0
  #cancelled: unknown

  /** The flight of a query (created on its first use). */
  static of(query: PgjsQuery): Flight {
    let flight = flights.get(query)
    if (flight === undefined) flights.set(query, (flight = new Flight(query)))
    return flight
  }

  private constructor(query: PgjsQuery) {
    this.#query = query
    this.#resolve = query.resolve
    this.#reject = query.reject
    const resolve = (value: unknown): void => this.#settled(true, value)
    const reject = (err: unknown): void => this.#settled(false, err)
    if (query.cursorRows === undefined) {
      query.resolve = resolve
      query.reject = reject
      return
    }
    // A cursor's iterator sets new resolve / reject functions on every next(): they are the caller's.
    Object.defineProperty(query, 'resolve', { configurable: true, get: () => resolve, set: (fn: (value: unknown) => void) => { this.#resolve = fn } })
    Object.defineProperty(query, 'reject', { configurable: true, get: () => reject, set: (fn: (err: unknown) => void) => { this.#reject = fn } })
  }

  #settled(ok: boolean, value: unknown): void {
    const query = this.#query
    const streamed = query.active && (query.cursorFn !== undefined || query.forEachFn !== undefined)
    query.active = false
    const attempt = this.#attempt
    this.#attempt = undefined
    if (attempt === undefined) {
      // postgres.js cancelled the query between two attempts.
      if (!ok) this.cancel(value)
      return
    }
    if (ok) attempt.resolve(value)
    else attempt.reject(streamed ? new Carried(value) : carryLost(value))
  }

  /** Runs one attempt on `target`; settles when the connection settles the query. */
  run(target: PgjsTarget): Promise<unknown> {
    const query = this.#query
    // postgres.js marks a query cancelled between two attempts (its `cancelled`) without settling it.
    if (this.#tries > 0 && query.cancelled) this.cancel(cancelError())
    if (this.#cancelled !== undefined) return Promise.reject(new Carried(this.#cancelled))
    return new Promise((resolve, reject) => {
      this.#attempt = { resolve, reject }
      if (this.#tries++ > 0) {
        // What the connection set on the failed attempt: built again from strings and args.
        query.state = query.statement = query.retried = query.prepared = query.describeFirst = query.cancelled = null
        query.parameters = undefined
      }
      query.canceller = target.cancel
      try {
        target.handler(query)
      } catch (err) {
        this.#attempt = undefined
        reject(err)
      }
    })
  }

  /** Delivers the outcome of the attempts to the caller. */
  land(outcome: Promise<unknown>): void {
    outcome.then((value) => this.#resolve(value), (err: unknown) => this.#reject(uncarry(err)))
  }

  /** Fails the query for the caller now (`err` thrown while routing it, or a cancel). */
  fail(err: unknown): void {
    this.#reject(err)
  }

  /** Cancelled before (or between) attempts: no further attempt starts. */
  cancel(err: unknown): void {
    if (this.#cancelled !== undefined) return
    this.#cancelled = err
    this.#reject(err)
  }

  /** @internal The flight of a query, if it has taken off. */
  static find(query: PgjsQuery): Flight | undefined {
    return flights.get(query)
  }
}
