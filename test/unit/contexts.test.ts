/**
 * Context API semantics: run, pins and copies, outside-context rules, withPrimary /
 * withUnpinnedReplica, replica choice strategies, failover, maxLag, causal reads, route events.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import {
  createPinDb,
  laterPosition,
  NoReplicaAvailableError,
  positionReached,
  PinDbConfigError,
  PinDbError,
  ROUTE_CHANNEL,
  UnpinnedWriteError,
  type PinDb,
  type PinDbOptions,
  type ReplicaChoiceInput,
  type RouteEvent,
} from '../../src/index.js'
import { seamOf } from '../../src/adapter/seam.js'

type Cfg = Record<string, unknown>

const Ham = { model: 'Ham' } as const
const Egg = { model: 'Egg' } as const
const Frob = { model: 'Frob' } as const

interface Setup {
  pindb: PinDb<Cfg>
  clock: { now: number }
}

/** default: 2 replicas, egg: 2 replicas, solo: none, frob unmanaged; Egg → egg, Frob → frob, Solo → solo. */
function setup(overrides: Partial<PinDbOptions<Cfg>> = {}, defaultReplicas = 2): Setup {
  const clock = { now: 1_000_000 }
  const pindb = createPinDb<Cfg>({
    primaries: { default: {}, egg: {}, solo: {} },
    replicas: { default: Array.from({ length: defaultReplicas }, () => ({})), egg: [{}, {}], solo: [] },
    unmanaged: { frob: {} },
    delegates: [
      {
        dbForRead: (h) => (h.model === 'Egg' ? 'egg' : h.model === 'Frob' ? 'frob' : h.model === 'Solo' ? 'solo' : undefined),
        dbForWrite: (h) => (h.model === 'Egg' ? 'egg' : h.model === 'Frob' ? 'frob' : h.model === 'Solo' ? 'solo' : undefined),
      },
    ],
    clock: () => clock.now,
    ...overrides,
  })
  return { pindb, clock }
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

describe('run', () => {
  it('returns fn’s result: a sync value as is, an async fn’s promise', async () => {
    const { pindb } = setup()
    expect(pindb.run(() => 42)).toBe(42)
    const obj = {}
    expect(pindb.run(() => obj)).toBe(obj)
    const p = pindb.run(async () => {
      await tick()
      return 'done'
    })
    expect(p).toBeInstanceOf(Promise)
    await expect(p).resolves.toBe('done')
  })

  it('propagates fn’s sync throw and async rejection unchanged', async () => {
    const { pindb } = setup()
    const boom = new Error('boom')
    expect(
      thrown(() =>
        pindb.run(() => {
          throw boom
        }),
      ),
    ).toBe(boom)
    await expect(
      pindb.run(async () => {
        await tick()
        throw boom
      }),
    ).rejects.toBe(boom)
  })

  it('the context lasts across awaits of every kind inside fn, and ends with it', async () => {
    const { pindb } = setup()
    expect(pindb.inContext).toBe(false)
    await pindb.run(async () => {
      expect(pindb.inContext).toBe(true)
      pindb.pin('egg')
      await tick()
      await Promise.resolve()
      await new Promise((resolve) => setTimeout(resolve, 0))
      await new Promise<void>((resolve) => process.nextTick(resolve))
      expect(pindb.getPinned()).toEqual(new Set(['egg']))
      await new Promise<void>((resolve) => {
        setTimeout(() => {
          expect(pindb.isPinned('egg')).toBe(true)
          resolve()
        }, 1)
      })
    })
    expect(pindb.inContext).toBe(false)
    expect(pindb.getPinned()).toEqual(new Set())
  })

  it('a nested run is a fresh context and leaves the outer one intact', () => {
    const { pindb } = setup()
    pindb.run(() => {
      pindb.pin('default')
      const outerReplica = pindb.getReplica('egg')
      const inner = pindb.run(() => {
        expect(pindb.getPinned()).toEqual(new Set())
        pindb.pin('egg')
        return pindb.getReplica('egg')
      })
      expect(inner).not.toBe(outerReplica) // round-robin: the inner context got the other replica
      expect(pindb.getPinned()).toEqual(new Set(['default']))
      expect(pindb.getReplica('egg')).toBe(outerReplica)
    })
  })

  it('two interleaved contexts never share pins, new pins or replica choices', async () => {
    const { pindb } = setup()
    const steps: string[] = []
    const a = pindb.run(async () => {
      pindb.pin('default')
      const r = pindb.getReplica('egg')
      steps.push('a1')
      await tick()
      expect(pindb.getPinned()).toEqual(new Set(['default']))
      expect(pindb.getNewlyPinned()).toEqual(new Set(['default']))
      expect(pindb.getReplica('egg')).toBe(r)
      steps.push('a2')
      return r
    })
    const b = pindb.run(async () => {
      expect(pindb.getPinned()).toEqual(new Set())
      pindb.dbForWrite(Egg)
      const r = pindb.getReplica('egg')
      steps.push('b1')
      await tick()
      expect(pindb.getPinned()).toEqual(new Set(['egg']))
      expect(pindb.getReplica('egg')).toBe(r)
      steps.push('b2')
      return r
    })
    const [ra, rb] = await Promise.all([a, b])
    expect(steps).toEqual(['a1', 'b1', 'a2', 'b2'])
    expect(ra).not.toBe(rb)
  })
})

describe('pins', () => {
  it('pin / isPinned / isNewlyPinned / unpinAll; a replica alias pins its set', () => {
    const { pindb } = setup()
    pindb.run(() => {
      expect(pindb.isPinned('default')).toBe(false)
      pindb.pin('default')
      expect(pindb.isPinned('default')).toBe(true)
      expect(pindb.isPinned('default-1')).toBe(true) // a replica alias asks about its set
      expect(pindb.isNewlyPinned('default')).toBe(true)
      expect(pindb.isPinned('egg')).toBe(false)
      pindb.pin('egg-1')
      expect(pindb.getPinned()).toEqual(new Set(['default', 'egg']))
      expect(pindb.isPinned('frob')).toBe(false) // unmanaged: never pinned
      pindb.pin('default') // again: harmless
      expect(pindb.getPinned()).toEqual(new Set(['default', 'egg']))
      pindb.unpinAll()
      expect(pindb.getPinned()).toEqual(new Set())
      expect(pindb.getNewlyPinned()).toEqual(new Set())
      expect(pindb.isNewlyPinned('default')).toBe(false)
    })
  })

  it('getPinned / getNewlyPinned return copies', () => {
    const { pindb } = setup()
    pindb.run(() => {
      pindb.pin('default')
      const pinned = pindb.getPinned()
      const newly = pindb.getNewlyPinned()
      pinned.add('egg')
      newly.add('egg')
      pinned.delete('default')
      newly.delete('default')
      expect(pindb.getPinned()).toEqual(new Set(['default']))
      expect(pindb.getNewlyPinned()).toEqual(new Set(['default']))
      expect(pindb.isPinned('egg')).toBe(false)
      const before = pindb.getPinned()
      pindb.pin('egg')
      expect(before).toEqual(new Set(['default']))
      expect(pindb.getPinned()).not.toBe(pindb.getPinned())
    })
  })

  it('a carried pin is pinned but not new; a greedy write or pin() makes it new; reads go to the primary', () => {
    const { pindb, clock } = setup()
    pindb.run(
      () => {
        expect(pindb.isPinned('default')).toBe(true)
        expect(pindb.isNewlyPinned('default')).toBe(false)
        expect(pindb.getNewlyPinned()).toEqual(new Set())
        expect(pindb.dbForRead(Ham)).toBe('default')
        expect(pindb.isPinned('egg')).toBe(true)
        pindb.dbForWrite(Ham)
        expect(pindb.isNewlyPinned('default')).toBe(true)
        pindb.pin('egg')
        expect(pindb.getNewlyPinned()).toEqual(new Set(['default', 'egg']))
      },
      {
        pins: [
          { set: 'default', expiresAt: clock.now + 1_000 },
          { set: 'egg', expiresAt: clock.now + 1_000 },
        ],
      },
    )
  })

  it('unpinAll also forgets the sticky replica choice', () => {
    const picks: string[][] = []
    const { pindb } = setup({
      replicaChoice: ({ candidates }) => {
        picks.push([...candidates])
        return candidates[picks.length % 2]!
      },
    })
    pindb.run(() => {
      const first = pindb.getReplica('default')
      expect(pindb.getReplica('default')).toBe(first)
      expect(picks.length).toBe(1)
      pindb.unpinAll()
      const second = pindb.getReplica('default')
      expect(picks.length).toBe(2)
      expect(second).not.toBe(first)
    })
  })

  it('capturePins: carried keep their expiry, new expire at now + pinSeconds, expired dropped, sorted by set', () => {
    const { pindb, clock } = setup({ pinSeconds: 10 })
    const t0 = clock.now
    pindb.run(
      () => {
        pindb.dbForWrite(Egg)
        expect(pindb.capturePins()).toEqual([
          { set: 'egg', expiresAt: t0 + 10_000 },
          { set: 'solo', expiresAt: t0 + 2_000 },
        ])
        clock.now = t0 + 2_000 // solo expires; egg's new pin is re-based on now
        expect(pindb.capturePins()).toEqual([{ set: 'egg', expiresAt: t0 + 12_000 }])
      },
      {
        pins: [
          { set: 'solo', expiresAt: t0 + 2_000 },
          { set: 'egg', expiresAt: t0 + 500 },
        ],
      },
    )
  })

  it('capturePins is empty outside a context', () => {
    const { pindb } = setup()
    expect(pindb.capturePins()).toEqual([])
  })
})

describe('outside any context', () => {
  it('pin() throws PinDbError PINDB_NO_CONTEXT whose message says how to open a context', () => {
    const { pindb } = setup()
    const err = thrown(() => pindb.pin('default'))
    expect(err).toBeInstanceOf(PinDbError)
    expect((err as PinDbError).code).toBe('PINDB_NO_CONTEXT')
    expect((err as PinDbError).message).toContain('pindb.run(')
  })

  it('reads route as unpinned (to a replica); queries are harmless', () => {
    const { pindb } = setup()
    expect(pindb.route('read', Ham)).toMatchObject({ role: 'replica', set: 'default', reason: 'replica' })
    expect(pindb.dbForRead(Egg)).toMatch(/^egg-[01]$/)
    expect(pindb.isPinned('default')).toBe(false)
    expect(pindb.isNewlyPinned('default')).toBe(false)
    expect(pindb.getPinned()).toEqual(new Set())
    expect(pindb.getNewlyPinned()).toEqual(new Set())
    expect(() => pindb.unpinAll()).not.toThrow()
  })

  it('greedy writes go to the primary and nothing is remembered', () => {
    const { pindb } = setup({ mode: 'greedy' })
    expect(pindb.dbForWrite(Ham)).toBe('default')
    expect(pindb.getPinned()).toEqual(new Set())
    expect(pindb.isPinned('default')).toBe(false)
    expect(pindb.dbForRead(Ham)).toMatch(/^default-[01]$/)
    pindb.run(() => {
      expect(pindb.getPinned()).toEqual(new Set())
    })
  })

  it('strict writes throw UnpinnedWriteError', () => {
    const { pindb } = setup({ mode: 'strict' })
    const err = thrown(() => pindb.dbForWrite(Ham))
    expect(err).toBeInstanceOf(UnpinnedWriteError)
    expect((err as UnpinnedWriteError).dbSet).toBe('default')
    expect(pindb.dbForWrite(Frob)).toBe('frob') // unmanaged: allowed anywhere
  })
})

describe('strict and greedy writes', () => {
  it('strict: a write to an unpinned managed set throws UnpinnedWriteError naming the set and both ways out — also with no replicas', () => {
    const { pindb } = setup({ mode: 'strict' })
    pindb.run(() => {
      for (const [hints, set] of [
        [Ham, 'default'],
        [Egg, 'egg'],
        [{ model: 'Solo' }, 'solo'],
      ] as const) {
        const err = thrown(() => pindb.dbForWrite(hints))
        expect(err).toBeInstanceOf(UnpinnedWriteError)
        const e = err as UnpinnedWriteError
        expect(e.code).toBe('PINDB_UNPINNED_WRITE')
        expect(e.dbSet).toBe(set)
        expect(e.message).toContain(`pin("${set}")`)
        expect(e.message).toContain(`withPrimary("${set}"`)
      }
      expect(pindb.getPinned()).toEqual(new Set())
      pindb.pin('egg')
      expect(pindb.dbForWrite(Egg)).toBe('egg')
      expect(pindb.isNewlyPinned('egg')).toBe(true)
      expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
      expect(pindb.dbForWrite(Frob)).toBe('frob')
    })
  })

  it('greedy: a write pins its set as new; later reads of that set (only) go to the primary', () => {
    const { pindb } = setup()
    pindb.run(() => {
      const eggReplica = pindb.dbForRead(Egg)
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.getNewlyPinned()).toEqual(new Set(['default']))
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.dbForRead(Egg)).toBe(eggReplica)
      expect(pindb.dbForWrite(Frob)).toBe('frob')
      expect(pindb.getPinned()).toEqual(new Set(['default']))
    })
  })

  it('enabled: false → the delegates’ primary for reads and writes, never a replica; nothing throws or pins', () => {
    for (const mode of ['strict', 'greedy'] as const) {
      const { pindb } = setup({ mode, enabled: false })
      expect(pindb.enabled).toBe(false)
      expect(pindb.dbForWrite(Ham)).toBe('default') // even outside a context
      pindb.run(() => {
        for (let i = 0; i < 3; i++) {
          expect(pindb.dbForRead(Ham)).toBe('default')
          expect(pindb.dbForRead(Egg)).toBe('egg')
          expect(pindb.dbForWrite(Egg)).toBe('egg')
        }
        expect(pindb.route('read', Egg)).toMatchObject({ alias: 'egg', role: 'primary', reason: 'disabled' })
        expect(pindb.dbForRead(Frob)).toBe('frob')
        pindb.withUnpinnedReplica('egg', () => {
          expect(pindb.dbForRead(Egg)).toBe('egg')
          expect(pindb.dbForWrite(Egg)).toBe('egg')
        })
        expect(pindb.getPinned()).toEqual(new Set())
      })
    }
  })

  it('enabled as a function is read on every call', () => {
    let on = true
    let calls = 0
    const { pindb } = setup({
      mode: 'strict',
      enabled: () => {
        calls++
        return on
      },
    })
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toMatch(/^default-[01]$/)
      expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
      on = false
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.dbForWrite(Ham)).toBe('default')
      expect(pindb.enabled).toBe(false)
      on = true
      expect(pindb.dbForRead(Ham)).toMatch(/^default-[01]$/)
      expect(pindb.enabled).toBe(true)
    })
    expect(calls).toBeGreaterThanOrEqual(6)
  })
})

describe('withPrimary', () => {
  it('reads and writes of the set go to its primary; strict allows writes; writes leave no lasting pin', () => {
    for (const mode of ['strict', 'greedy'] as const) {
      const { pindb } = setup({ mode })
      pindb.run(() => {
        const replica = pindb.dbForRead(Ham)
        const eggReplica = pindb.dbForRead(Egg)
        pindb.withPrimary('default', () => {
          expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', role: 'primary', reason: 'override' })
          expect(pindb.dbForWrite(Ham)).toBe('default')
          expect(pindb.dbForRead(Ham)).toBe('default')
          expect(pindb.dbForRead(Egg)).toBe(eggReplica) // other sets unaffected
          expect(pindb.isPinned('default')).toBe(false)
        })
        expect(pindb.dbForRead(Ham)).toBe(replica)
        expect(pindb.getPinned()).toEqual(new Set())
        expect(pindb.capturePins()).toEqual([])
      })
    }
  })

  it('an explicit pin() inside is kept; unpinAll() inside does not throw', () => {
    const { pindb } = setup({ mode: 'strict' })
    pindb.run(() => {
      pindb.withPrimary('default', () => {
        pindb.pin('default')
      })
      expect(pindb.isNewlyPinned('default')).toBe(true)
      expect(pindb.dbForWrite(Ham)).toBe('default')
      pindb.withPrimary('default', () => {
        pindb.unpinAll()
        expect(pindb.dbForWrite(Ham)).toBe('default')
      })
      expect(pindb.isPinned('default')).toBe(false)
    })
  })

  it('returns fn’s result (sync value and promise) and restores on sync throw and async rejection', async () => {
    const { pindb } = setup({ mode: 'strict' })
    await pindb.run(async () => {
      const replica = pindb.dbForRead(Ham)
      expect(pindb.withPrimary('default', () => 7)).toBe(7)
      const p = pindb.withPrimary('default', async () => {
        await tick()
        return pindb.dbForRead(Ham)
      })
      expect(p).toBeInstanceOf(Promise)
      expect(await p).toBe('default')
      expect(pindb.dbForRead(Ham)).toBe(replica)

      const boom = new Error('boom')
      expect(
        thrown(() =>
          pindb.withPrimary('default', () => {
            throw boom
          }),
        ),
      ).toBe(boom)
      expect(pindb.dbForRead(Ham)).toBe(replica)
      expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)

      await expect(
        pindb.withPrimary('default', async () => {
          await tick()
          pindb.dbForWrite(Ham)
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(pindb.dbForRead(Ham)).toBe(replica)
      expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
    })
  })

  it('accepts a replica alias (its set) and passes an unmanaged alias straight through', () => {
    const { pindb } = setup({ mode: 'strict' })
    pindb.run(() => {
      expect(pindb.withPrimary('egg-1', () => pindb.dbForWrite(Egg))).toBe('egg')
      expect(pindb.withPrimary('frob', () => pindb.dbForRead(Frob))).toBe('frob')
      expect(pindb.withPrimary('frob', () => thrown(() => pindb.dbForWrite(Ham)))).toBeInstanceOf(UnpinnedWriteError)
    })
  })
})

describe('withUnpinnedReplica', () => {
  it('reads of a pinned set go to a replica inside, to the primary after', () => {
    const { pindb } = setup()
    pindb.run(() => {
      pindb.pin('default')
      pindb.pin('egg')
      expect(pindb.dbForRead(Ham)).toBe('default')
      const inside = pindb.withUnpinnedReplica('default', () => {
        expect(pindb.route('read', Ham)).toMatchObject({ role: 'replica', set: 'default', reason: 'override' })
        expect(pindb.dbForRead(Egg)).toBe('egg') // other set: still pinned
        expect(pindb.isPinned('default')).toBe(true)
        return pindb.dbForRead(Ham)
      })
      expect(inside).toMatch(/^default-[01]$/)
      expect(inside).toBe(pindb.getReplica('default'))
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.getPinned()).toEqual(new Set(['default', 'egg']))
    })
  })

  it('strict: writes inside throw, even when the set is pinned', () => {
    const { pindb } = setup({ mode: 'strict' })
    pindb.run(() => {
      pindb.pin('default')
      pindb.pin('egg')
      pindb.withUnpinnedReplica('default', () => {
        const err = thrown(() => pindb.dbForWrite(Ham))
        expect(err).toBeInstanceOf(UnpinnedWriteError)
        expect((err as UnpinnedWriteError).dbSet).toBe('default')
        expect(pindb.dbForWrite(Egg)).toBe('egg') // another pinned set: unaffected
      })
      expect(pindb.dbForWrite(Ham)).toBe('default')
    })
  })

  it('greedy: writes inside pin as usual; the pin lasts after (new); reads inside still use the replica', () => {
    const { pindb } = setup()
    pindb.run(() => {
      const replica = pindb.withUnpinnedReplica('default', () => {
        expect(pindb.dbForWrite(Ham)).toBe('default')
        expect(pindb.isPinned('default')).toBe(true)
        return pindb.dbForRead(Ham)
      })
      expect(replica).toMatch(/^default-[01]$/)
      expect(pindb.isNewlyPinned('default')).toBe(true)
      expect(pindb.dbForRead(Ham)).toBe('default')
    })
  })

  it('nests with withPrimary: the innermost scope wins, each level restores', () => {
    const { pindb } = setup({ mode: 'strict' })
    pindb.run(() => {
      pindb.pin('default')
      const replica = pindb.getReplica('default')
      pindb.withUnpinnedReplica('default', () => {
        expect(pindb.dbForRead(Ham)).toBe(replica)
        pindb.withPrimary('default', () => {
          expect(pindb.dbForRead(Ham)).toBe('default')
          expect(pindb.dbForWrite(Ham)).toBe('default')
          pindb.withUnpinnedReplica('default-0', () => {
            expect(pindb.dbForRead(Ham)).toBe(replica)
            expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
          })
          expect(pindb.dbForRead(Ham)).toBe('default')
        })
        expect(pindb.dbForRead(Ham)).toBe(replica)
        expect(() => pindb.dbForWrite(Ham)).toThrow(UnpinnedWriteError)
      })
      expect(pindb.dbForRead(Ham)).toBe('default')
      expect(pindb.dbForWrite(Ham)).toBe('default')
    })
  })

  it('returns fn’s result and restores on throw and rejection', async () => {
    const { pindb } = setup()
    await pindb.run(async () => {
      pindb.pin('default')
      expect(pindb.withUnpinnedReplica('default', () => 'x')).toBe('x')
      await expect(pindb.withUnpinnedReplica('default', async () => pindb.dbForRead(Ham))).resolves.toMatch(/^default-[01]$/)
      const boom = new Error('boom')
      expect(
        thrown(() =>
          pindb.withUnpinnedReplica('default', () => {
            throw boom
          }),
        ),
      ).toBe(boom)
      expect(pindb.dbForRead(Ham)).toBe('default')
      await expect(
        pindb.withUnpinnedReplica('default', async () => {
          await tick()
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(pindb.dbForRead(Ham)).toBe('default')
    })
  })
})

describe('replica choice', () => {
  it('sticky for the whole context (across awaits), the same as getReplica', async () => {
    const { pindb } = setup({}, 3)
    await pindb.run(async () => {
      const first = pindb.dbForRead(Ham)
      for (let i = 0; i < 10; i++) {
        await tick()
        expect(pindb.dbForRead(Ham)).toBe(first)
      }
      expect(pindb.getReplica('default')).toBe(first)
      expect(pindb.getReplica('default-2')).toBe(first)
    })
  })

  it('getReplica: the primary for a set without replicas, an unmanaged alias unchanged', () => {
    const { pindb } = setup()
    pindb.run(() => {
      expect(pindb.getReplica('solo')).toBe('solo')
      expect(pindb.getReplica('frob')).toBe('frob')
    })
  })

  it('a set without replicas reads from its primary with reason no-replicas', () => {
    const { pindb } = setup()
    pindb.run(() => {
      expect(pindb.route('read', { model: 'Solo' })).toEqual({ intent: 'read', alias: 'solo', set: 'solo', role: 'primary', reason: 'no-replicas' })
      expect(pindb.dbForRead({ model: 'Solo' })).toBe('solo')
    })
  })

  it('round-robin (default) spreads contexts evenly: 100 contexts over 2 replicas → 50/50; 99 over 3 → 33 each', () => {
    const two = setup().pindb
    expect(countBy(Array.from({ length: 100 }, () => two.run(() => two.dbForRead(Ham))))).toEqual({ 'default-0': 50, 'default-1': 50 })
    const three = setup({}, 3).pindb
    expect(countBy(Array.from({ length: 99 }, () => three.run(() => three.dbForRead(Ham))))).toEqual({
      'default-0': 33,
      'default-1': 33,
      'default-2': 33,
    })
  })

  it('round-robin is per set: one set’s choices do not skew another’s', () => {
    const { pindb } = setup()
    const picks = Array.from({ length: 40 }, (_, i) =>
      pindb.run(() => (i % 4 === 0 ? [pindb.dbForRead(Egg)] : [pindb.dbForRead(Egg), pindb.dbForRead(Ham)])),
    ).flat()
    const counts = countBy(picks)
    expect(counts['egg-0']).toBe(20)
    expect(counts['egg-1']).toBe(20)
    expect(Math.abs((counts['default-0'] ?? 0) - (counts['default-1'] ?? 0))).toBeLessThanOrEqual(1)
  })

  it("'random' uses the injected random source", () => {
    const seq = [0.1, 0.6, 0.99, 0.4, 0.5, 0]
    const { pindb } = setup({ replicaChoice: 'random', random: () => seq.shift()! })
    const picks = Array.from({ length: 6 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(picks).toEqual(['default-0', 'default-1', 'default-1', 'default-0', 'default-1', 'default-0'])
  })

  it('weighted: picks by weight with the injected random; weight 0 is never chosen while another replica can serve', () => {
    const seq = [0, 0.74, 0.76, 0.99, 0.5]
    const { pindb } = setup({ replicaChoice: { weights: { 'default-0': 3, 'default-1': 1, 'default-2': 0 } }, random: () => seq.shift()! }, 3)
    const picks = Array.from({ length: 5 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(picks).toEqual(['default-0', 'default-0', 'default-1', 'default-1', 'default-0'])
    seamOf(pindb).reportFailure('default-0')
    seamOf(pindb).reportFailure('default-1')
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-2') // nothing else left
  })

  it('weighted: a replica missing from the weights has weight 1', () => {
    const seq = [0.6, 0.4]
    const { pindb } = setup({ replicaChoice: { weights: { 'default-0': 1 } }, random: () => seq.shift()! })
    expect([pindb.run(() => pindb.dbForRead(Ham)), pindb.run(() => pindb.dbForRead(Ham))]).toEqual(['default-1', 'default-0'])
  })

  it('least-outstanding: the replica with fewest queries in flight; ties rotate', () => {
    const { pindb } = setup({ replicaChoice: 'least-outstanding' }, 3)
    const d0a = seamOf(pindb).track('default-0')
    const d0b = seamOf(pindb).track('default-0')
    const d1 = seamOf(pindb).track('default-1')
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-2')
    const d2a = seamOf(pindb).track('default-2')
    const d2b = seamOf(pindb).track('default-2')
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-1')
    d0a()
    d0b()
    d0b() // idempotent
    expect(pindb.stats()['default-0']!.outstanding).toBe(0)
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-0')
    d1()
    d2a()
    d2b()
    const tied = Array.from({ length: 6 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(countBy(tied)).toEqual({ 'default-0': 2, 'default-1': 2, 'default-2': 2 })
  })

  it('a custom strategy gets the set and only eligible candidates; its answer is used', () => {
    const inputs: Array<{ set: string; candidates: string[] }> = []
    const { pindb } = setup({
      replicaChoice: (input: ReplicaChoiceInput) => {
        inputs.push({ set: input.set, candidates: [...input.candidates] })
        return input.candidates[input.candidates.length - 1]!
      },
    }, 3)
    seamOf(pindb).reportFailure('default-2')
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-1')
    expect(pindb.run(() => pindb.dbForRead(Egg))).toBe('egg-1')
    expect(inputs).toEqual([
      { set: 'default', candidates: ['default-0', 'default-1'] },
      { set: 'egg', candidates: ['egg-0', 'egg-1'] },
    ])
  })

  it('a custom strategy returning a non-candidate → PinDbConfigError naming replicaChoice', () => {
    for (const bad of ['default', 'egg-0', 'nope', undefined]) {
      const { pindb } = setup({ replicaChoice: () => bad as string })
      pindb.run(() => {
        const err = thrown(() => pindb.dbForRead(Ham))
        expect(err).toBeInstanceOf(PinDbConfigError)
        expect((err as PinDbConfigError).option).toBe('replicaChoice')
      })
    }
    // A down replica is not a candidate either.
    const { pindb: p3 } = setup({ replicaChoice: () => 'default-0' }, 3)
    seamOf(p3).reportFailure('default-0')
    const err = thrown(() => p3.run(() => p3.dbForRead(Ham)))
    expect(err).toBeInstanceOf(PinDbConfigError)
    expect((err as PinDbConfigError).option).toBe('replicaChoice')
  })
})

describe('failover (injected clock)', () => {
  it('a replica in back-off is skipped; a context’s sticky choice moves to another replica and stays there', () => {
    const { pindb, clock } = setup({ backoff: { baseMs: 1_000, maxMs: 8_000 } })
    pindb.run(() => {
      expect(pindb.dbForRead(Ham)).toBe('default-0')
      seamOf(pindb).reportFailure('default-0')
      expect(pindb.stats()['default-0']!.counters.failovers).toBe(1)
      expect(pindb.dbForRead(Ham)).toBe('default-1')
      expect(pindb.getReplica('default')).toBe('default-1')
      clock.now += 1_000
      expect(pindb.dbForRead(Ham)).toBe('default-1') // sticky: no flip-flop back
    })
  })

  it('new contexts avoid the down replica until its back-off expires, then use it again', () => {
    const { pindb, clock } = setup({ backoff: { baseMs: 1_000, maxMs: 8_000 } })
    const t0 = clock.now
    seamOf(pindb).reportFailure('default-0')
    expect(pindb.stats()['default-0']!.downUntil).toBe(t0 + 1_000)
    for (let i = 0; i < 4; i++) expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-1')
    clock.now = t0 + 999
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-1')
    clock.now = t0 + 1_000
    const after = Array.from({ length: 4 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(countBy(after)).toEqual({ 'default-0': 2, 'default-1': 2 })
  })

  it('back-off grows with consecutive outages (not with reports during one) up to maxMs; reportSuccess clears it at once', () => {
    const { pindb, clock } = setup({ backoff: { baseMs: 1_000, maxMs: 3_000 } })
    const t0 = clock.now
    seamOf(pindb).reportFailure('default-0')
    // Regression: every connection of a pool failing at once is one outage, one back-off step —
    // once it grew per report, and a single restart pushed a healthy replica to the 30 s cap.
    seamOf(pindb).reportFailure('default-0')
    seamOf(pindb).reportFailure('default-0')
    expect(pindb.stats()['default-0']!.downUntil).toBe(t0 + 1_000)
    clock.now = t0 + 1_000
    seamOf(pindb).reportFailure('default-0') // it failed again once back: a second outage
    expect(pindb.stats()['default-0']!.downUntil).toBe(t0 + 3_000)
    clock.now = t0 + 3_000
    seamOf(pindb).reportFailure('default-0') // a third: capped at maxMs
    expect(pindb.stats()['default-0']!.downUntil).toBe(t0 + 6_000)
    clock.now = t0 + 5_500
    expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-1')
    seamOf(pindb).reportSuccess('default-0')
    expect(pindb.stats()['default-0']!.failures).toBe(0)
    const after = Array.from({ length: 2 }, () => pindb.run(() => pindb.dbForRead(Ham)))
    expect(after).toContain('default-0')
  })

  it('all replicas down → the primary with reason unavailable', () => {
    const { pindb } = setup()
    seamOf(pindb).reportFailure('default-0')
    seamOf(pindb).reportFailure('default-1')
    pindb.run(() => {
      expect(pindb.route('read', Ham)).toEqual({ intent: 'read', alias: 'default', set: 'default', role: 'primary', reason: 'unavailable' })
      expect(pindb.getReplica('default')).toBe('default')
      expect(pindb.dbForRead(Egg)).toMatch(/^egg-[01]$/)
    })
  })

  it("all replicas down with noReplica: 'throw' → NoReplicaAvailableError", () => {
    const { pindb } = setup({ noReplica: 'throw' })
    seamOf(pindb).reportFailure('default-0')
    seamOf(pindb).reportFailure('default-1')
    pindb.run(() => {
      const err = thrown(() => pindb.dbForRead(Ham))
      expect(err).toBeInstanceOf(NoReplicaAvailableError)
      expect((err as NoReplicaAvailableError).code).toBe('PINDB_NO_REPLICA')
      expect((err as NoReplicaAvailableError).dbSet).toBe('default')
      pindb.pin('default')
      expect(pindb.dbForRead(Ham)).toBe('default') // pinned reads do not need a replica
      expect(pindb.dbForRead({ model: 'Solo' })).toBe('solo') // no replicas at all is not "unavailable"
    })
  })

  it("route('read', hints, { exclude }) skips excluded aliases; all excluded → the primary", () => {
    const { pindb } = setup({}, 3)
    pindb.run(() => {
      const sticky = pindb.dbForRead(Ham)
      const d = pindb.route('read', Ham, { exclude: new Set([sticky]) })
      expect(d.role).toBe('replica')
      expect(d.alias).not.toBe(sticky)
      expect(d.alias).toMatch(/^default-[012]$/)
      const e = pindb.route('read', Ham, { exclude: new Set(['default-0', 'default-1']) })
      expect(e.alias).toBe('default-2')
      const all = pindb.route('read', Ham, { exclude: new Set(['default-0', 'default-1', 'default-2']) })
      expect(all).toMatchObject({ alias: 'default', role: 'primary', reason: 'unavailable' })
    })
  })
})

describe('maxLag', () => {
  it('excludes replicas whose lag is unknown or above maxLag.ms', () => {
    const { pindb } = setup({ maxLag: { ms: 100 } })
    pindb.servers.get('default-0').lagMs = 50
    // default-1: unknown lag
    for (let i = 0; i < 4; i++) expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-0')
    pindb.servers.get('default-1').lagMs = 500
    for (let i = 0; i < 4; i++) expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-0')
    pindb.servers.get('default-1').lagMs = 100 // at the limit: allowed
    expect(countBy(Array.from({ length: 4 }, () => pindb.run(() => pindb.dbForRead(Ham))))).toEqual({ 'default-0': 2, 'default-1': 2 })
  })

  it('a sticky replica that starts lagging is left for another', () => {
    const { pindb } = setup({ maxLag: { ms: 100 } })
    pindb.servers.get('default-0').lagMs = 10
    pindb.servers.get('default-1').lagMs = 10
    pindb.run(() => {
      const first = pindb.dbForRead(Ham)
      pindb.servers.get(first).lagMs = 1_000
      const second = pindb.dbForRead(Ham)
      expect(second).not.toBe(first)
      expect(second).toMatch(/^default-[01]$/)
    })
  })

  it('every replica lagging → the primary with reason lagging; or NoReplicaAvailableError with noReplica throw', () => {
    const { pindb } = setup({ maxLag: { ms: 100 } })
    pindb.servers.get('default-0').lagMs = 101
    pindb.run(() => {
      expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', role: 'primary', reason: 'lagging' })
    })
    const strict = setup({ maxLag: { ms: 100 }, noReplica: 'throw' }).pindb
    strict.run(() => {
      expect(() => strict.dbForRead(Ham)).toThrow(NoReplicaAvailableError)
    })
  })
})

describe('causal reads', () => {
  it('without maxLag, a monitored replica that may lack data older than the pin window serves no read (a pin-less read could be stale there)', () => {
    const { pindb, clock } = setup({ causal: true, pinSeconds: 15 })
    const r0 = pindb.servers.get('default-0')
    const r1 = pindb.servers.get('default-1')
    // Not monitored yet: no opinion, both replicas serve.
    expect(countBy(Array.from({ length: 4 }, () => pindb.run(() => pindb.dbForRead(Ham))))).toEqual({ 'default-0': 2, 'default-1': 2 })
    r0.checkedAt = r1.checkedAt = clock.now
    r0.caughtUpAt = clock.now - 20_000 // may lack writes up to 20 s old
    r1.caughtUpAt = clock.now - 15_000 // everything older than the 15 s window is there: safe
    r0.lagMs = r1.lagMs = 0 // the measured lag is only a lower bound: it does not decide
    for (let i = 0; i < 4; i++) expect(pindb.run(() => pindb.dbForRead(Ham))).toBe('default-1')
    // The bound ages between monitor checks: 1 ms later, default-1 is no longer known to be safe.
    clock.now += 1
    pindb.run(() => expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', reason: 'lagging' }))
    r1.caughtUpAt = undefined // monitored, but its last check failed
    pindb.run(() => expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', reason: 'lagging' }))
    // A read that carries a position checks the replica exactly: the bound does not apply to it.
    r0.position = '0/200'
    pindb.run(() => expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', reason: 'lagging' }), {
      pins: [{ set: 'egg', expiresAt: clock.now + 1_000 }],
    })
    pindb.run(() => expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default-0', reason: 'causal' }), {
      pins: [{ set: 'default', expiresAt: clock.now + 1_000, position: '0/180' }],
    })
    // An explicit maxLag replaces the implicit bound.
    const loose = setup({ causal: true, pinSeconds: 15, maxLag: { ms: 60_000 } }).pindb
    loose.servers.get('default-0').lagMs = 20_000
    loose.servers.get('default-1').lagMs = 20_000
    expect(loose.run(() => loose.route('read', Ham)).role).toBe('replica')
  })

  it('a pin with a position reads from a replica that has replayed it, else the primary (behind)', () => {
    const { pindb } = setup({ causal: true }, 3)
    pindb.servers.get('default-0').position = '0/3000100'
    pindb.servers.get('default-1').position = '0/3000148'
    // default-2: unknown position
    pindb.run(() => {
      pindb.dbForWrite(Ham)
      expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', reason: 'pinned' }) // no position yet
      seamOf(pindb).notePosition('default', '0/3000148')
      expect(pindb.route('read', Ham)).toEqual({ intent: 'read', alias: 'default-1', set: 'default', role: 'replica', reason: 'causal' })
      seamOf(pindb).notePosition('default', '0/3000149')
      expect(pindb.route('read', Ham)).toEqual({ intent: 'read', alias: 'default', set: 'default', role: 'primary', reason: 'behind' })
      pindb.servers.get('default-2').position = '1/0'
      expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default-2', reason: 'causal' })
    })
  })

  it('without causal, a pin with a position still reads from the primary', () => {
    const { pindb } = setup()
    pindb.servers.get('default-0').position = '0/9000000'
    pindb.servers.get('default-1').position = '0/9000000'
    pindb.run(() => {
      pindb.dbForWrite(Ham)
      seamOf(pindb).notePosition('default', '0/3000148')
      expect(pindb.route('read', Ham)).toMatchObject({ alias: 'default', reason: 'pinned' })
    })
  })

  it('a position carried in via run({ pins }) enables causal reads; capturePins carries it on', () => {
    const { pindb, clock } = setup({ causal: true })
    pindb.servers.get('egg-0').position = '0-1-42,1-2-7'
    pindb.servers.get('egg-1').position = '0-1-41,1-2-9'
    const carried = [{ set: 'egg', expiresAt: clock.now + 5_000, position: '0-1-42,1-2-7' }]
    pindb.run(
      () => {
        expect(pindb.route('read', Egg)).toMatchObject({ alias: 'egg-0', role: 'replica', reason: 'causal' })
        expect(pindb.capturePins()).toEqual(carried)
      },
      { pins: carried },
    )
    pindb.run(
      () => {
        expect(pindb.route('read', Egg)).toMatchObject({ alias: 'egg', reason: 'behind' }) // domain 2 unknown everywhere
      },
      { pins: [{ set: 'egg', expiresAt: clock.now + 5_000, position: '0-1-40,2-1-1' }] },
    )
  })

  it('notePosition keeps the later position and is ignored for an unpinned set', () => {
    const { pindb } = setup({ causal: true })
    pindb.run(() => {
      seamOf(pindb).notePosition('default', '0/3000148')
      expect(pindb.capturePins()).toEqual([])
      pindb.pin('default')
      seamOf(pindb).notePosition('default', '0/3000148')
      seamOf(pindb).notePosition('default', '0/3000100')
      expect(pindb.capturePins()[0]!.position).toBe('0/3000148')
    })
  })

  it('positionReached / laterPosition understand PostgreSQL LSNs and MariaDB GTID lists', () => {
    expect(positionReached('0/3000148', '0/3000148')).toBe(true)
    expect(positionReached('0/3000147', '0/3000148')).toBe(false)
    expect(positionReached('1/0', '0/FFFFFFFF')).toBe(true)
    expect(positionReached('0/A', '0/9')).toBe(true) // hex, not string order
    expect(positionReached(undefined, '0/1')).toBe(false)
    expect(positionReached('0-1-42,1-2-7', '0-1-42,1-2-7')).toBe(true)
    expect(positionReached('0-1-42,1-2-7', '0-1-40')).toBe(true)
    expect(positionReached('0-1-42,1-2-7', '0-1-43')).toBe(false)
    expect(positionReached('0-1-42', '0-1-42,1-2-7')).toBe(false)
    expect(positionReached('0-1-100', '0-1-99')).toBe(true) // numeric, not string order
    expect(positionReached('0/3000148', '0-1-42')).toBe(false) // mismatched kinds: safe side
    expect(laterPosition('0/3000148', '0/3000100')).toBe('0/3000148')
    expect(laterPosition(undefined, '0/1')).toBe('0/1')
  })
})

describe('route decisions, events and stats', () => {
  it('route() returns { intent, alias, set, role, reason } for each case', () => {
    const { pindb } = setup()
    pindb.run(() => {
      const r = pindb.route('read', Ham)
      expect(r).toEqual({ intent: 'read', alias: pindb.getReplica('default'), set: 'default', role: 'replica', reason: 'replica' })
      expect(pindb.route('read', Frob)).toEqual({ intent: 'read', alias: 'frob', set: undefined, role: 'unmanaged', reason: 'unmanaged' })
      expect(pindb.route('write', Frob)).toEqual({ intent: 'write', alias: 'frob', set: undefined, role: 'unmanaged', reason: 'unmanaged' })
      expect(pindb.route('write', Ham)).toEqual({ intent: 'write', alias: 'default', set: 'default', role: 'primary', reason: 'write' })
      expect(pindb.route('read', Ham)).toEqual({ intent: 'read', alias: 'default', set: 'default', role: 'primary', reason: 'pinned' })
    })
  })

  it('events go to onRoute and to the diagnostics channel pindb:route', () => {
    expect(ROUTE_CHANNEL).toBe('pindb:route')
    const hooked: RouteEvent[] = []
    const published: unknown[] = []
    const listener = (message: unknown) => {
      published.push(message)
    }
    const { pindb } = setup({ onRoute: (e) => hooked.push(e) })
    subscribe('pindb:route', listener)
    try {
      pindb.run(() => {
        pindb.dbForRead(Egg)
        pindb.dbForWrite(Ham)
        pindb.route('read', Ham, { sql: 'select 1' })
        pindb.dbForRead(Frob)
      })
    } finally {
      unsubscribe('pindb:route', listener)
    }
    pindb.run(() => pindb.dbForRead(Ham)) // after unsubscribe: onRoute only
    expect(hooked.map((e) => [e.intent, e.set, e.role, e.reason])).toEqual([
      ['read', 'egg', 'replica', 'replica'],
      ['write', 'default', 'primary', 'write'],
      ['read', 'default', 'primary', 'pinned'],
      ['read', undefined, 'unmanaged', 'unmanaged'],
      ['read', 'default', 'replica', 'replica'],
    ])
    expect(hooked[2]!.sql).toBe('select 1')
    expect(published).toEqual(hooked.slice(0, 4))
  })

  it('stats() counts reads and writes per alias, as snapshots', () => {
    const { pindb } = setup()
    const before = pindb.stats()
    pindb.run(() => {
      const replica = pindb.dbForRead(Ham)
      pindb.dbForRead(Ham)
      pindb.dbForWrite(Ham)
      pindb.dbForRead(Ham)
      pindb.dbForWrite(Frob)
      const s = pindb.stats()
      expect(s[replica]!.counters).toMatchObject({ reads: 2, writes: 0 })
      expect(s['default']!.counters).toMatchObject({ reads: 1, writes: 1 })
      expect(s['frob']!.counters).toMatchObject({ reads: 0, writes: 1 })
    })
    expect(before['default']!.counters.reads).toBe(0) // a snapshot, not live
    expect(Object.keys(before).sort()).toEqual(['default', 'default-0', 'default-1', 'egg', 'egg-0', 'egg-1', 'frob', 'solo'])
  })
})
