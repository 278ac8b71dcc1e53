/**
 * django-pindb bugs (reference §11) that pindb fixes, one test per bug, and the gaps of the
 * upstream suite (§13.4): exact populateReplicas output, configuration errors, unknown aliases,
 * delegate answers, carried pins.
 */
import { describe, expect, it } from 'vitest'
import {
  createPinDb,
  isPinDbError,
  populateReplicas,
  PinDbConfigError,
  PinDbError,
  UnpinnedWriteError,
  type Delegate,
  type PinDb,
  type PinDbOptions,
  type RouteHints,
} from '../../src/index.js'
import { seamOf } from '../../src/adapter/seam.js'

type Cfg = Record<string, unknown>

const Ham = { model: 'Ham' } as const
const Egg = { model: 'Egg' } as const

const hamAndEgg: Delegate = {
  dbForRead: (h) => (h.model === 'Egg' ? 'egg' : undefined),
  dbForWrite: (h) => (h.model === 'Egg' ? 'egg' : undefined),
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

/** Expects a PinDbConfigError for `option`; returns it. */
function configError(fn: () => unknown, option?: string | RegExp): PinDbConfigError {
  const err = thrown(fn)
  expect(err).toBeInstanceOf(PinDbConfigError)
  expect(err).toBeInstanceOf(PinDbError)
  expect(isPinDbError(err)).toBe(true)
  const e = err as PinDbConfigError
  expect(typeof e.code).toBe('string')
  if (typeof option === 'string') expect(e.option).toBe(option)
  else if (option !== undefined) expect(e.option).toMatch(option)
  expect(e.message).toContain(e.option)
  return e
}

interface Setup {
  pindb: PinDb<Cfg>
  clock: { now: number }
}

function setup(overrides: Partial<PinDbOptions<Cfg>> = {}): Setup {
  const clock = { now: 1_000_000 }
  const pindb = createPinDb<Cfg>({
    primaries: { default: { host: 'p' }, egg: { host: 'e' } },
    replicas: { default: [{ host: 'r0' }, { host: 'r1' }], egg: [{ host: 'e0' }, { host: 'e1' }] },
    unmanaged: { frob: { host: 'f' } },
    clock: () => clock.now,
    ...overrides,
  })
  return { pindb, clock }
}

/** A delegate answering like Django's instance-hint fallback: the alias the entity was loaded from. */
const instanceHint: Delegate = {
  dbForRead: (h) => (typeof h['loadedFrom'] === 'string' ? h['loadedFrom'] : undefined),
  dbForWrite: (h) => (typeof h['loadedFrom'] === 'string' ? h['loadedFrom'] : undefined),
}

describe('django-pindb bugs fixed (§11)', () => {
  it('§11.2 a replica alias from a delegate (instance-hint fallback) routes as its set: strict throws, greedy pins, never writes to the replica', () => {
    const loadedFromReplica: RouteHints = { model: 'Egg', loadedFrom: 'egg-0' }

    const strict = setup({ mode: 'strict', delegates: [instanceHint] }).pindb
    strict.run(() => {
      const err = thrown(() => strict.dbForWrite(loadedFromReplica))
      expect(err).toBeInstanceOf(UnpinnedWriteError)
      expect((err as UnpinnedWriteError).dbSet).toBe('egg')
      strict.pin('egg')
      expect(strict.dbForWrite(loadedFromReplica)).toBe('egg')
      expect(strict.dbForRead(loadedFromReplica)).toBe('egg') // pinned set reads from its primary
    })

    const greedy = setup({ mode: 'greedy', delegates: [instanceHint] }).pindb
    greedy.run(() => {
      expect(greedy.isPinned('egg')).toBe(false)
      const d = greedy.route('write', loadedFromReplica)
      expect(d).toMatchObject({ alias: 'egg', set: 'egg', role: 'primary' })
      expect(greedy.isPinned('egg')).toBe(true)
      expect(greedy.isNewlyPinned('egg')).toBe(true)
      expect(greedy.isPinned('default')).toBe(false)
    })

    // A read with a replica alias routes through the set: to this context's replica, not blindly egg-1.
    const reads = setup({ delegates: [instanceHint] }).pindb
    reads.run(() => {
      const replica = reads.getReplica('egg')
      const d = reads.route('read', { loadedFrom: 'egg-1' })
      expect(d.set).toBe('egg')
      expect(d.alias).toBe(replica)
      reads.pin('egg')
      expect(reads.dbForRead({ loadedFrom: 'egg-1' })).toBe('egg')
    })

    // Disabled: the delegates' primary, never the replica.
    const off = setup({ delegates: [instanceHint], enabled: false }).pindb
    off.run(() => {
      expect(off.dbForWrite(loadedFromReplica)).toBe('egg')
      expect(off.dbForRead(loadedFromReplica)).toBe('egg')
    })
  })

  it('§11.3 replica choice is round-robin across contexts (not random) and fails over when a replica is down', () => {
    const { pindb } = setup()
    const first = Array.from({ length: 6 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(first).toEqual(['default-0', 'default-1', 'default-0', 'default-1', 'default-0', 'default-1'])
    seamOf(pindb).reportFailure('default-0')
    const afterFailure = Array.from({ length: 4 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(afterFailure).toEqual(['default-1', 'default-1', 'default-1', 'default-1'])
  })

  it('§11.9 with_masters / with_replicas shared one instance per decoration: pindb wrappers are re-entrant and safe across concurrent contexts', async () => {
    const { pindb } = setup({ mode: 'strict' })
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
    // A wrapper built once ("at decoration time") and called nested and concurrently.
    const withMasters = <T>(fn: () => Promise<T>) => () => pindb.withPrimary('default', fn)
    const body = withMasters(async () => {
      await tick()
      return pindb.dbForWrite(Ham) // strict: only allowed inside withPrimary
    })
    const nested = withMasters(async () => {
      const inner = await body()
      await tick()
      return [inner, pindb.dbForWrite(Ham)]
    })
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pindb.run(async () => {
          if (i % 2 === 0) pindb.pin('default')
          const r = i % 3 === 0 ? await nested() : [await body()]
          await tick()
          // After the wrapper: pinned exactly as before it.
          expect(pindb.isPinned('default')).toBe(i % 2 === 0)
          if (i % 2 === 1) expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
          return r
        }),
      ),
    )
    for (const r of results) for (const alias of r) expect(alias).toBe('default')
  })

  it('§11.10 unpinAll() inside withPrimary does not throw and does not hide the original error', async () => {
    const { pindb } = setup()
    pindb.run(() => {
      pindb.pin('egg')
      expect(() =>
        pindb.withPrimary('default', () => {
          pindb.unpinAll()
        }),
      ).not.toThrow()
      expect(pindb.getPinned()).toEqual(new Set())
      const original = new Error('original')
      expect(
        thrown(() =>
          pindb.withPrimary('default', () => {
            pindb.unpinAll()
            throw original
          }),
        ),
      ).toBe(original)
    })
    await pindb.run(async () => {
      const original = new Error('async original')
      await expect(
        pindb.withPrimary('default', async () => {
          await Promise.resolve()
          pindb.unpinAll()
          throw original
        }),
      ).rejects.toBe(original)
    })
  })

  it('§11.11 an explicit pin() inside withPrimary is kept (and new) after it returns', () => {
    const { pindb } = setup()
    pindb.run(() => {
      pindb.withPrimary('default', () => {
        pindb.pin('default')
      })
      expect(pindb.isPinned('default')).toBe(true)
      expect(pindb.isNewlyPinned('default')).toBe(true)
      expect(pindb.capturePins()).toEqual([{ set: 'default', expiresAt: 1_000_000 + 15_000 }])
    })
    // Also when the set was carried in (pinned, not new) before withPrimary.
    pindb.run(
      () => {
        pindb.withPrimary('default', () => {
          pindb.pin('default')
        })
        expect(pindb.isNewlyPinned('default')).toBe(true)
      },
      { pins: [{ set: 'default', expiresAt: 1_000_000 + 5_000 }] },
    )
  })

  it('§11.12 greedy pins when the write is routed, before it runs (kept on purpose: a write that then fails still pins)', () => {
    const { pindb } = setup()
    pindb.run(() => {
      const decision = pindb.route('write', Ham)
      // Nothing has been executed yet; the pin is already there, so a failed or partial write still reads its own effects.
      expect(decision.reason).toBe('write')
      expect(pindb.isPinned('default')).toBe(true)
      expect(pindb.dbForRead(Ham)).toBe('default')
    })
  })

  it('§11.15 pin() validates its alias: unknown → PinDbConfigError, unmanaged → PinDbError, replica → its set; unknown carried pins are dropped', () => {
    const { pindb } = setup()
    pindb.run(() => {
      const unknown = configError(() => pindb.pin('nope'), 'pin(alias)')
      expect(unknown.code).toBe('PINDB_UNKNOWN_ALIAS')
      expect(unknown.message).toContain('nope')
      expect(pindb.getPinned()).toEqual(new Set())
      const unmanaged = thrown(() => pindb.pin('frob'))
      expect(isPinDbError(unmanaged)).toBe(true)
      expect((unmanaged as PinDbError).message).toContain('frob')
      expect(pindb.getPinned()).toEqual(new Set())
      pindb.pin('egg-1')
      expect(pindb.getPinned()).toEqual(new Set(['egg']))
      expect(pindb.capturePins().map((p) => p.set)).toEqual(['egg'])
    })
    pindb.run(
      () => {
        expect(pindb.getPinned()).toEqual(new Set(['default']))
      },
      {
        pins: [
          { set: 'nope', expiresAt: 1_000_000 + 5_000 },
          { set: 'frob', expiresAt: 1_000_000 + 5_000 },
          { set: 'egg-0', expiresAt: 1_000_000 + 5_000 },
          { set: 'default', expiresAt: 1_000_000 + 5_000 },
        ],
      },
    )
  })

  it('§11.16 a delegate answering "" has no opinion: the next delegate answers, else default', () => {
    const empty: Delegate = { dbForRead: () => '', dbForWrite: () => '' }
    const eggs: Delegate = { dbForWrite: (h) => (h.model === 'Egg' ? 'egg' : null) }
    const { pindb } = setup({ delegates: [empty, eggs] })
    pindb.run(() => {
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.route('read', Egg).set).toBe('default') // eggs has no dbForRead
      expect(pindb.getPinned()).toEqual(new Set(['egg', 'default']))
    })
  })

  it('§11.18 the topology is computed once and frozen: later changes to the inputs neither leak in nor desynchronise', () => {
    const primaries: Record<string, Cfg> = { default: { host: 'p' } }
    const replicas: Record<string, Cfg[]> = { default: [{ host: 'r0' }] }
    const pindb = createPinDb<Cfg>({ primaries, replicas })
    primaries['late'] = { host: 'l' }
    replicas['late'] = []
    replicas['default']!.push({ host: 'r1' })
    expect(Object.isFrozen(pindb.databases)).toBe(true)
    expect(Object.keys(pindb.databases).sort()).toEqual(['default', 'default-0'])
    expect(pindb.topology.sets.get('default')).toEqual(['default-0'])
    pindb.run(() => {
      for (let i = 0; i < 5; i++) expect(pindb.getReplica('default')).toBe('default-0')
      configError(() => pindb.isPinned('late'))
      configError(() => pindb.isPinned('default-1'))
    })
    for (let i = 0; i < 5; i++) expect(pindb.run(() => pindb.dbForRead())).toBe('default-0')
  })

  it('§11.20 contexts follow async chains, not threads: concurrent units of work never share pins or replica choices', async () => {
    const { pindb } = setup()
    const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0))
    let gate!: () => void
    const opened = new Promise<void>((resolve) => (gate = resolve))
    const writer = pindb.run(async () => {
      pindb.dbForWrite(Ham)
      const replica = pindb.getReplica('egg')
      gate()
      await tick()
      expect(pindb.getPinned()).toEqual(new Set(['default']))
      return replica
    })
    const reader = pindb.run(async () => {
      await opened
      expect(pindb.getPinned()).toEqual(new Set())
      expect(pindb.dbForRead(Ham)).toMatch(/^default-\d$/)
      const replica = pindb.getReplica('egg')
      await tick()
      expect(pindb.getPinned()).toEqual(new Set())
      return replica
    })
    const [a, b] = await Promise.all([writer, reader])
    expect(new Set([a, b])).toEqual(new Set(['egg-0', 'egg-1'])) // two contexts, two choices
  })
})

describe('§13.4 gaps: populateReplicas', () => {
  it('exact output: primaries as given (same object), replicas from index 0, shallow merge, no extra keys', () => {
    const tls = { ca: 'ca.pem', rejectUnauthorized: true }
    const primaries = {
      default: { database: 'db1', host: '10.0.1.0', port: 3306, ssl: tls },
      egg: { database: 'eggs', host: '10.0.2.0', port: 5432 },
    }
    const replicas = {
      default: [{ host: '10.0.1.1' }, { host: '10.0.1.2', port: 3307, ssl: { ca: 'other.pem' } }],
      egg: [],
    }
    const out = populateReplicas<Cfg>(primaries, replicas)
    expect(out).toStrictEqual({
      default: { database: 'db1', host: '10.0.1.0', port: 3306, ssl: { ca: 'ca.pem', rejectUnauthorized: true } },
      'default-0': { database: 'db1', host: '10.0.1.1', port: 3306, ssl: { ca: 'ca.pem', rejectUnauthorized: true } },
      'default-1': { database: 'db1', host: '10.0.1.2', port: 3307, ssl: { ca: 'other.pem' } }, // not deep-merged
      egg: { database: 'eggs', host: '10.0.2.0', port: 5432 },
    })
    expect(Object.keys(out).sort()).toEqual(['default', 'default-0', 'default-1', 'egg'])
    expect(out['default']).toBe(primaries.default) // the same object
    expect(out['egg']).toBe(primaries.egg)
    expect(out['default-0']).not.toBe(primaries.default)
    expect(out['default-0']!['ssl']).toBe(tls) // shallow: nested objects shared unless overridden
    expect(out['default-1']!['ssl']).toBe(replicas.default[1]!.ssl)
    expect(out).not.toHaveProperty('TEST_MIRROR')
    expect(out['default-0']).not.toHaveProperty('TEST_MIRROR')
  })

  it('does not mutate its inputs (works on deeply frozen inputs, leaves them equal)', () => {
    const primaries = { default: { host: 'p', opts: { a: 1 } } }
    const replicas = { default: [{ host: 'r', opts: { b: 2 } }, { port: 1 }] }
    const snapshot = structuredClone({ primaries, replicas })
    const deepFreeze = (o: object): void => {
      Object.freeze(o)
      for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object)
    }
    deepFreeze(primaries)
    deepFreeze(replicas)
    const out = populateReplicas<Cfg>(primaries, replicas)
    expect({ primaries, replicas }).toStrictEqual(snapshot)
    expect(out['default-1']).toStrictEqual({ host: 'p', opts: { a: 1 }, port: 1 })
  })

  it('zero replicas emits only the primary; `[]` is allowed', () => {
    expect(populateReplicas<Cfg>({ default: { h: 1 } }, { default: [] })).toStrictEqual({ default: { h: 1 } })
  })

  it('a primary with no replica list → PinDbConfigError naming replicas.<set> and the `[]` fix', () => {
    const e = configError(() => populateReplicas<Cfg>({ default: {}, egg: {} }, { default: [] }), 'replicas.egg')
    expect(e.message).toContain('egg')
    expect(e.message).toContain('[]')
    configError(() => createPinDb<Cfg>({ primaries: { default: {}, egg: {} }, replicas: { default: [] } }), 'replicas.egg')
  })

  it('a replica list that is not an array → PinDbConfigError', () => {
    configError(() => populateReplicas<Cfg>({ default: {} }, { default: {} as unknown as Cfg[] }), 'replicas.default')
  })

  it('no default primary → PinDbConfigError naming primaries and the unmanagedDefault fix; unmanagedDefault allows it', () => {
    const e = configError(() => populateReplicas<Cfg>({ ham: {} }, { ham: [] }), 'primaries')
    expect(e.message).toContain('default')
    expect(e.message).toContain('unmanagedDefault')
    expect(populateReplicas<Cfg>({ ham: { h: 1 } }, { ham: [{}] }, { unmanagedDefault: true })).toStrictEqual({
      ham: { h: 1 },
      'ham-0': { h: 1 },
    })
  })

  it('unmanagedDefault in createPinDb: "default" is an unmanaged pass-through (never pinned, strict writes allowed)', () => {
    const pindb = createPinDb<Cfg>({
      primaries: { ham: {} },
      replicas: { ham: [{}] },
      unmanaged: { default: {} },
      unmanagedDefault: true,
      mode: 'strict',
      delegates: [{ dbForRead: (h) => (h.model === 'Ham' ? 'ham' : undefined) }],
    })
    pindb.run(() => {
      expect(pindb.route('write', Egg)).toMatchObject({ alias: 'default', set: undefined, role: 'unmanaged', reason: 'unmanaged' })
      expect(pindb.dbForRead(Egg)).toBe('default')
      expect(pindb.dbForRead(Ham)).toBe('ham-0')
      expect(pindb.getPinned()).toEqual(new Set())
    })
  })

  it('unmanagedDefault with no "default" at all: a query no delegate answers → PinDbConfigError (delegates)', () => {
    const pindb = createPinDb<Cfg>({
      primaries: { ham: {} },
      replicas: { ham: [] },
      unmanagedDefault: true,
      delegates: [{ dbForRead: (h) => (h.model === 'Ham' ? 'ham' : undefined) }],
    })
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toBe('ham')
      configError(() => pindb.dbForRead(Egg), 'delegates')
    })
  })

  it('alias collision: a primary named "x-0" beside "x" with replicas → PinDbConfigError, whatever the key order', () => {
    const a = configError(() => populateReplicas<Cfg>({ default: {}, x: {}, 'x-0': {} }, { default: [], x: [{}], 'x-0': [] }), /^replicas\.x\b/)
    expect(a.message).toContain('x-0')
    const b = configError(() => populateReplicas<Cfg>({ 'x-0': {}, default: {}, x: {} }, { default: [], x: [{}], 'x-0': [] }), /^replicas\.x\b/)
    expect(b.message).toContain('x-0')
    // No collision when x has no replica 0.
    expect(Object.keys(populateReplicas<Cfg>({ default: {}, x: {}, 'x-1': {} }, { default: [], x: [{}], 'x-1': [] })).sort()).toEqual([
      'default',
      'x',
      'x-0',
      'x-1',
    ])
  })

  it('an unmanaged alias colliding with a primary or replica → PinDbConfigError naming unmanaged.<alias>', () => {
    configError(() => createPinDb<Cfg>({ primaries: { default: {} }, replicas: { default: [{}] }, unmanaged: { 'default-0': {} } }), 'unmanaged.default-0')
    configError(() => createPinDb<Cfg>({ primaries: { default: {} }, replicas: { default: [] }, unmanaged: { default: {} } }), 'unmanaged.default')
  })

  it('an override that is not an object → PinDbConfigError naming replicas.<set>[i]', () => {
    for (const bad of [null, 'replica-host', 5, [{ host: 'x' }], undefined]) {
      const e = configError(
        () => populateReplicas<Cfg>({ default: {} }, { default: [{}, bad as unknown as Cfg] }),
        'replicas.default[1]',
      )
      expect(e.message).toMatch(/object/)
    }
  })

  it('a primary config that is not an object → PinDbConfigError naming primaries.<set>', () => {
    configError(() => populateReplicas<Cfg>({ default: 'postgres://x' as unknown as Cfg }, { default: [] }), 'primaries.default')
  })

  it('a replica list for no primary → PinDbConfigError naming replicas.<set>', () => {
    const e = configError(() => populateReplicas<Cfg>({ default: {} }, { default: [], ham: [{}] }), 'replicas.ham')
    expect(e.message).toContain('ham')
  })
})

describe('§13.4 gaps: unknown aliases and delegate answers', () => {
  const { pindb } = setup({ mode: 'strict' })

  it('an unknown alias passed to pin / isPinned / isNewlyPinned / getReplica → PinDbConfigError (PINDB_UNKNOWN_ALIAS) naming it', () => {
    pindb.run(() => {
      for (const [api, call] of [
        ['pin(alias)', () => pindb.pin('nope')],
        ['isPinned(alias)', () => pindb.isPinned('nope')],
        ['isNewlyPinned(alias)', () => pindb.isNewlyPinned('nope')],
        ['getReplica(alias)', () => pindb.getReplica('nope')],
      ] as const) {
        const e = configError(call, api)
        expect(e.code).toBe('PINDB_UNKNOWN_ALIAS')
        expect(e.message).toContain('"nope"')
        expect(e.message).toContain('default') // lists the known sets
      }
    })
  })

  it('an unknown alias passed to withPrimary / withUnpinnedReplica → PinDbConfigError, and fn never runs', () => {
    let ran = 0
    pindb.run(() => {
      configError(() => pindb.withPrimary('nope', () => ran++), 'withPrimary(alias)')
      configError(() => pindb.withUnpinnedReplica('nope', () => ran++), 'withUnpinnedReplica(alias)')
    })
    expect(ran).toBe(0)
  })

  it('an unknown alias passed to reportFailure → PinDbConfigError', () => {
    configError(() => seamOf(pindb).reportFailure('nope'))
  })

  it('an unknown alias passed to reportSuccess → PinDbConfigError', () => {
    configError(() => seamOf(pindb).reportSuccess('nope'))
  })

  it('an unknown alias passed to track → PinDbConfigError', () => {
    configError(() => seamOf(pindb).track('nope'))
  })

  it('an unknown set passed to notePosition → PinDbConfigError', () => {
    pindb.run(() => {
      configError(() => seamOf(pindb).notePosition('nope', '0/3000148'))
    })
  })

  it('a non-string alias → PinDbConfigError', () => {
    pindb.run(() => {
      configError(() => pindb.pin(5 as unknown as string), 'pin(alias)')
      configError(() => pindb.isPinned(undefined as unknown as string), 'isPinned(alias)')
    })
  })

  it('a delegate returning an unknown alias → PinDbConfigError naming delegates and the alias', () => {
    const p = setup({ delegates: [{ dbForRead: () => 'eggs', dbForWrite: () => 'eggs' }] }).pindb
    p.run(() => {
      const r = configError(() => p.dbForRead(), 'delegates')
      expect(r.code).toBe('PINDB_UNKNOWN_ALIAS')
      expect(r.message).toContain('"eggs"')
      configError(() => p.dbForWrite(), 'delegates')
      expect(p.getPinned()).toEqual(new Set())
    })
  })

  it('a delegate returning a non-string → PinDbConfigError naming delegates', () => {
    const p = setup({ delegates: [{ dbForRead: () => 5 as unknown as string }] }).pindb
    p.run(() => {
      configError(() => p.dbForRead(), 'delegates')
    })
  })

  it('a delegate returning "" / null / undefined → default; the first non-empty answer wins', () => {
    for (const none of ['', null, undefined]) {
      const p = setup({
        delegates: [{ dbForRead: () => none }, { dbForRead: (h) => (h.model === 'Egg' ? 'egg' : none) }, { dbForRead: () => 'frob' }],
      }).pindb
      p.run(() => {
        expect(p.route('read', Egg).set).toBe('egg')
        expect(p.dbForRead(Ham)).toBe('frob')
      })
      const q = setup({ delegates: [{ dbForRead: () => none, dbForWrite: () => none }] }).pindb
      q.run(() => {
        expect(q.route('read', Ham).set).toBe('default')
        expect(q.dbForWrite(Ham)).toBe('default')
      })
    }
  })

  it('delegates receive the hints as given, for reads and writes', () => {
    const seen: Array<[string, RouteHints]> = []
    const hints: RouteHints = { model: 'Ham', table: 'hams', extra: 1 }
    const p = setup({
      delegates: [
        {
          dbForRead: (h) => {
            seen.push(['read', h])
            return undefined
          },
          dbForWrite: (h) => {
            seen.push(['write', h])
            return undefined
          },
        },
      ],
    }).pindb
    p.run(() => {
      p.dbForRead(hints)
      p.dbForWrite(hints)
    })
    expect(seen).toEqual([
      ['read', hints],
      ['write', hints],
    ])
  })
})

describe('§13.4 gaps: carried pins and capturePins', () => {
  it('carried pins: unknown sets dropped, expired dropped (expiresAt <= now), far future clamped to now + pinSeconds', () => {
    const { pindb, clock } = setup()
    const now = clock.now
    pindb.run(
      () => {
        expect(pindb.getPinned()).toEqual(new Set(['egg']))
        expect(pindb.isNewlyPinned('egg')).toBe(false)
        expect(pindb.capturePins()).toEqual([{ set: 'egg', expiresAt: now + 15_000 }]) // clamped
      },
      {
        pins: [
          { set: 'default', expiresAt: now }, // expired: now >= expiresAt
          { set: 'ham', expiresAt: now + 1_000 },
          { set: 'egg', expiresAt: now + 10 * 365 * 86_400_000 },
        ],
      },
    )
  })

  it('a carried pin with no new activity is carried on with the same expiry, until it expires', () => {
    const { pindb, clock } = setup()
    const start = clock.now
    const carried = [{ set: 'default', expiresAt: start + 5_000 }]
    pindb.run(
      () => {
        pindb.dbForRead(Ham)
        expect(pindb.capturePins()).toEqual(carried)
        clock.now = start + 4_999
        expect(pindb.capturePins()).toEqual(carried)
        clock.now = start + 5_000
        expect(pindb.capturePins()).toEqual([])
      },
      { pins: carried },
    )
  })

  it('a write only inside withPrimary produces no pins (create_no_pins)', () => {
    const { pindb } = setup()
    pindb.run(() => {
      pindb.withPrimary('default', () => {
        expect(pindb.dbForWrite(Ham)).toBe('default')
        expect(pindb.isPinned('default')).toBe(false)
      })
      expect(pindb.getPinned()).toEqual(new Set())
      expect(pindb.capturePins()).toEqual([])
    })
  })

  it('strict: only an explicit pin() creates a pin to carry; a carried pin allows writes and is not refreshed by them', () => {
    const { pindb, clock } = setup({ mode: 'strict' })
    const now = clock.now
    pindb.run(
      () => {
        expect(pindb.dbForWrite(Ham)).toBe('default')
        expect(pindb.isNewlyPinned('default')).toBe(false)
        expect(pindb.capturePins()).toEqual([{ set: 'default', expiresAt: now + 3_000 }])
        pindb.pin('egg')
        expect(pindb.capturePins()).toEqual([
          { set: 'default', expiresAt: now + 3_000 },
          { set: 'egg', expiresAt: now + 15_000 },
        ])
      },
      { pins: [{ set: 'default', expiresAt: now + 3_000 }] },
    )
  })

  it('pinSeconds sets the expiry of new pins (ms clock)', () => {
    const { pindb, clock } = setup({ pinSeconds: 2.5 })
    pindb.run(() => {
      pindb.dbForWrite(Egg) // no delegates here: the default set
      expect(pindb.capturePins()).toEqual([
        { set: 'default', expiresAt: clock.now + 2_500 },
      ])
    })
  })
})

describe('§13.4 gaps: withPrimary runs and nests; getReplica ignores pins and the kill switch', () => {
  it('withPrimary nests and restores each level', () => {
    const { pindb } = setup({ mode: 'strict' })
    pindb.run(() => {
      const replica = pindb.getReplica('default')
      pindb.withPrimary('default', () => {
        pindb.withPrimary('default-1', () => {
          expect(pindb.dbForWrite(Ham)).toBe('default')
        })
        expect(pindb.dbForRead(Ham)).toBe('default')
        expect(pindb.dbForWrite(Ham)).toBe('default')
      })
      expect(pindb.dbForRead(Ham)).toBe(replica)
      expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
      expect(pindb.getPinned()).toEqual(new Set())
    })
  })

  it('getReplica answers "which replica would be used", even when the set is pinned or pindb is disabled', () => {
    let on = true
    const { pindb } = setup({ enabled: () => on })
    pindb.run(() => {
      const replica = pindb.getReplica('default')
      expect(replica).toMatch(/^default-[01]$/)
      pindb.pin('default')
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.getReplica('default')).toBe(replica)
      on = false
      expect(pindb.getReplica('default')).toBe(replica)
      expect(pindb.getReplica('egg')).toMatch(/^egg-[01]$/)
      expect(pindb.getReplica('frob')).toBe('frob')
    })
  })
})

describe('§13.4 gaps: createPinDb options', () => {
  const base = { primaries: { default: {} }, replicas: { default: [{}] } }

  it('an unknown option key → PinDbConfigError naming it and listing the known ones', () => {
    for (const key of ['pinSecond', 'mirror', 'Mode']) {
      const e = configError(() => createPinDb({ ...base, [key]: 1 } as unknown as PinDbOptions<Cfg>), key)
      expect(e.message).toContain('pinSeconds')
    }
  })

  it.each([
    ['mode', { mode: 'lazy' }, 'mode'],
    ['mode (case)', { mode: 'Strict' }, 'mode'],
    ['pinSeconds 0', { pinSeconds: 0 }, 'pinSeconds'],
    ['pinSeconds negative', { pinSeconds: -1 }, 'pinSeconds'],
    ['pinSeconds NaN', { pinSeconds: Number.NaN }, 'pinSeconds'],
    ['pinSeconds Infinity', { pinSeconds: Number.POSITIVE_INFINITY }, 'pinSeconds'],
    ['pinSeconds string', { pinSeconds: '15' }, 'pinSeconds'],
    ['enabled string', { enabled: 'yes' }, 'enabled'],
    ['delegates not an array', { delegates: hamAndEgg }, 'delegates'],
    ['delegate not an object', { delegates: ['egg'] }, 'delegates[0]'],
    ['delegate method not a function', { delegates: [{ dbForRead: 'egg' }] }, 'delegates[0]'],
    ['replicaChoice unknown', { replicaChoice: 'fastest' }, 'replicaChoice'],
    ['replicaChoice weight negative', { replicaChoice: { weights: { 'default-0': -1 } } }, /^replicaChoice\.weights/],
    ['clock', { clock: 5 }, 'clock'],
    ['random', { random: 'x' }, 'random'],
    ['onRoute', { onRoute: true }, 'onRoute'],
    ['maxLag null', { maxLag: null }, 'maxLag'],
    ['maxLag.ms negative', { maxLag: { ms: -5 } }, 'maxLag.ms'],
    ['noReplica', { noReplica: 'replica' }, 'noReplica'],
    ['backoff.baseMs 0', { backoff: { baseMs: 0 } }, 'backoff.baseMs'],
    ['unmanaged not an object', { unmanaged: 'frob' }, 'unmanaged'],
    ['primaries not an object', { primaries: [] }, 'primaries'],
  ] as const)('a bad option value (%s) → PinDbConfigError naming the option', (_name, extra, option) => {
    configError(() => createPinDb({ ...base, ...extra } as unknown as PinDbOptions<Cfg>), option)
  })

  it('a bad option value (causal not a boolean) → PinDbConfigError naming causal', () => {
    configError(() => createPinDb({ ...base, causal: 'yes' } as unknown as PinDbOptions<Cfg>), 'causal')
  })

  it('a bad option value (unmanagedDefault not a boolean) → PinDbConfigError naming unmanagedDefault', () => {
    configError(() => createPinDb({ ...base, unmanagedDefault: 'yes' } as unknown as PinDbOptions<Cfg>), 'unmanagedDefault')
  })

  it('a bad option value (backoff not an object) → PinDbConfigError naming backoff', () => {
    configError(() => createPinDb({ ...base, backoff: 5 } as unknown as PinDbOptions<Cfg>), 'backoff')
  })

  it('defaults: greedy mode, enabled, pinSeconds 15', () => {
    const now = 5_000
    const pindb = createPinDb<Cfg>({ ...base, clock: () => now })
    expect(pindb.mode).toBe('greedy')
    expect(pindb.enabled).toBe(true)
    pindb.run(() => {
      expect(pindb.dbForWrite()).toBe('default')
      expect(pindb.capturePins()).toEqual([{ set: 'default', expiresAt: now + 15_000 }])
    })
  })
})
