/**
 * Regression: "a write outside any unit of work leaves no pin and the next request reads stale,
 * silently" (middleware forgotten or mounted after the routes, a script without `pindb.run`).
 * The `unscopedWrites` option: `'warn'` (default) warns once per process with code
 * PINDB_UNSCOPED_WRITE and publishes on `pindb:unscoped-write` every time; `'throw'` throws a
 * PinDbError; `'ignore'` does neither. Writes inside a unit of work, unmanaged writes, writes in a
 * `withPrimary` scope and writes with routing disabled are not reported.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PinDbError, createPinDb, type PinDbOptions } from '../../src/index.js'
import { UNSCOPED_WRITE_CHANNEL, resetUnscopedWriteWarning, type UnscopedWriteEvent } from '../../src/unscoped-write.js'

const base = { primaries: { default: {} }, replicas: { default: [{}] }, unmanaged: { logs: {} } }

let events: UnscopedWriteEvent[] = []
const listener = (message: unknown): void => { events.push(message as UnscopedWriteEvent) }
let warnings: { message: string; code: unknown }[] = []

beforeEach(() => {
  resetUnscopedWriteWarning()
  events = []
  warnings = []
  subscribe(UNSCOPED_WRITE_CHANNEL, listener)
  vi.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error, options?: { code?: string }) => {
    warnings.push({ message: String(message), code: options?.code })
  }) as typeof process.emitWarning)
})

afterEach(() => {
  unsubscribe(UNSCOPED_WRITE_CHANNEL, listener)
  vi.restoreAllMocks()
})

const make = (extra: Partial<PinDbOptions> = {}): ReturnType<typeof createPinDb> => createPinDb({ ...base, ...extra })

describe('regression: unscoped writes were silent', () => {
  it("default 'warn': pindb.dbForWrite() outside run() warns once per process (PINDB_UNSCOPED_WRITE) and publishes every time", () => {
    const pindb = make()
    expect(pindb.dbForWrite()).toBe('default')
    expect(pindb.dbForWrite()).toBe('default')
    expect(make().dbForWrite()).toBe('default') // another instance: still once per process
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.code).toBe('PINDB_UNSCOPED_WRITE')
    expect(warnings[0]!.message).toMatch(/^\[pindb\] a write to "default" was routed outside any unit of work.*pindb\.run\(fn\)/)
    expect(events).toEqual([{ set: 'default' }, { set: 'default' }, { set: 'default' }])
  })

  it("'throw': the write throws a PinDbError (PINDB_UNSCOPED_WRITE) naming the fix", () => {
    const pindb = make({ unscopedWrites: 'throw' })
    let err: unknown
    try {
      pindb.dbForWrite()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PinDbError)
    expect((err as PinDbError).code).toBe('PINDB_UNSCOPED_WRITE')
    expect((err as PinDbError).message).toContain('install the middleware')
    expect(events).toEqual([{ set: 'default' }])
  })

  it("'ignore': nothing", () => {
    expect(make({ unscopedWrites: 'ignore' }).dbForWrite()).toBe('default')
    expect(warnings).toEqual([])
    expect(events).toEqual([])
  })

  it('not reported: inside run(), an unmanaged alias, withPrimary, routing disabled, reads', () => {
    const pindb = make({ unscopedWrites: 'throw', delegates: [{ dbForWrite: (h) => (h.table === 'log' ? 'logs' : undefined) }] })
    expect(pindb.run(() => pindb.dbForWrite())).toBe('default')
    expect(pindb.dbForWrite({ table: 'log' })).toBe('logs')
    expect(pindb.withPrimary('default', () => pindb.dbForWrite())).toBe('default')
    expect(make({ unscopedWrites: 'throw', enabled: false }).dbForWrite()).toBe('default')
    expect(pindb.dbForRead()).toBe('default-0')
    expect(events).toEqual([])
    expect(warnings).toEqual([])
  })
})
