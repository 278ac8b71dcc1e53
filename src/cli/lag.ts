/**
 * How the doctor measures a replica's lag, for any engine: read the replica's position, then the
 * primary's. Caught up (nothing the primary had is missing) → 0, whatever the time since the last
 * transaction. Behind → watch the replica until it has replayed the primary's position of that
 * moment: the time it takes is the lag (what the replica lacked was already committed when the
 * watch started). A replica that has not caught up within the limit lags at least that long.
 *
 * This replaces `now() - pg_last_xact_replay_timestamp()`, which is the time since the last
 * replayed transaction: on an idle database with one new write it read "56 s" for a replica
 * 3 s behind.
 *
 * @internal
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises'

/** How to read positions of one replica and its primary. */
export interface LagProbe {
  replicaPosition(): Promise<string>
  primaryPosition(): Promise<string>
  /** Whether a replica at `replica` has everything the primary had at `primary`. */
  reached(replica: string, primary: string): boolean
}

/** The measured lag. */
export interface LagMeasure {
  /** Milliseconds: 0 when caught up, else the catch-up time, or (with `atLeast`) the time watched. */
  ms: number
  /** True when the replica had not caught up when the watch ended: the lag is at least `ms`. */
  atLeast: boolean
  replicaPosition: string
  /** The primary's position the replica was compared with. */
  primaryPosition: string
  /** How the value was obtained, for the report. */
  basis: string
}

const POLL_MS = 50

/**
 * Measures the lag of one replica, watching it for at most `limitMs` when it is behind.
 * @throws whatever a position read throws.
 */
export async function measureLag(probe: LagProbe, limitMs: number, clock: () => number = Date.now): Promise<LagMeasure> {
  // Replica first: the primary's position read after it is never older, so "reached" means caught up.
  const first = await probe.replicaPosition()
  const start = clock()
  const primaryPosition = await probe.primaryPosition()
  if (probe.reached(first, primaryPosition)) {
    return { ms: 0, atLeast: false, replicaPosition: first, primaryPosition, basis: 'caught up: it had replayed everything the primary had written' }
  }
  let replicaPosition = first
  for (;;) {
    await sleep(POLL_MS)
    replicaPosition = await probe.replicaPosition()
    const elapsed = clock() - start
    if (probe.reached(replicaPosition, primaryPosition)) {
      return { ms: elapsed, atLeast: false, replicaPosition, primaryPosition, basis: `was behind; replayed the primary's position ${primaryPosition} within ${elapsed} ms` }
    }
    if (elapsed > limitMs) {
      return { ms: elapsed, atLeast: true, replicaPosition, primaryPosition, basis: `was behind; had not replayed the primary's position ${primaryPosition} after ${elapsed} ms` }
    }
  }
}
