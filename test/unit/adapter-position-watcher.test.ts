/**
 * The causal position watchers (src/adapter/position-watcher.ts): one poll loop per replica
 * however many reads wait on it, each waiter bounded by its own timeout (a poll that hangs does
 * not extend it), and no polling once nobody waits. A fake `positionOf` with short real timers.
 */
import { describe, expect, it } from 'vitest'
import { PositionWatchers } from '../../src/adapter/position-watcher.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const lsn = (n: number) => `0/${n.toString(16).toUpperCase()}`

/** A replica whose replay position advances by 1 per poll; records concurrent polls per alias. */
function replicas() {
  const at = new Map<string, number>()
  const inFlight = new Map<string, number>()
  const maxInFlight = new Map<string, number>()
  const positionOf = async (alias: string): Promise<string> => {
    const n = (inFlight.get(alias) ?? 0) + 1
    inFlight.set(alias, n)
    maxInFlight.set(alias, Math.max(maxInFlight.get(alias) ?? 0, n))
    await sleep(2)
    inFlight.set(alias, n - 1)
    const next = (at.get(alias) ?? 0) + 1
    at.set(alias, next)
    return lsn(next)
  }
  return { positionOf, maxInFlight, at }
}

describe('PositionWatchers', () => {
  it('one poll loop per replica however many waiters; each resolves true once its position is replayed', async () => {
    const r = replicas()
    const watchers = new PositionWatchers(r.positionOf, 1)
    const waits = [
      ...Array.from({ length: 20 }, (_, i) => watchers.wait('default-0', lsn(1 + (i % 5)), 5000)),
      ...Array.from({ length: 5 }, () => watchers.wait('default-1', lsn(3), 5000)),
    ]
    expect(await Promise.all(waits)).toEqual(Array(25).fill(true))
    expect(r.maxInFlight.get('default-0')).toBe(1)
    expect(r.maxInFlight.get('default-1')).toBe(1)
    // 20 waiters on positions 1..5 of default-0 took 5 polls, not 20 or 100.
    expect(r.at.get('default-0')).toBe(5)
  })

  it('each waiter is bounded by its own timeout, even while a poll hangs', async () => {
    let polls = 0
    const watchers = new PositionWatchers(() => {
      polls++
      return new Promise<string>(() => {}) // never answers
    }, 1)
    const order: string[] = []
    const short = watchers.wait('default-0', lsn(1), 20).then((ok) => { order.push('short'); return ok })
    const long = watchers.wait('default-0', lsn(1), 80).then((ok) => { order.push('long'); return ok })
    expect(await Promise.race([Promise.all([short, long]), sleep(5000).then(() => 'hung')])).toEqual([false, false])
    expect(order).toEqual(['short', 'long'])
    expect(polls).toBe(1) // one hanging poll, shared
  })

  it('a waiter whose position is never reached times out; the loop stops polling once nobody waits', async () => {
    const r = replicas()
    const watchers = new PositionWatchers(r.positionOf, 1)
    expect(await watchers.wait('default-0', lsn(1_000_000), 30)).toBe(false)
    await sleep(20) // let the loop notice
    const polls = watchers.polls
    await sleep(50)
    expect(watchers.polls).toBe(polls)
  })

  it('a failing poll is retried; the waiter still resolves true when the replica catches up', async () => {
    let calls = 0
    const watchers = new PositionWatchers(async () => {
      calls++
      if (calls < 3) throw new Error('connection refused')
      return lsn(10)
    }, 1)
    expect(await watchers.wait('default-0', lsn(5), 5000)).toBe(true)
    expect(calls).toBe(3)
  })
})
