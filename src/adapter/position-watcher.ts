/**
 * Causal waits without load amplification: one watcher per replica polls its replay position while
 * any read waits on it (however many wait), holding no pooled connection between polls, and every
 * waiter's wait is bounded by its own `timeoutMs` in wall time — a poll that hangs does not extend it.
 *
 * @module
 */
import { positionReached } from '../position.js'

/** @internal Reads a replica's replay position. */
export type ReplayPositionOf = (alias: string) => Promise<string>

/** A poll that does not answer within this is abandoned (the next one starts). */
const POLL_TIMEOUT_MS = 1000

interface Waiter {
  readonly position: string
  readonly resolve: (reached: boolean) => void
  readonly timer: NodeJS.Timeout
}

/** @internal One per routed pool. */
export class PositionWatchers {
  readonly #positionOf: ReplayPositionOf
  readonly #pollMs: number
  readonly #waiters = new Map<string, Set<Waiter>>()
  /** Polls run by the watchers (for tests and stats). */
  polls = 0

  constructor(positionOf: ReplayPositionOf, pollMs = 20) {
    this.#positionOf = positionOf
    this.#pollMs = pollMs
  }

  /** Waits up to `timeoutMs` for replica `alias` to replay `position`; true when it did. */
  wait(alias: string, position: string, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let set = this.#waiters.get(alias)
      const first = set === undefined
      if (set === undefined) this.#waiters.set(alias, (set = new Set()))
      const waiters = set
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => {
          waiters.delete(waiter)
          resolve(false)
        }, Math.max(0, timeoutMs)),
      }
      waiters.add(waiter)
      if (first) void this.#watch(alias)
    })
  }

  async #watch(alias: string): Promise<void> {
    for (;;) {
      const waiters = this.#waiters.get(alias)
      if (waiters === undefined || waiters.size === 0) {
        this.#waiters.delete(alias)
        return
      }
      this.polls++
      let timer: NodeJS.Timeout | undefined
      const replayed = await Promise.race([
        this.#positionOf(alias).catch(() => undefined),
        new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), POLL_TIMEOUT_MS) }),
      ]).finally(() => clearTimeout(timer))
      if (replayed !== undefined) {
        for (const waiter of [...waiters]) {
          if (!positionReached(replayed, waiter.position)) continue
          clearTimeout(waiter.timer)
          waiters.delete(waiter)
          waiter.resolve(true)
        }
      }
      if (waiters.size === 0) continue
      await new Promise((resolve) => setTimeout(resolve, this.#pollMs).unref())
    }
  }
}
