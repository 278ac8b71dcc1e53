/**
 * The liveness prober (src/adapter/liveness.ts) with a fake driver: a statement in flight past
 * `probeAfterMs` triggers a ping on a fresh connection; a ping that hangs or fails aborts the
 * statement (its connection destroyed, the server backed off), a ping that answers lets a slow
 * statement finish. Replicas in back-off are pinged back to health. Short real timers, bounded waits.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Liveness, type LivenessDriver } from '../../src/adapter/liveness.js'
import { seamOf } from '../../src/adapter/seam.js'
import { isPinDbError } from '../../src/index.js'
import { fakePinDb } from '../conformance/fake-host.js'

const BOUNDS = { connectTimeoutMs: 100, probeAfterMs: 40, probeTimeoutMs: 40, recoverEveryMs: 20 }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const never = <T>() => new Promise<T>(() => {})

interface Conn { id: number }
function driver(ping: () => Promise<void>): LivenessDriver<Conn> & { pings: number; aborted: Conn[] } {
  const d = {
    pings: 0,
    aborted: [] as Conn[],
    ping: () => {
      d.pings++
      return ping()
    },
    abort: (conn: Conn) => void d.aborted.push(conn),
  }
  return d
}

const probers: Liveness<Conn>[] = []
afterEach(() => {
  for (const p of probers.splice(0)) p.close()
})
function setup(ping: () => Promise<void>) {
  // Liveness reads Date.now() for in-flight ages; the pindb clock (back-off) is the real one here.
  const { pindb } = fakePinDb({ clock: Date.now })
  const d = driver(ping)
  const liveness = new Liveness<Conn>(seamOf(pindb), d, BOUNDS, ['default-0', 'default-1'])
  probers.push(liveness)
  return { pindb, d, liveness }
}

describe('a statement that never settles', () => {
  it.each([
    ['the ping hangs', () => never<void>()],
    ['the ping fails', () => Promise.reject(new Error('ECONNREFUSED'))],
  ])('is aborted when %s: ServerUnavailableError, connection destroyed, server backed off', async (_name, ping) => {
    const { pindb, d, liveness } = setup(ping)
    const conn = { id: 1 }
    const err = await Promise.race([liveness.watch('default-0', conn, () => never()).catch((e: unknown) => e), sleep(5000).then(() => 'still running')])
    expect(isPinDbError(err) && err.code).toBe('PINDB_SERVER_UNAVAILABLE')
    expect(d.aborted).toEqual([conn])
    expect(pindb.servers.get('default-0').failures).toBe(1)
  })

  it('is not aborted while the ping answers: it is probed again and again, and left running', async () => {
    const { pindb, d, liveness } = setup(() => Promise.resolve())
    const outcome = await Promise.race([liveness.watch('default-0', { id: 1 }, () => never()).then(() => 'settled', () => 'aborted'), sleep(BOUNDS.probeAfterMs * 8).then(() => 'running')])
    expect(outcome).toBe('running')
    expect(d.pings).toBeGreaterThan(1)
    expect(d.aborted).toEqual([])
    expect(pindb.servers.get('default-0').failures).toBe(0)
  })
})

describe('a slow statement on a live server', () => {
  it('is not cut short when the ping answers: it finishes, nothing aborted, no back-off', async () => {
    const { pindb, d, liveness } = setup(() => Promise.resolve())
    const result = await liveness.watch('default-0', { id: 1 }, async () => {
      await sleep(BOUNDS.probeAfterMs * 5)
      return 'done'
    })
    expect(result).toBe('done')
    expect(d.pings).toBeGreaterThan(0) // it was probed…
    expect(d.aborted).toEqual([]) // …and left alone
    expect(pindb.servers.get('default-0').failures).toBe(0)
  })

  it('a statement that settles quickly is never probed', async () => {
    const { d, liveness } = setup(() => never())
    expect(await liveness.watch('default-0', { id: 1 }, async () => 7)).toBe(7)
    await sleep(BOUNDS.probeAfterMs * 2)
    expect(d.pings).toBe(0)
  })
})

describe('recovery', () => {
  it('a replica in back-off is pinged and leaves back-off at its first answer', async () => {
    const { pindb, d } = setup(() => Promise.resolve())
    seamOf(pindb).reportFailure('default-1')
    const deadline = Date.now() + 5000
    while (pindb.servers.get('default-1').failures !== 0 && Date.now() < deadline) await sleep(10)
    expect(pindb.servers.get('default-1').failures).toBe(0)
    expect(d.pings).toBeGreaterThan(0)
  })

  it('stays in back-off while pings fail, and close() stops the pings', async () => {
    const { pindb, d, liveness } = setup(() => Promise.reject(new Error('down')))
    seamOf(pindb).reportFailure('default-1')
    const deadline = Date.now() + 5000
    while (d.pings < 2 && Date.now() < deadline) await sleep(10)
    expect(pindb.servers.get('default-1').failures).toBe(1)
    liveness.close()
    await sleep(BOUNDS.recoverEveryMs) // a ping already under way may still count
    const after = d.pings
    await sleep(BOUNDS.recoverEveryMs * 4)
    expect(d.pings).toBe(after)
  })
})
