/**
 * Claims of `docs/managed-replicas.md` about a service where pindb cannot read replication
 * positions (a function the service does not support, MySQL's missing `@@gtid_slave_pos`): what
 * the replica monitor does, and where reads then go. Uses the real {@link ReplicaMonitor} and router
 * with a probe that fails the way such a server answers.
 */
import { describe, expect, it } from 'vitest'
import { createPinDb, ReplicaMonitor, type PositionProbe } from '../../src/index.js'

const unsupported = new Error('ERROR: function is currently not supported on this service')

function setup(probe: PositionProbe, options: { causal?: boolean; maxLag?: { ms: number } } = {}) {
  const now = { t: 1_000_000 }
  const pindb = createPinDb({ primaries: { default: {} }, replicas: { default: [{}, {}] }, clock: () => now.t, ...options })
  const monitor = new ReplicaMonitor(pindb, probe, ['default'], { intervalMs: 60_000 })
  return { pindb, monitor, now }
}

describe('docs/managed-replicas.md: a service without the position functions', () => {
  it('with a monitor, a replica whose position query fails is put in back-off and every read goes to the primary', async () => {
    const { pindb, monitor } = setup({
      primaryPosition: async () => '0/100',
      replicaPosition: async () => { throw unsupported },
    })
    expect(pindb.route('read').role).toBe('replica')                  // before the first check
    await monitor.checkNow()
    for (const alias of ['default-0', 'default-1']) {
      expect(pindb.stats()[alias]!.downUntil).toBeGreaterThan(1_000_000)
      expect(pindb.stats()[alias]!.lagMs).toBeUndefined()
    }
    const decision = pindb.route('read')
    expect(decision).toMatchObject({ alias: 'default', role: 'primary' })
    expect(decision.reason).not.toBe('replica')
  })

  it('when only the primary position fails, replicas stay up but their lag is unknown: maxLag then excludes them all', async () => {
    const { pindb, monitor } = setup({
      primaryPosition: async () => { throw unsupported },
      replicaPosition: async () => '0/100',
    }, { maxLag: { ms: 5_000 } })
    await monitor.checkNow()
    expect(pindb.stats()['default-0']!.downUntil).toBe(0)
    expect(pindb.stats()['default-0']!.lagMs).toBeUndefined()
    expect(pindb.route('read')).toMatchObject({ alias: 'default', role: 'primary', reason: 'lagging' })
  })

  it('without maxLag or causal, unknown lag does not matter: reads go to the replicas', async () => {
    const { pindb, monitor } = setup({
      primaryPosition: async () => { throw unsupported },
      replicaPosition: async () => '0/100',
    })
    await monitor.checkNow()
    expect(pindb.route('read').role).toBe('replica')
  })
})
