/**
 * The replica monitor with a scripted probe and an injected clock: lag lower bound (`lagMs`, for
 * maxLag), upper bound (`caughtUpAt`, for causal mode's safety bound), health and back-off.
 */
import { describe, expect, it } from 'vitest'
import { createPinDb, ReplicaMonitor, type PositionProbe } from '../../src/index.js'

function setup() {
  const clock = { now: 1_000 }
  const pindb = createPinDb({ primaries: { default: {} }, replicas: { default: [{}] }, clock: () => clock.now, causal: true })
  const pos = { primary: '0/100', replica: '0/100' as string | Error }
  const probe: PositionProbe = {
    primaryPosition: async () => pos.primary,
    replicaPosition: async () => {
      if (pos.replica instanceof Error) throw pos.replica
      return pos.replica
    },
    bytesBetween: (a, b) => parseInt(b.split('/')[1]!, 16) - parseInt(a.split('/')[1]!, 16),
  }
  const monitor = new ReplicaMonitor(pindb, probe, ['default'], { intervalMs: 60_000 })
  return { pindb, clock, pos, monitor, state: pindb.servers.get('default-0') }
}

describe('ReplicaMonitor', () => {
  it('a caught-up replica: lag 0, caughtUpAt = the last check', async () => {
    const { clock, monitor, state } = setup()
    await monitor.checkNow()
    expect(state).toMatchObject({ position: '0/100', lagMs: 0, lagBytes: 0, caughtUpAt: 1_000, checkedAt: 1_000 })
    clock.now = 2_000
    await monitor.checkNow() // idle primary: still caught up, bound refreshed
    expect(state).toMatchObject({ lagMs: 0, caughtUpAt: 2_000 })
  })

  it('a replica behind: lagMs is the time since the primary was first seen past it, caughtUpAt the last time it was not', async () => {
    const { clock, pos, monitor, state } = setup()
    await monitor.checkNow() // t=1000: both at 0/100
    clock.now = 2_000
    pos.primary = '0/200'
    pos.replica = '0/100'
    await monitor.checkNow() // t=2000: primary moved, replica did not
    expect(state).toMatchObject({ lagMs: 0, caughtUpAt: 1_000, lagBytes: 0x100 })
    clock.now = 5_000
    await monitor.checkNow() // t=5000: still behind
    expect(state).toMatchObject({ lagMs: 3_000, caughtUpAt: 1_000 })
    clock.now = 6_000
    pos.replica = '0/200'
    await monitor.checkNow()
    expect(state).toMatchObject({ lagMs: 0, caughtUpAt: 6_000, lagBytes: 0 })
  })

  it('a replica behind the oldest known primary position: lag unknown (maxLag treats it as lagging)', async () => {
    const { pos, monitor, state } = setup()
    pos.primary = '0/200'
    pos.replica = '0/100'
    await monitor.checkNow()
    expect(state.lagMs).toBeUndefined()
    expect(state.caughtUpAt).toBeUndefined()
    expect(state.position).toBe('0/100')
  })

  it('a failed check: unknown lag, back-off; the next answer ends the back-off at once', async () => {
    const { pindb, clock, pos, monitor, state } = setup()
    pos.replica = new Error('connection refused')
    await monitor.checkNow()
    expect(state).toMatchObject({ lagMs: undefined, caughtUpAt: undefined, failures: 1 })
    expect(pindb.servers.isDown('default-0', clock.now)).toBe(true)
    pos.replica = '0/100'
    await monitor.checkNow()
    expect(pindb.servers.isDown('default-0', clock.now)).toBe(false)
  })

  it('start() checks at once; stop() ends the timer', async () => {
    const { monitor, state } = setup()
    await monitor.start()
    expect(state.checkedAt).toBe(1_000)
    await monitor.stop()
  })
})
