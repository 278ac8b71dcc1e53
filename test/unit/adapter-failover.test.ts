/**
 * `readWithFailover` and the failure classifiers (src/adapter/failover.ts) in process, over a real
 * pindb's routing seam: which errors fail over, one back-off step per outage however many reads
 * fail during it, the primary as the last resort, and in-flight counts back at zero.
 */
import { describe, expect, it } from 'vitest'
import { isReadOnlyRefusal, isServerFailure, readWithFailover, type ReadAttempts } from '../../src/adapter/failover.js'
import { seamOf } from '../../src/adapter/seam.js'
import type { PinDb } from '../../src/index.js'
import type { RouteDecision } from '../../src/route-event.js'
import { errors, fakePinDb } from '../conformance/fake-host.js'

/** A read over the seam: `serve(alias)` answers or throws; every attempt is recorded. */
function read(pindb: PinDb, serve: (alias: string) => Promise<string>, tried: string[]): ReadAttempts<string> {
  const seam = seamOf(pindb)
  return {
    sql: 'SELECT 1',
    route: (exclude, noWait) => seam.route('read', { sql: 'SELECT 1' }, { ...(exclude === undefined ? {} : { exclude, reason: 'failover' as const }), noWait }),
    routePrimary: () => seam.route('read', { sql: 'SELECT 1' }, { force: 'primary', reason: 'refused' }),
    run: (d: RouteDecision) => {
      tried.push(d.alias)
      return serve(d.alias)
    },
  }
}
const outstanding = (pindb: PinDb): number[] => Object.values(pindb.stats()).map((s) => s.outstanding)

describe('classifiers', () => {
  it.each([
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }, true],
    ['pg connection failure 08006', { code: '08006', message: 'x' }, true],
    ['pg admin shutdown 57P01', { code: '57P01' }, true],
    ['pg too many connections 53300', { code: '53300' }, true],
    ['mysql2 PROTOCOL_CONNECTION_LOST', { code: 'PROTOCOL_CONNECTION_LOST' }, true],
    ['pindb hung server', { code: 'PINDB_SERVER_UNAVAILABLE' }, true],
    ['message "Connection terminated"', { message: 'Connection terminated unexpectedly' }, true],
    ['AggregateError of refusals', { errors: [{ code: 'ECONNREFUSED' }] }, true],
    ['cancel 57014', { code: '57014', message: 'canceling statement due to user request' }, false],
    ['MariaDB KILL QUERY', { code: 'ER_QUERY_INTERRUPTED', message: 'Query execution was interrupted' }, false],
    ['syntax error 42601', { code: '42601', message: 'syntax error' }, false],
    ['read-only refusal 25006', { code: '25006', message: 'read-only transaction' }, false],
    ['not an object', 'boom', false],
  ])('isServerFailure: %s', (_name, err, expected) => {
    expect(isServerFailure(err, true)).toBe(expected)
  })

  it('recovery conflicts and fatal errors fail over on a replica only', () => {
    const conflict = { code: '40001', message: 'canceling statement due to conflict with recovery' }
    expect(isServerFailure(conflict, true)).toBe(true)
    expect(isServerFailure(conflict, false)).toBe(false)
    expect(isServerFailure({ fatal: true }, true)).toBe(true)
    expect(isServerFailure({ fatal: true }, false)).toBe(false)
  })

  it('isReadOnlyRefusal: PostgreSQL 25006 and MySQL/MariaDB 1290 --read-only, nothing else', () => {
    expect(isReadOnlyRefusal(errors.readOnly())).toBe(true)
    expect(isReadOnlyRefusal({ errno: 1290, code: 'ER_OPTION_PREVENTS_STATEMENT', message: 'The MariaDB server is running with the --read-only option' })).toBe(true)
    expect(isReadOnlyRefusal({ errno: 1290, message: 'running with the --skip-grant-tables option' })).toBe(false)
    expect(isReadOnlyRefusal(errors.connection())).toBe(false)
  })
})

describe('readWithFailover', () => {
  it('one back-off step per outage, however many reads fail during it; a new step after it expires', async () => {
    const { pindb, clock } = fakePinDb()
    const tried: string[] = []
    const serve = async (alias: string) => {
      if (alias === 'default-0') throw errors.connection()
      return alias
    }
    const seam = seamOf(pindb)
    // Five reads fail on default-0 at once (every connection of its pool dying together).
    const reads = Array.from({ length: 5 }, () => readWithFailover(seam, read(pindb, serve, tried)))
    expect(await Promise.all(reads)).toEqual(Array(5).fill('default-1'))
    expect(pindb.servers.get('default-0').failures).toBe(1)
    // During the back-off default-0 is skipped without being tried.
    tried.length = 0
    expect(await readWithFailover(seam, read(pindb, serve, tried))).toBe('default-1')
    expect(tried).toEqual(['default-1'])
    // After the back-off expires it is tried again; still dead: the second step.
    clock.now += 1001
    tried.length = 0
    expect(await readWithFailover(seam, read(pindb, serve, tried))).toBe('default-1')
    expect(tried).toEqual(['default-0', 'default-1'])
    expect(pindb.servers.get('default-0').failures).toBe(2)
    expect(outstanding(pindb).every((n) => n === 0)).toBe(true)
  })

  it('a successful read on a server in back-off ends its back-off', async () => {
    const { pindb, clock } = fakePinDb()
    const seam = seamOf(pindb)
    seam.reportFailure('default-0')
    clock.now += 1001
    expect(await readWithFailover(seam, read(pindb, async (a) => a, []))).toBe('default-0')
    expect(pindb.servers.get('default-0').failures).toBe(0)
  })

  it('a statement error is not a server failure: it reaches the caller untouched, nothing retried or backed off', async () => {
    const { pindb } = fakePinDb()
    const tried: string[] = []
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' })
    await expect(readWithFailover(seamOf(pindb), read(pindb, async () => { throw syntax }, tried))).rejects.toBe(syntax)
    expect(tried).toEqual(['default-0'])
    expect(pindb.servers.get('default-0').failures).toBe(0)
    expect(outstanding(pindb).every((n) => n === 0)).toBe(true)
  })

  it('the primary is the last resort, and its own failure is not retried', async () => {
    const { pindb } = fakePinDb()
    const tried: string[] = []
    await expect(readWithFailover(seamOf(pindb), read(pindb, async () => { throw errors.connection() }, tried))).rejects.toMatchObject({ code: '08006' })
    expect(tried).toEqual(['default-0', 'default-1', 'default'])
    expect(pindb.servers.get('default').failures).toBe(0) // not the failover loop's to report
    expect(outstanding(pindb).every((n) => n === 0)).toBe(true)
  })

  it('a run() that throws synchronously is handled like a rejection', async () => {
    const { pindb } = fakePinDb()
    const seam = seamOf(pindb)
    const attempts = read(pindb, async (a) => a, [])
    const run = attempts.run
    let first = true
    attempts.run = (d) => {
      if (first) {
        first = false
        throw errors.connection()
      }
      return run(d)
    }
    expect(await readWithFailover(seam, attempts)).toBe('default-1')
  })
})
