/**
 * `RoutedSession` (src/adapter/routed-session.ts) in process: a fake `SessionHost` records which
 * server each statement ran on and counts borrowed connections. Covers the anchoring state
 * machine, replayed connection settings, failover, read-only refusals, in-flight accounting and
 * the rule that a borrowed connection is never held unless the session is anchored.
 */
import { describe, expect, it } from 'vitest'
import { isPinDbError, UnpinnedWriteError, type PinDb } from '../../src/index.js'
import { errors, FakeHost, fakePinDb, type Ran } from '../conformance/fake-host.js'

const aliases = (ran: readonly Ran[]): string[] => ran.map((r) => r.alias)
const outstanding = (pindb: PinDb): Record<string, number> =>
  Object.fromEntries(Object.entries(pindb.stats()).map(([alias, s]) => [alias, s.outstanding]))
const IDLE = { default: 0, 'default-0': 0, 'default-1': 0 }

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => { resolve = r })
  return { promise, resolve }
}

describe('routing and borrowing', () => {
  it('reads go to the sticky replica, writes to the primary; every borrowed connection is given back', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await s.query('SELECT 1')
      expect(host.held).toBe(0)
      await s.query("INSERT INTO t VALUES (1)")
      expect(pindb.isPinned('default')).toBe(true)
      await s.query('SELECT 2') // read-your-writes
    })
    expect(aliases(host.ran)).toEqual(['default-0', 'default', 'default'])
    expect(host.borrowed).toBe(3)
    expect(host.held).toBe(0)
    expect(s.anchoredTo).toBeUndefined()
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('outside a unit of work, reads follow the session\'s own write to the primary for the pin window only', async () => {
    const { pindb, clock } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await s.query('UPDATE t SET x = 1')
    await s.query('SELECT 1')
    clock.now += pindb.options.pinMs + 1
    await s.query('SELECT 2')
    expect(aliases(host.ran)).toEqual(['default', 'default', 'default-0'])
  })

  it('statements run in call order, as on one connection, even when issued at once', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(() => Promise.all([s.query('BEGIN'), s.query('SELECT 1'), s.query('INSERT INTO t VALUES (1)'), s.query('COMMIT')]))
    expect(host.ran.map((r) => `${r.alias}:${r.sql}`)).toEqual(['default:BEGIN', 'default:SELECT 1', 'default:INSERT INTO t VALUES (1)', 'default:COMMIT'])
  })
})

describe('anchoring', () => {
  it('BEGIN … COMMIT runs on one primary connection, held only while the transaction is open, and pins', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await s.query('BEGIN')
      expect(s.anchoredTo).toBe('default')
      expect(s.inTransaction).toBe(true)
      expect(host.held).toBe(1)
      expect(pindb.isPinned('default')).toBe(true)
      await s.query('SELECT 1')
      await s.query('INSERT INTO t VALUES (1)')
      await s.query('COMMIT')
      expect(s.anchoredTo).toBeUndefined()
      expect(host.held).toBe(0)
    })
    expect(new Set(host.ran.map((r) => `${r.alias}#${r.conn}`)).size).toBe(1)
    expect(aliases(host.ran)).toEqual(['default', 'default', 'default', 'default'])
  })

  it('ROLLBACK ends the transaction the same way', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await s.query('START TRANSACTION')
      await s.query('DELETE FROM t')
      await s.query('ROLLBACK')
      await s.query('SELECT 1')
    })
    expect(aliases(host.ran)).toEqual(['default', 'default', 'default', 'default']) // pinned by the transaction
    expect(host.held).toBe(0)
    expect(s.anchoredTo).toBeUndefined()
  })

  it('BEGIN READ ONLY anchors on the replica and pins nothing', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await s.query('BEGIN READ ONLY')
      expect(s.anchoredTo).toBe('default-0')
      await s.query('SELECT 1')
      await s.query('SELECT 2')
      await s.query('COMMIT')
      expect(pindb.isPinned('default')).toBe(false)
    })
    expect(aliases(host.ran)).toEqual(['default-0', 'default-0', 'default-0', 'default-0'])
    expect(new Set(host.ran.map((r) => r.conn)).size).toBe(1)
    expect(host.held).toBe(0)
  })

  it('session state (a temporary table) anchors on the primary until the session closes; it is not a write', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await s.query('SELECT 0')
      await s.query('CREATE TEMP TABLE scratch (x int)')
      expect(s.anchoredTo).toBe('default')
      await s.query('SELECT * FROM scratch')
      await s.query('BEGIN')
      await s.query('COMMIT')
      expect(s.anchoredTo).toBe('default') // the transaction ended, the session state did not
      expect(host.held).toBe(1)
    })
    expect(aliases(host.ran)).toEqual(['default-0', 'default', 'default', 'default', 'default'])
    s.close()
    expect(host.held).toBe(0)
    await expect(s.query('SELECT 1')).rejects.toSatisfy((e) => isPinDbError(e) && e.code === 'PINDB_CLOSED')
  })
})

describe('replayable connection settings', () => {
  it('do not anchor: recorded, then re-applied on each new connection the session uses — once per connection', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await s.query("SET TIME ZONE 'UTC'")
    expect(s.anchoredTo).toBeUndefined()
    await pindb.run(() => s.query('SELECT 1'))
    await pindb.run(() => s.query('SELECT 2')) // the same idle replica connection: nothing to replay
    await pindb.run(async () => {
      await s.query('INSERT INTO t VALUES (1)') // the primary connection that ran the SET already has it
    })
    expect(host.ran.map((r) => `${r.alias}#${r.conn}:${r.sql}`)).toEqual([
      "default#1:SET TIME ZONE 'UTC'",
      "default-0#2:SET TIME ZONE 'UTC'",
      'default-0#2:SELECT 1',
      'default-0#2:SELECT 2',
      'default#1:INSERT INTO t VALUES (1)',
    ])
    expect(host.held).toBe(0)
  })

  it('a changed setting resets a connection that had the old one, then applies the new list', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await s.query("SET TIME ZONE 'UTC'")
    await pindb.run(() => s.query('SELECT 1'))
    await s.query("SET search_path TO app") // on the primary connection that ran the first SET
    await pindb.run(() => s.query('SELECT 2'))
    expect(host.ran[3]).toMatchObject({ alias: 'default', sql: 'SET search_path TO app' })
    expect(host.ran.slice(4).map((r) => r.sql)).toEqual(['RESET ALL', "SET TIME ZONE 'UTC'", 'SET search_path TO app', 'SELECT 2'])
    expect(host.resets).toBe(1)
  })

  it('without a settings applier, a setting anchors like other session state', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb, { settings: false })
    const s = host.session()
    await s.query("SET TIME ZONE 'UTC'")
    expect(s.anchoredTo).toBe('default')
    await pindb.run(() => s.query('SELECT 1'))
    expect(aliases(host.ran)).toEqual(['default', 'default'])
  })

  it('SET ROLE is session state, not a replayable setting', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await s.query('SET ROLE reporting')
    expect(s.anchoredTo).toBe('default')
  })
})

describe('failures', () => {
  it('a replica that dies mid-read: the read is retried on the other replica, the dead connection destroyed, one back-off step', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    host.faults.push((alias) => (alias === 'default-0' ? errors.connection() : undefined))
    const s = host.session()
    const ran = await pindb.run(() => s.query('SELECT 1'))
    expect(ran.alias).toBe('default-1')
    expect(aliases(host.ran)).toEqual(['default-0', 'default-1'])
    expect(host.destroyed).toBe(1)
    expect(host.held).toBe(0)
    expect(pindb.servers.get('default-0').failures).toBe(1)
    expect(pindb.stats()['default-0']!.counters.failovers).toBeGreaterThan(0)
    // While in back-off, the next read does not try it.
    await pindb.run(() => s.query('SELECT 2'))
    expect(aliases(host.ran).slice(2)).toEqual(['default-1'])
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('an unreachable replica (connect refused) fails over the same way', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    host.unreachable.add('default-0')
    const ran = await pindb.run(() => host.session().query('SELECT 1'))
    expect(ran.alias).toBe('default-1')
    expect(pindb.servers.get('default-0').failures).toBe(1)
    expect(host.held).toBe(0)
  })

  it('every replica down: the primary serves the read', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    host.faults.push((alias) => (alias !== 'default' ? errors.connection() : undefined))
    const ran = await pindb.run(() => host.session().query('SELECT 1'))
    expect(ran.alias).toBe('default')
    expect(aliases(host.ran)).toEqual(['default-0', 'default-1', 'default'])
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('regression: a statement inside an open transaction was not counted in flight (least-outstanding could not see it)', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    const gate = deferred()
    await pindb.run(async () => {
      await s.query('BEGIN READ ONLY')
      const slow = s.run('SELECT slow()', async () => gate.promise)
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(outstanding(pindb)['default-0']).toBe(1)
      gate.resolve()
      await slow
      await s.query('COMMIT')
    })
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('a cancelled read (57014) reaches the caller: no retry, no back-off, the connection is kept', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    host.faults.push((_alias, sql) => (sql === 'SELECT pg_sleep(10)' ? errors.cancelled() : undefined))
    const s = host.session()
    await expect(pindb.run(() => s.query('SELECT pg_sleep(10)'))).rejects.toMatchObject({ code: '57014' })
    expect(aliases(host.ran)).toEqual(['default-0'])
    expect(pindb.servers.get('default-0').failures).toBe(0)
    expect(host.destroyed).toBe(0)
    expect(host.held).toBe(0)
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('a write is never retried: a primary that dies mid-write rejects, and its connection is destroyed', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    host.faults.push((alias) => (alias === 'default' ? errors.connection() : undefined))
    await expect(pindb.run(() => host.session().query('INSERT INTO t VALUES (1)'))).rejects.toMatchObject({ code: '08006' })
    expect(aliases(host.ran)).toEqual(['default'])
    expect(host.destroyed).toBe(1)
    expect(host.held).toBe(0)
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('a read a replica refuses as a write (25006): greedy moves it to the primary and pins; the text is planned as a write from then on', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const sql = 'SELECT bump_counter()'
    host.faults.push((alias, text) => (alias !== 'default' && text === sql ? errors.readOnly() : undefined))
    const s = host.session()
    await pindb.run(async () => {
      expect((await s.query(sql)).alias).toBe('default')
      expect(pindb.isPinned('default')).toBe(true)
    })
    expect(pindb.servers.get('default-0').failures).toBe(0) // the replica is healthy
    await pindb.run(() => s.query(sql))
    expect(aliases(host.ran)).toEqual(['default-0', 'default', 'default'])
    expect(host.planner.plan(sql).plan.intent).toBe('write')
    expect(host.held).toBe(0)
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('strict mode: a refused read throws UnpinnedWriteError and never reaches the primary', async () => {
    const { pindb } = fakePinDb({ mode: 'strict' })
    const host = new FakeHost(pindb)
    host.faults.push((alias) => (alias !== 'default' ? errors.readOnly() : undefined))
    await expect(pindb.run(() => host.session().query('SELECT bump_counter()'))).rejects.toBeInstanceOf(UnpinnedWriteError)
    expect(aliases(host.ran)).toEqual(['default-0'])
    expect(host.held).toBe(0)
    expect(outstanding(pindb)).toEqual(IDLE)
  })

  it('strict mode: an unpinned write throws before any connection is borrowed', async () => {
    const { pindb } = fakePinDb({ mode: 'strict' })
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await expect(s.query('INSERT INTO t VALUES (1)')).rejects.toBeInstanceOf(UnpinnedWriteError)
      await expect(s.query('BEGIN')).rejects.toBeInstanceOf(UnpinnedWriteError)
    })
    expect(host.ran).toEqual([])
    expect(host.borrowed).toBe(0)
  })

  it('a held (anchored) connection that dies drops the anchor and is destroyed', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const s = host.session()
    await pindb.run(async () => {
      await s.query('BEGIN')
      host.faults.push(() => errors.connection())
      await expect(s.query('SELECT 1')).rejects.toMatchObject({ code: '08006' })
    })
    expect(s.anchoredTo).toBeUndefined()
    expect(s.inTransaction).toBe(false)
    expect(host.destroyed).toBe(1)
    expect(host.held).toBe(0)
    expect(outstanding(pindb)).toEqual(IDLE)
  })
})

describe('in-flight accounting', () => {
  it('counts a statement while it runs (read and write), and returns to zero after it settles (failures: above)', async () => {
    const { pindb } = fakePinDb()
    const host = new FakeHost(pindb)
    const gate = deferred()
    const s = host.session()
    const slow = pindb.run(() => s.run('SELECT slow()', async () => gate.promise))
    await new Promise((r) => setTimeout(r, 10))
    expect(outstanding(pindb)['default-0']).toBe(1)
    gate.resolve()
    await slow
    expect(outstanding(pindb)).toEqual(IDLE)
    const w = deferred()
    const write = pindb.run(() => s.run('INSERT INTO t VALUES (1)', async () => w.promise))
    await new Promise((r) => setTimeout(r, 10))
    expect(outstanding(pindb)['default']).toBe(1)
    w.resolve()
    await write
    expect(outstanding(pindb)).toEqual(IDLE)
  })
})
