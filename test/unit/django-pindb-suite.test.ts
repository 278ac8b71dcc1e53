/**
 * The upstream django-pindb 0.1.12 test suite (`pindb/tests.py`, reference §13.3, tests 1–24),
 * ported one `it` per upstream test, with the upstream configurations of §13.2.
 *
 * - The mocked `random.randint` becomes an injected replica picker: a custom `replicaChoice`
 *   that returns `candidates[k]` for a `k` the test sets (an out-of-range `k` makes the core
 *   throw, so a non-sticky implementation that consults the picker again is caught).
 * - The mocked `time.time` becomes an injected clock (epoch ms; pinSeconds S = 15 → 15 000 ms).
 * - A thread-local "pinning context" becomes one `pindb.run(fn)`.
 * - Django-only parts (models and real DBs, syncdb/allow_relation, the cookie middleware) are
 *   ported by intent where pindb has an equivalent (capturePins / run({ pins })).
 */
import { describe, expect, it } from 'vitest'
import {
  createPinDb,
  populateReplicas,
  PinDbConfigError,
  PinDbError,
  UnpinnedWriteError,
  type Delegate,
  type PinDb,
  type PinDbOptions,
  type PinRecord,
  type ReplicaChooser,
} from '../../src/index.js'

type Cfg = Record<string, unknown>

/** `test_project.router.HamAndEggRouter`: `"egg"` for EggModel, no opinion otherwise. */
const hamAndEggRouter: Delegate = {
  dbForRead: (h) => (h.model === 'Egg' ? 'egg' : undefined),
  dbForWrite: (h) => (h.model === 'Egg' ? 'egg' : undefined),
}

const Ham = { model: 'Ham' } as const
const Egg = { model: 'Egg' } as const
const FrobModel = { model: 'Frob' } as const

const S = 15
const S_MS = S * 1000

type ConfigName = 'no_delegate' | 'delegate_strict' | 'delegate_greedy' | 'greedy_middleware' | 'disabled'

interface Harness {
  pindb: PinDb<Cfg>
  /** The mocked randint: index into the candidates the picker returns. */
  setRandint(k: number): void
  /** How many times the picker was consulted. */
  picks(): number
  /** The mocked time, epoch ms. */
  setTime(ms: number): void
}

/** Builds a pindb from one of the upstream configurations (§13.2). */
function harness(name: ConfigName): Harness {
  let k = 0
  let now = 1_000
  let picks = 0
  const replicaChoice: ReplicaChooser = ({ candidates }) => {
    picks++
    // Out of range → undefined → the core throws PinDbConfigError: a test that expects a sticky
    // choice sets k out of range so a re-pick is caught.
    return candidates[k] as string
  }
  const common = { replicaChoice, clock: () => now, pinSeconds: S }
  let options: PinDbOptions<Cfg>
  switch (name) {
    case 'no_delegate':
      options = {
        ...common,
        mode: 'strict',
        primaries: { default: { name: 'test_default' }, egg: { name: 'test_egg' } },
        replicas: { default: [{}, {}], egg: [] },
      }
      break
    case 'delegate_strict':
    case 'delegate_greedy':
    case 'greedy_middleware':
      options = {
        ...common,
        mode: name === 'delegate_strict' ? 'strict' : 'greedy',
        primaries: { default: { name: 'test_default' }, egg: { name: 'test_egg' } },
        replicas: { default: [], egg: [{}, {}] },
        unmanaged: { frob: { name: 'test_frob' } },
        delegates: [hamAndEggRouter],
      }
      break
    case 'disabled':
      options = {
        ...common,
        mode: 'greedy',
        primaries: { default: { name: 'test_default' }, egg: { name: 'test_egg' } },
        replicas: { default: [{}, {}], egg: [] },
        delegates: [hamAndEggRouter],
        enabled: false,
      }
      break
  }
  return {
    pindb: createPinDb(options),
    setRandint: (v) => {
      k = v
    },
    picks: () => picks,
    setTime: (ms) => {
      now = ms
    },
  }
}

/** Runs `fn`, expecting a throw; returns what was thrown. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function expectUnpinnedWrite(fn: () => unknown, set: string): void {
  const err = thrown(fn)
  expect(err).toBeInstanceOf(UnpinnedWriteError)
  expect((err as UnpinnedWriteError).code).toBe('PINDB_UNPINNED_WRITE')
  expect((err as UnpinnedWriteError).dbSet).toBe(set)
}

/** Tests #6 and #12 (`test_pinning`), shared as upstream shares the assertions. */
function testPinning(h: Harness): void {
  const { pindb } = h
  pindb.run(() => {
    for (const alias of ['default', 'egg']) {
      expect(pindb.isPinned(alias)).toBe(false)
      pindb.pin(alias)
      expect(pindb.isPinned(alias)).toBe(true)
    }
    pindb.unpinAll()
    for (const alias of ['default', 'egg']) expect(pindb.isPinned(alias)).toBe(false)

    pindb.pin('default')
    const p1 = pindb.getPinned()
    expect(p1.has('default')).toBe(true)
    pindb.unpinAll()
    const p2 = pindb.getPinned()
    expect(p2.has('default')).toBe(false)
    expect(p1.has('default')).toBe(true) // a copy, not a live view

    pindb.unpinAll()
    expect(pindb.getNewlyPinned().size).toBe(0)
    pindb.pin('default')
    expect(pindb.getNewlyPinned().size).toBe(1)
    pindb.unpinAll()
    expect(pindb.getNewlyPinned().size).toBe(0)
  })
  // `pin('default', count_as_new=False)`: pindb's equivalent is a pin carried into the context.
  pindb.run(
    () => {
      expect(pindb.getNewlyPinned().size).toBe(0)
      expect(pindb.getPinned().size).toBe(1)
      expect(pindb.isPinned('default')).toBe(true)
    },
    { pins: [{ set: 'default', expiresAt: 1_000 + 5_000 }] },
  )
}

describe('InitTestCase', () => {
  it('#1 InitTestCase.test_init_worked', async () => {
    // Upstream: a dirty thread-local that was never initialised is reset on first use.
    // pindb: a fresh run always starts clean, even right after a run that left pins behind
    // (without unpinAll) and even when started from inside that dirty context.
    const h = harness('no_delegate')
    const { pindb } = h
    let firstReplica = ''
    await pindb.run(async () => {
      pindb.pin('default')
      pindb.pin('egg')
      firstReplica = pindb.getReplica('default')
      await Promise.resolve()
      expect(pindb.getPinned()).toEqual(new Set(['default', 'egg']))
      // A run started inside this dirty context is still clean.
      pindb.run(() => {
        expect(pindb.getPinned()).toEqual(new Set())
        expect(pindb.getNewlyPinned()).toEqual(new Set())
        expect(pindb.dbForRead(Ham)).toMatch(/^default-[01]$/)
      })
      expect(pindb.getPinned()).toEqual(new Set(['default', 'egg']))
    })
    const picksBefore = h.picks()
    pindb.run(() => {
      expect(pindb.getPinned()).toEqual(new Set())
      expect(pindb.getNewlyPinned()).toEqual(new Set())
      expect(pindb.isPinned('default')).toBe(false)
      expect(pindb.dbForRead(Ham)).toMatch(/^default-[01]$/)
    })
    // The sticky replica choice did not leak either: the new context chose again.
    expect(h.picks()).toBe(picksBefore + 1)
    expect(firstReplica).toMatch(/^default-[01]$/)
    expect(pindb.getPinned()).toEqual(new Set())
  })

  it('#2 InitTestCase.test_init_happens_only_once', async () => {
    // Upstream: init resets once per thread; later calls keep the state; a thread that was
    // never initialised is reset again. pindb: state lives as long as its run, across any
    // number of calls and awaits; only a new run starts clean.
    const { pindb } = harness('no_delegate')
    await pindb.run(async () => {
      pindb.pin('default')
      expect(pindb.getPinned()).toEqual(new Set(['default']))
      pindb.getReplica('default')
      pindb.dbForRead(Ham)
      pindb.isPinned('egg')
      await new Promise((resolve) => setImmediate(resolve))
      expect(pindb.getPinned()).toEqual(new Set(['default'])) // no second reset
      pindb.pin('egg')
      await new Promise((resolve) => setTimeout(resolve, 0))
      expect(pindb.getPinned()).toEqual(new Set(['default', 'egg']))
    })
    pindb.run(() => {
      expect(pindb.getPinned()).toEqual(new Set())
    })
  })
})

describe('MisconfiguredTest', () => {
  it('#3 MisconfiguredTest.test_router_catches_misconfiguration', () => {
    // No MASTER_DATABASES / DATABASE_SETS: building the router raises PinDbConfigError.
    const none = thrown(() => createPinDb({} as unknown as PinDbOptions<Cfg>))
    expect(none).toBeInstanceOf(PinDbConfigError)
    expect((none as PinDbConfigError).option).toBe('primaries')
    const noSets = thrown(() => createPinDb({ primaries: { default: {} } } as unknown as PinDbOptions<Cfg>))
    expect(noSets).toBeInstanceOf(PinDbConfigError)
    expect((noSets as PinDbConfigError).option).toBe('replicas')
    expect(noSets).toBeInstanceOf(PinDbError)
  })

  it('#4 MisconfiguredTest.test_populate_replicas_catches_misconfiguration', () => {
    const err = thrown(() => populateReplicas<Cfg>({ ham: {}, egg: {} }, {}))
    expect(err).toBeInstanceOf(PinDbConfigError)
    // The default-master check fires first (before "no replica settings for ham").
    expect((err as PinDbConfigError).option).toBe('primaries')
    expect((err as PinDbConfigError).message).toMatch(/default/)
    expect(() => populateReplicas<Cfg>({ default: {}, egg: {} }, { default: [], egg: [] })).not.toThrow()
  })
})

describe('NoDelegateTest (no_delegate: strict, default: 2 replicas, egg: none, no delegates)', () => {
  it('#5 NoDelegateTest.test_internals', () => {
    // DB_SET_SIZES['default'] == 1 (2 replicas), DB_SET_SIZES['egg'] == -1 (none).
    const { pindb } = harness('no_delegate')
    expect(pindb.topology.sets.get('default')).toEqual(['default-0', 'default-1'])
    expect(pindb.topology.sets.get('egg')).toEqual([])
    expect(Object.keys(pindb.databases).sort()).toEqual(['default', 'default-0', 'default-1', 'egg'])
  })

  it('#6 NoDelegateTest.test_pinning', () => {
    testPinning(harness('no_delegate'))
  })

  it('#7 NoDelegateTest.test_unpinned_replica', () => {
    const h = harness('no_delegate')
    const { pindb } = h
    pindb.run(() => {
      pindb.pin('default')
      expect(pindb.dbForRead(Ham)).toBe('default')
      h.setRandint(1)
      pindb.withUnpinnedReplica('default', () => {
        expect(pindb.dbForRead(Ham)).toBe('default-1')
      })
      expect(pindb.dbForRead(Ham)).toBe('default')

      class ValueError extends Error {}
      expect(() =>
        pindb.withUnpinnedReplica('default', () => {
          throw new ValueError('inner')
        }),
      ).toThrow(ValueError)
      expect(pindb.dbForRead(Ham)).toBe('default')

      // @with_replicas("default") and @with_replicas(["default"]): a wrapper built once, called later.
      const withReplicas = <T>(aliases: string | string[], fn: () => T) => (): T =>
        [...new Set(typeof aliases === 'string' ? [aliases] : aliases)].reduceRight<() => T>(
          (inner, alias) => () => pindb.withUnpinnedReplica(alias, inner),
          fn,
        )()
      const fromReplica = withReplicas('default', () => pindb.dbForRead(Ham))
      h.setRandint(1)
      expect(fromReplica()).toBe('default-1')
      const fromReplicaList = withReplicas(['default'], () => pindb.dbForRead(Ham))
      h.setRandint(2) // would be "default-2" if the choice were not sticky
      expect(fromReplicaList()).toBe('default-1')
      expect(pindb.dbForRead(Ham)).toBe('default')
    })
  })

  it('#8 NoDelegateTest.test_with_master', () => {
    const h = harness('no_delegate')
    const { pindb } = h
    h.setRandint(0)
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toBe('default-0')
      pindb.withPrimary('default', () => {
        expect(pindb.dbForRead(Ham)).toBe('default')
      })
      expect(pindb.dbForRead(Ham)).toBe('default-0')
      // Upstream defines `@with_masters(["default"]) to_master` but never calls it; call it here.
      const toMaster = () => pindb.withPrimary('default', () => pindb.dbForRead(Ham))
      expect(toMaster()).toBe('default')
      expect(pindb.dbForRead(Ham)).toBe('default-0')
    })
  })

  it('#9 NoDelegateTest.test_get_replica', () => {
    const h = harness('no_delegate')
    const { pindb } = h
    pindb.run(() => {
      h.setRandint(0)
      expect(pindb.getReplica('default')).toBe('default-0')
      h.setRandint(1)
      expect(pindb.getReplica('default')).toBe('default-0') // sticky
      expect(pindb.getReplica('egg')).toBe('egg') // no replicas
      // Upstream: get_replica('frob') == 'frob' for an alias it does not know. Deliberate
      // deviation required by pindb's contract: an unknown alias is a PinDbConfigError.
      const err = thrown(() => pindb.getReplica('frob'))
      expect(err).toBeInstanceOf(PinDbConfigError)
      expect((err as PinDbConfigError).code).toBe('PINDB_UNKNOWN_ALIAS')
    })
  })

  it('#10 NoDelegateTest.test_router', () => {
    const { pindb } = harness('no_delegate')
    pindb.run(() => {
      expect(['default-0', 'default-1']).toContain(pindb.dbForRead(Ham))
      expectUnpinnedWrite(() => pindb.dbForWrite(Ham), 'default')
      // No delegate: every model belongs to the default set.
      expect(['default-0', 'default-1']).toContain(pindb.dbForRead(Egg))
      expectUnpinnedWrite(() => pindb.dbForWrite(Egg), 'default')
      pindb.pin('default')
      expect(pindb.dbForWrite(Ham)).toBe('default')
      // "Create 2 Hams and 1 Egg": all three writes are allowed and go to default.
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.dbForWrite(Egg)).toBe('default')
      // allow_relation / allow_syncdb: Django-only, pindb has no equivalent (no ORM relations or migrations).
    })
  })
})

describe('FullyConfiguredStrictTest (delegate_strict: default: none, egg: 2 replicas, frob unmanaged)', () => {
  it('#11 FullyConfiguredStrictTest.test_internals', () => {
    const { pindb } = harness('delegate_strict')
    expect(pindb.topology.sets.get('default')).toEqual([])
    expect(pindb.topology.sets.get('egg')).toEqual(['egg-0', 'egg-1'])
    expect(Object.keys(pindb.databases).sort()).toEqual(['default', 'egg', 'egg-0', 'egg-1', 'frob'])
  })

  it('#12 FullyConfiguredStrictTest.test_pinning', () => {
    testPinning(harness('delegate_strict'))
  })

  it('#13 FullyConfiguredStrictTest.test_get_replica', () => {
    const h = harness('delegate_strict')
    const { pindb } = h
    pindb.run(() => {
      h.setRandint(0)
      expect(pindb.getReplica('default')).toBe('default')
      h.setRandint(1)
      expect(pindb.getReplica('default')).toBe('default')
      h.setRandint(0)
      expect(pindb.getReplica('egg')).toBe('egg-0')
      h.setRandint(1)
      expect(pindb.getReplica('egg')).toBe('egg-0') // sticky
      expect(pindb.getReplica('frob')).toBe('frob') // unmanaged: unchanged
      // Upstream: get_replica('nope') == 'nope'. Deliberate deviation (contract): unknown → PinDbConfigError.
      const err = thrown(() => pindb.getReplica('nope'))
      expect(err).toBeInstanceOf(PinDbConfigError)
      expect((err as PinDbConfigError).message).toContain('nope')
    })
  })

  it('#14 FullyConfiguredStrictTest.test_router', () => {
    const { pindb } = harness('delegate_strict')
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toBe('default') // no replicas
      expectUnpinnedWrite(() => pindb.dbForWrite(Ham), 'default') // even with 0 replicas
      expect(['egg-0', 'egg-1']).toContain(pindb.dbForRead(Egg))
      expectUnpinnedWrite(() => pindb.dbForWrite(Egg), 'egg')
      pindb.pin('default')
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.dbForWrite(Ham)).toBe('default')
      // A pin on one set does not allow writes to another.
      expectUnpinnedWrite(() => pindb.dbForWrite(Egg), 'egg')
      pindb.pin('egg')
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      // allow_relation / allow_syncdb: Django-only, no equivalent.
      expect(pindb.dbForRead(FrobModel)).toBe('default') // delegate has no opinion → default
    })
  })
})

describe('FullyConfiguredGreedyTest (delegate_greedy)', () => {
  it('#15 FullyConfiguredGreedyTest.test_router', () => {
    const { pindb } = harness('delegate_greedy')
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.isPinned('default')).toBe(false)
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.isPinned('default')).toBe(true) // even with 0 replicas
      expect(['egg-0', 'egg-1']).toContain(pindb.dbForRead(Egg))
      expect(pindb.isPinned('egg')).toBe(false)
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      expect(pindb.isPinned('egg')).toBe(true)
      expect(pindb.dbForRead(Egg)).toBe('egg')

      pindb.unpinAll()
      pindb.dbForWrite(Ham) // Ham.create()
      expect(pindb.isPinned('default')).toBe(true)
      expect(pindb.isPinned('egg')).toBe(false)
      pindb.dbForWrite(Egg) // Egg.create()
      expect(pindb.isPinned('egg')).toBe(true)

      pindb.unpinAll()
      // Ham.get / Egg.get: reads go to the replicas again (there is no data to fetch in pindb).
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(['egg-0', 'egg-1']).toContain(pindb.dbForRead(Egg))
    })
  })

  it('#16 FullyConfiguredGreedyTest.test_new_pins_persist', () => {
    const { pindb } = harness('delegate_greedy')
    pindb.run(() => {
      expect(['egg-0', 'egg-1']).toContain(pindb.dbForRead(Egg))
      expect(pindb.isNewlyPinned('egg')).toBe(false)
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      expect(pindb.isNewlyPinned('egg')).toBe(true)
    })
  })

  it('#17 FullyConfiguredGreedyTest.test_misdirected_save', () => {
    const { pindb } = harness('delegate_greedy')
    pindb.run(() => {
      pindb.dbForWrite(Egg) // Egg.create()
      pindb.unpinAll()
      expect(['egg-0', 'egg-1']).toContain(pindb.dbForRead(Egg)) // Egg.get(id), from a replica
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      expect(pindb.isPinned('egg')).toBe(true)
    })
  })
})

describe('GreedyMiddlewareTest (greedy_middleware; the cookie is capturePins / run({ pins }))', () => {
  it('#18 GreedyMiddlewareTest.test_read', () => {
    const { pindb } = harness('greedy_middleware')
    const pins = pindb.run(() => {
      pindb.dbForRead(Ham)
      pindb.dbForRead(Egg)
      return pindb.capturePins()
    })
    expect(pins).toEqual([])
  })

  it('#19 GreedyMiddlewareTest.test_write', () => {
    const h = harness('greedy_middleware')
    const { pindb } = h
    h.setTime(1_000)
    const first = pindb.run(() => {
      pindb.dbForWrite(Ham)
      return pindb.capturePins()
    })
    expect(first).toEqual([{ set: 'default', expiresAt: 1_000 + S_MS }])
    h.setTime(2_000)
    const second = pindb.run(
      () => {
        pindb.dbForWrite(Ham)
        return pindb.capturePins()
      },
      { pins: first },
    )
    expect(second).toEqual([{ set: 'default', expiresAt: 2_000 + S_MS }]) // refreshed
  })

  it('#20 GreedyMiddlewareTest.test_write_with_existing', () => {
    const h = harness('greedy_middleware')
    const { pindb } = h
    h.setTime(1_000)
    const first = pindb.run(() => {
      pindb.dbForWrite(Ham)
      return pindb.capturePins()
    })
    expect(first).toEqual([{ set: 'default', expiresAt: 1_000 + S_MS }])
    h.setTime(2_000)
    // create_one_pin: `with master("default"): Ham.create()`, then `Egg.create()`.
    const second = pindb.run(
      () => {
        pindb.withPrimary('default', () => {
          expect(pindb.dbForWrite(Ham)).toBe('default')
        })
        expect(pindb.dbForWrite(Egg)).toBe('egg')
        return pindb.capturePins()
      },
      { pins: first },
    )
    expect(second).toEqual([
      { set: 'default', expiresAt: 1_000 + S_MS }, // carried: keeps its expiry, not refreshed by the write inside withPrimary
      { set: 'egg', expiresAt: 2_000 + S_MS }, // new greedy pin
    ])
  })

  it('#21 GreedyMiddlewareTest.test_bad_cookie', () => {
    // `_get_request_pins('bad thing') == []`: malformed carried pins are ignored, not fatal.
    const { pindb } = harness('greedy_middleware')
    const bad = ['bad thing', null, 5, { set: 5, expiresAt: 99_999 }, { expiresAt: 99_999 }] as unknown as PinRecord[]
    pindb.run(
      () => {
        expect(pindb.getPinned()).toEqual(new Set())
        expect(pindb.capturePins()).toEqual([])
        expect(['egg-0', 'egg-1']).toContain(pindb.dbForRead(Egg))
      },
      { pins: bad },
    )
  })

  it('#22 DisabledTest.test_read', () => {
    // Disabled: no cookie is set, and an incoming one is ignored.
    const { pindb } = harness('disabled')
    const pins = pindb.run(
      () => {
        pindb.dbForRead(Ham)
        return pindb.capturePins()
      },
      { pins: [{ set: 'default', expiresAt: 1_000 + 5_000 }] },
    )
    expect(pins).toEqual([])
  })

  it('#23 DisabledTest.test_write', () => {
    const { pindb } = harness('disabled')
    pindb.run(() => {
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.getPinned()).toEqual(new Set()) // a write while disabled does not pin
      expect(pindb.capturePins()).toEqual([])
    })
  })
})

describe('DisabledTest (disabled: greedy, default: 2 replicas, egg: none, enabled false)', () => {
  it('#24 DisabledTest.test_router', () => {
    const { pindb } = harness('disabled')
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toBe('default') // not a replica, although default has 2
      expect(pindb.isPinned('default')).toBe(false)
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.isPinned('default')).toBe(false)
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.dbForRead(Egg)).toBe('egg')
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      expect(pindb.isPinned('egg')).toBe(false)
      expect(pindb.getNewlyPinned()).toEqual(new Set())
    })
  })
})
