/**
 * Every option of `createPinDb` and of the routed pools is validated at construction, nested
 * objects included. Regression tests for the operator's report "misconfiguration passes silently":
 * `maxLag: { msec: 100 }` turned the lag bound off, `causal: { wait: 50 }` and `backoff: { base: 5 }`
 * were accepted, `pinSeconds: '15'` was reported as "got 15", `writeFunctions: 'audit_log'` failed
 * on the first query with a TypeError, `monitor: { intervalMs: -5 }` and `monitr: true` were accepted.
 */
import { describe, expect, it } from 'vitest'
import { MONITOR_OPTIONS_SCHEMA, PINDB_OPTIONS_SCHEMA, ROUTED_POOL_OPTIONS_SCHEMA } from '../../src/config/schemas.js'
import { validateField, validateOptions, type Schema } from '../../src/config/validate.js'
import { PinDbConfigError, ReplicaMonitor, createPinDb, isPinDbError, type PinDbOptions, type PositionProbe } from '../../src/index.js'

const base = { primaries: { default: { host: 'p' } }, replicas: { default: [{ host: 'r' }] } }

function configError(fn: () => unknown): PinDbConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(PinDbConfigError)
    expect(isPinDbError(err)).toBe(true)
    expect((err as PinDbConfigError).code).toBe('PINDB_CONFIG')
    return err as PinDbConfigError
  }
  throw new Error('expected a PinDbConfigError')
}

const create = (extra: Record<string, unknown>): unknown => createPinDb({ ...base, ...extra } as unknown as PinDbOptions)

describe('regression: misconfiguration passed silently (createPinDb)', () => {
  it('maxLag: { msec: 100 } — an unknown nested key — throws naming maxLag.msec and "did you mean `ms`?" (the lag bound was silently off)', () => {
    const e = configError(() => create({ maxLag: { msec: 100 } }))
    expect(e.option).toBe('maxLag.msec')
    expect(e.message).toContain('`maxLag.msec`')
    expect(e.message).toContain('Did you mean `ms`?')
    expect(e.message).toContain('Valid keys: `ms`, `bytes`')
  })

  it('maxLag: {} — a safety bound with no bound set — throws instead of turning the bound off', () => {
    const e = configError(() => create({ maxLag: {} }))
    expect(e.option).toBe('maxLag')
    expect(e.message).toMatch(/at least one of `ms`, `bytes`/)
  })

  it('causal: { wait: 50 } throws naming causal.wait and suggesting waitMs', () => {
    const e = configError(() => create({ causal: { wait: 50 } }))
    expect(e.option).toBe('causal.wait')
    expect(e.message).toContain('Did you mean `waitMs`?')
  })

  it('backoff: { base: 5 } throws naming backoff.base and suggesting baseMs', () => {
    const e = configError(() => create({ backoff: { base: 5 } }))
    expect(e.option).toBe('backoff.base')
    expect(e.message).toContain('Did you mean `baseMs`?')
  })

  it("pinSeconds: '15' says it got a string, not \"got 15\"", () => {
    const e = configError(() => create({ pinSeconds: '15' }))
    expect(e.option).toBe('pinSeconds')
    expect(e.message).toContain('expected a finite number > 0; got a string (2 characters)')
    expect(e.message).not.toMatch(/got 15/)
    expect(e.message).toContain('For example `pinSeconds: 15`')
  })

  it('a top-level typo suggests the closest option', () => {
    expect(configError(() => create({ pinSecond: 10 })).message).toContain('Did you mean `pinSeconds`?')
    expect(configError(() => create({ maxlag: { ms: 1 } })).message).toContain('Did you mean `maxLag`?')
    const far = configError(() => create({ zzzzzzzz: 1 }))
    expect(far.option).toBe('zzzzzzzz')
    expect(far.message).not.toContain('Did you mean')
    expect(far.message).toContain('`pinSeconds`')
  })

  it('an enum typo suggests the valid value, without echoing the string given', () => {
    const e = configError(() => create({ mode: 'stritc' }))
    expect(e.message).toContain("expected 'greedy' | 'strict'; got a string (6 characters). Did you mean 'strict'?")
    expect(e.message).not.toContain('stritc')
    expect(configError(() => create({ unscopedWrites: 'warning' })).message).toContain("Did you mean 'warn'?")
  })

  it.each([
    ['maxLag.ms string', { maxLag: { ms: '100' } }, 'maxLag.ms'],
    ['maxLag.bytes NaN', { maxLag: { bytes: Number.NaN } }, 'maxLag.bytes'],
    ['causal.waitMs negative', { causal: { waitMs: -1 } }, 'causal.waitMs'],
    ['causal.waitMs above the timer limit', { causal: { waitMs: 2 ** 31 } }, 'causal.waitMs'],
    ['causal null', { causal: null }, 'causal'],
    ['backoff.maxMs Infinity', { backoff: { maxMs: Number.POSITIVE_INFINITY } }, 'backoff.maxMs'],
    ['backoff baseMs > maxMs', { backoff: { baseMs: 60_000 } }, 'backoff'],
    ['replicaChoice object without weights', { replicaChoice: { weight: {} } }, 'replicaChoice.weight'],
    ['replicaChoice weight string', { replicaChoice: { weights: { 'default-0': '2' } } }, 'replicaChoice.weights.default-0'],
    ['delegate with a misspelt method', { delegates: [{ dbForReads: () => 'default' }] }, 'delegates[0]'],
    ['unscopedWrites', { unscopedWrites: true }, 'unscopedWrites'],
    ['unmanaged array', { unmanaged: [] }, 'unmanaged'],
    ['primaries missing', { primaries: undefined }, 'primaries'],
  ] as const)('%s → PinDbConfigError naming %s', (_name, extra, option) => {
    const e = configError(() => create(extra))
    expect(e.option).toBe(option)
    expect(e.message).toContain(`\`${option}\``)
  })

  it('valid options still pass, and defaults apply', () => {
    const pindb = createPinDb({
      ...base,
      maxLag: { ms: 0 },
      causal: { waitMs: 50 },
      backoff: { baseMs: 5, maxMs: 10 },
      replicaChoice: { weights: { 'default-0': 0 } },
      delegates: [{ dbForRead: () => undefined }],
      unscopedWrites: 'ignore',
      enabled: () => true,
      pinSeconds: 0.5,
    })
    expect(pindb.options).toMatchObject({ maxLagMs: 0, causal: true, causalWaitMs: 50, backoff: { baseMs: 5, maxMs: 10 }, unscopedWrites: 'ignore', pinMs: 500 })
    expect(createPinDb(base).options).toMatchObject({ mode: 'greedy', pinSeconds: 15, causal: false, causalWaitMs: 0, maxLagMs: undefined, unscopedWrites: 'warn' })
  })

  it('a delegate that is a class instance (methods on the prototype) is accepted', () => {
    class ByTable {
      dbForRead(): string | undefined { return undefined }
    }
    expect(() => create({ delegates: [new ByTable()] })).not.toThrow()
  })

  it('does not modify the options object', () => {
    const options = { ...base, maxLag: { ms: 5 } }
    const before = JSON.stringify(options)
    createPinDb(options)
    expect(JSON.stringify(options)).toBe(before)
  })

  it('every key of PinDbOptions is in the schema (none is left unvalidated)', () => {
    const keys: Record<keyof PinDbOptions, true> = {
      primaries: true, replicas: true, unmanaged: true, unmanagedDefault: true, mode: true, delegates: true, enabled: true,
      pinSeconds: true, replicaChoice: true, causal: true, maxLag: true, noReplica: true, backoff: true, unscopedWrites: true,
      onRoute: true, clock: true, random: true,
    }
    expect(Object.keys(PINDB_OPTIONS_SCHEMA).sort()).toEqual(Object.keys(keys).sort())
  })
})

describe('regression: routed-pool options were not validated (ROUTED_POOL_OPTIONS_SCHEMA)', () => {
  const where = 'createPgPool(pindb, options)'
  const check = (options: unknown): unknown => validateOptions(ROUTED_POOL_OPTIONS_SCHEMA, options, { where })

  it("writeFunctions: 'audit_log' (failed on the first query with \"Invalid value used as weak map key\") throws at construction", () => {
    const e = configError(() => check({ writeFunctions: 'audit_log' }))
    expect(e.option).toBe('writeFunctions')
    expect(e.message).toContain(`: expected an array whose items are each a non-empty string (a function name); got a string (9 characters).`)
    expect(e.message).toContain("For example `writeFunctions: ['audit_log']`")
    expect(configError(() => check({ writeFunctions: ['ok', ''] })).option).toBe('writeFunctions[1]')
    expect(configError(() => check({ writeFunctions: [7] })).option).toBe('writeFunctions[0]')
  })

  it('monitor: { intervalMs: -5 } throws naming monitor.intervalMs', () => {
    const e = configError(() => check({ monitor: { intervalMs: -5 } }))
    expect(e.option).toBe('monitor.intervalMs')
    expect(e.message).toContain('expected a finite number > 0 and ≤ 2147483647; got a number (-5).')
    expect(configError(() => check({ monitor: { timeoutMs: 0 } })).option).toBe('monitor.timeoutMs')
    expect(configError(() => check({ monitor: { interval: 5 } })).message).toContain('Did you mean `intervalMs`?')
    expect(configError(() => check({ monitor: 'yes' })).option).toBe('monitor')
  })

  it('a typo monitr: true throws "did you mean `monitor`?"', () => {
    const e = configError(() => check({ monitr: true }))
    expect(e.option).toBe('monitr')
    expect(e.message).toContain('is not an option of createPgPool(pindb, options). Did you mean `monitor`?')
  })

  it("set: '' throws; valid options pass unchanged; adapters add their own keys by spreading the schema", () => {
    expect(configError(() => check({ set: '' })).option).toBe('set')
    const ok = { set: 'default', writeFunctions: ['audit_log'], monitor: { intervalMs: 500, timeoutMs: 200 } }
    expect(check(ok)).toBe(ok)
    expect(check({ monitor: true })).toEqual({ monitor: true })
        const pgSchema: Schema = { ...ROUTED_POOL_OPTIONS_SCHEMA, pg: { type: ['object', 'function'] }, createPool: { type: 'function' } }
    expect(() => validateOptions(pgSchema, { createPool: () => ({}), monitor: false }, { where })).not.toThrow()
    expect(configError(() => validateOptions(pgSchema, { createPool: {} }, { where })).option).toBe('createPool')
  })

  it('a non-object options value, and validateField for a lone option', () => {
    expect(configError(() => check('default')).message).toContain('got a string (7 characters)')
    expect(configError(() => validateField({ type: 'object', nested: MONITOR_OPTIONS_SCHEMA }, { intervalMs: Number.NaN }, 'monitor')).option).toBe('monitor.intervalMs')
  })
})

describe('regression: ReplicaMonitor accepted a negative interval (setInterval then fires every 1 ms)', () => {
  const probe: PositionProbe = { primaryPosition: async () => '0/0', replicaPosition: async () => '0/0' }

  it('monitor.intervalMs -5, a typo, and an interval above the timer limit throw; valid options construct', () => {
    const pindb = createPinDb(base)
    const make = (options: unknown): unknown => new ReplicaMonitor(pindb, probe, ['default'], options as object)
    expect(configError(() => make({ intervalMs: -5 })).option).toBe('monitor.intervalMs')
    expect(configError(() => make({ intervalMs: 2 ** 31 })).option).toBe('monitor.intervalMs')
    expect(configError(() => make({ timeout: 5 })).message).toContain('Did you mean `timeoutMs`?')
    expect(make({ intervalMs: 100, timeoutMs: 50 })).toBeInstanceOf(ReplicaMonitor)
    expect(make(undefined)).toBeInstanceOf(ReplicaMonitor)
  })
})
