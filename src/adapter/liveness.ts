/**
 * Liveness: no caller waits on a dead or hung server for longer than a bounded time, and a slow
 * query on a live server is never cut short. pindb does not time statements; while a statement has
 * been in flight on a server for `probeAfterMs`, it opens a *fresh* connection to that server and
 * runs a trivial query. If that probe fails or does not answer within `probeTimeoutMs`, the server
 * is hung or dead: it enters back-off, and every statement in flight on it is aborted (its
 * connection destroyed) — a replica read then fails over, anything else gets a
 * `ServerUnavailableError` that says the statement may have run. If the probe answers, the
 * statement is merely slow and keeps running (probed again after `probeAfterMs`).
 *
 * The same prober brings a replica back: while a replica is in back-off it is pinged every
 * `recoverEveryMs`, and the first answer ends its back-off, with or without a replica monitor.
 *
 * @module
 */
import { ServerUnavailableError } from '../errors.js'
import type { RoutingSeam } from './seam.js'

/** Liveness bounds (milliseconds). */
export interface LivenessOptions {
  /** Longest wait for a new connection to a server. Default 2000. */
  connectTimeoutMs?: number
  /** A statement in flight this long triggers a liveness probe of its server. Default 1000. */
  probeAfterMs?: number
  /** A probe not answered within this is a hung server. Default 1000. */
  probeTimeoutMs?: number
  /** How often a replica in back-off is pinged to bring it back. Default 500. */
  recoverEveryMs?: number
}

/** @internal Normalized {@link LivenessOptions}. */
export type LivenessBounds = Required<LivenessOptions>

/** @internal */
export const LIVENESS_DEFAULTS: LivenessBounds = Object.freeze({ connectTimeoutMs: 2000, probeAfterMs: 1000, probeTimeoutMs: 1000, recoverEveryMs: 500 })

/** What the liveness prober needs from a driver. */
export interface LivenessDriver<Conn> {
  /** Opens a fresh connection to `alias`, runs a trivial query and closes it; rejects on failure. */
  ping(alias: string, timeoutMs: number): Promise<void>
  /** Destroys a connection whose server stopped answering (its statement then fails). */
  abort(conn: Conn): void
}

interface InFlight<Conn> {
  readonly conn: Conn
  readonly startedAt: number
  abort(err: Error): void
}

/** @internal One prober per routed pool. */
export class Liveness<Conn> {
  readonly #seam: RoutingSeam
  readonly #driver: LivenessDriver<Conn>
  readonly #bounds: LivenessBounds
  readonly #inflight = new Map<string, Set<InFlight<Conn>>>()
  readonly #probing = new Set<string>()
  readonly #lastAlive = new Map<string, number>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #recovery: NodeJS.Timeout
  readonly #replicas: readonly string[]
  #closed = false

  constructor(seam: RoutingSeam, driver: LivenessDriver<Conn>, bounds: LivenessBounds, replicas: readonly string[]) {
    this.#seam = seam
    this.#driver = driver
    this.#bounds = bounds
    this.#replicas = replicas
    this.#recovery = setInterval(() => this.#recover(), bounds.recoverEveryMs)
    this.#recovery.unref()
  }

  /** Runs a statement on `conn` (a connection to `alias`) under watch. */
  watch<T>(alias: string, conn: Conn, run: () => Promise<T>): Promise<T> {
    let entry!: InFlight<Conn>
    const aborted = new Promise<never>((_, reject) => {
      entry = { conn, startedAt: Date.now(), abort: reject }
    })
    let set = this.#inflight.get(alias)
    if (set === undefined) this.#inflight.set(alias, (set = new Set()))
    set.add(entry)
    if (!this.#timers.has(alias)) this.#startTimer(alias)
    const statement = run()
    return Promise.race([statement, aborted]).finally(() => {
      set.delete(entry)
      if (set.size === 0) this.#stopTimer(alias)
    })
  }

  #startTimer(alias: string): void {
    const timer = setInterval(() => this.#check(alias), Math.max(25, Math.floor(this.#bounds.probeAfterMs / 4)))
    timer.unref()
    this.#timers.set(alias, timer)
  }

  #stopTimer(alias: string): void {
    const timer = this.#timers.get(alias)
    if (timer !== undefined) clearInterval(timer)
    this.#timers.delete(alias)
  }

  #check(alias: string): void {
    const set = this.#inflight.get(alias)
    if (set === undefined || set.size === 0 || this.#probing.has(alias) || this.#closed) return
    const now = Date.now()
    const since = Math.max(this.#lastAlive.get(alias) ?? 0, Math.min(...[...set].map((e) => e.startedAt)))
    if (now - since < this.#bounds.probeAfterMs) return
    this.#probing.add(alias)
    const probedAt = now
    void this.#ping(alias).then((alive) => {
      this.#probing.delete(alias)
      if (alive) {
        this.#lastAlive.set(alias, probedAt)
        return
      }
      this.#seam.reportFailure(alias)
      const err = new ServerUnavailableError(alias, true, `stopped answering: a statement was in flight for over ${this.#bounds.probeAfterMs} ms and a probe on a fresh connection got no answer within ${this.#bounds.probeTimeoutMs} ms`)
      for (const entry of [...(this.#inflight.get(alias) ?? [])]) {
        if (entry.startedAt > probedAt) continue
        entry.abort(err)
        try {
          this.#driver.abort(entry.conn)
        } catch {
          // Already gone.
        }
      }
    })
  }

  /** True when the server answered a fresh connection within the probe timeout. */
  #ping(alias: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#bounds.probeTimeoutMs)
    })
    const ping = this.#driver.ping(alias, this.#bounds.probeTimeoutMs).then(() => true, () => false)
    return Promise.race([ping, timeout]).finally(() => clearTimeout(timer))
  }

  /** Pings replicas in back-off; the first answer ends the back-off. */
  #recover(): void {
    if (this.#closed) return
    const now = this.#seam.now()
    for (const alias of this.#replicas) {
      if (!this.#seam.servers.isDown(alias, now) || this.#probing.has(`recover:${alias}`)) continue
      this.#probing.add(`recover:${alias}`)
      void this.#ping(alias).then((alive) => {
        this.#probing.delete(`recover:${alias}`)
        if (alive && !this.#closed) this.#seam.reportSuccess(alias)
      })
    }
  }

  /** Stops every timer. */
  close(): void {
    this.#closed = true
    clearInterval(this.#recovery)
    for (const alias of [...this.#timers.keys()]) this.#stopTimer(alias)
  }
}
