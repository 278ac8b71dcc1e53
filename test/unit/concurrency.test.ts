/**
 * Concurrency: thousands of interleaved units of work, each checking its own state against a
 * model it keeps itself after every await (zero leaks), and overrides scoped to their own async
 * branch within one unit of work.
 */
import { describe, expect, it } from 'vitest'
import { createPinDb, UnpinnedWriteError, type PinDb, type PinDbOptions, type RouteHints } from '../../src/index.js'
import { createRng } from '../support/rng.js'

type Cfg = Record<string, unknown>

/** Seeded PRNG: the same seed gives the same interleaving schedule. */
const mulberry32 = (seed: number): (() => number) => createRng(seed).next

const REPLICAS: Readonly<Record<string, readonly string[]>> = {
  default: ['default-0', 'default-1', 'default-2'],
  egg: ['egg-0', 'egg-1'],
  solo: [],
}
const MANAGED = ['default', 'egg', 'solo'] as const
const ALL = [...MANAGED, 'frob'] as const
type Target = (typeof ALL)[number]
const HINTS: Readonly<Record<Target, RouteHints>> = {
  default: { model: 'Ham' },
  egg: { model: 'Egg' },
  solo: { model: 'Solo' },
  frob: { model: 'Frob' },
}

function makePinDb(mode: 'strict' | 'greedy', extra: Partial<PinDbOptions<Cfg>> = {}): PinDb<Cfg> {
  const route = (h: RouteHints) => (h.model === 'Egg' ? 'egg' : h.model === 'Solo' ? 'solo' : h.model === 'Frob' ? 'frob' : undefined)
  return createPinDb<Cfg>({
    mode,
    primaries: { default: {}, egg: {}, solo: {} },
    replicas: { default: [{}, {}, {}], egg: [{}, {}], solo: [] },
    unmanaged: { frob: {} },
    delegates: [{ dbForRead: route, dbForWrite: route }],
    clock: () => 1_000_000,
    ...extra,
  })
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A random kind of await: macrotask, microtask, timer, or none. */
async function randomAwait(rand: () => number): Promise<void> {
  const r = rand()
  if (r < 0.3) await new Promise<void>((resolve) => setImmediate(resolve))
  else if (r < 0.6) await Promise.resolve()
  else if (r < 0.8) await new Promise<void>((resolve) => setTimeout(resolve, 0))
  else if (r < 0.9) await new Promise<void>((resolve) => queueMicrotask(resolve))
}

interface Override {
  set: string
  kind: 'primary' | 'replica'
}

class Mismatch extends Error {}

/** One unit of work's own model of what pindb must show it. */
class Model {
  readonly pinned = new Set<string>()
  readonly newly = new Set<string>()
  readonly sticky = new Map<string, string>()

  constructor(
    readonly id: number,
    readonly pindb: PinDb<Cfg>,
    readonly mode: 'strict' | 'greedy',
    readonly rand: () => number,
  ) {}

  fail(what: string, actual: unknown, expected: unknown): never {
    throw new Mismatch(`context ${this.id} (${this.mode}): ${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
  }

  eq(what: string, actual: unknown, expected: unknown): void {
    if (actual !== expected) this.fail(what, actual, expected)
  }

  /** The context's sticky replica of a set, learned on first sight, checked afterwards. */
  replicaOf(set: string, observed: string): void {
    const replicas = REPLICAS[set]!
    if (replicas.length === 0) return this.eq(`replica of ${set}`, observed, set)
    const known = this.sticky.get(set)
    if (known === undefined) {
      if (!replicas.includes(observed)) this.fail(`replica of ${set}`, observed, replicas)
      this.sticky.set(set, observed)
    } else {
      this.eq(`sticky replica of ${set}`, observed, known)
    }
  }

  check(): void {
    const { pindb } = this
    if (!pindb.inContext) this.fail('inContext', false, true)
    const pinned = [...pindb.getPinned()].sort()
    const newly = [...pindb.getNewlyPinned()].sort()
    this.eq('getPinned', JSON.stringify(pinned), JSON.stringify([...this.pinned].sort()))
    this.eq('getNewlyPinned', JSON.stringify(newly), JSON.stringify([...this.newly].sort()))
    for (const set of MANAGED) {
      this.eq(`isPinned(${set})`, pindb.isPinned(set), this.pinned.has(set))
      this.eq(`isNewlyPinned(${set})`, pindb.isNewlyPinned(set), this.newly.has(set))
    }
  }

  read(target: Target, overrides: readonly Override[]): void {
    const alias = this.pindb.dbForRead(HINTS[target])
    if (target === 'frob') return this.eq('read frob', alias, 'frob')
    const override = [...overrides].reverse().find((o) => o.set === target)
    if (override?.kind === 'primary') return this.eq(`read ${target} in withPrimary`, alias, target)
    if (override === undefined && this.pinned.has(target)) return this.eq(`read pinned ${target}`, alias, target)
    this.replicaOf(target, alias)
  }

  write(target: Target, overrides: readonly Override[]): void {
    const expectThrow = (): boolean => {
      if (target === 'frob' || this.mode === 'greedy') return false
      const override = [...overrides].reverse().find((o) => o.set === target)
      if (override?.kind === 'primary') return false
      return override?.kind === 'replica' || !this.pinned.has(target)
    }
    const throws = expectThrow()
    let alias: string
    try {
      alias = this.pindb.dbForWrite(HINTS[target])
    } catch (err) {
      if (!throws || !(err instanceof UnpinnedWriteError)) throw err
      this.eq('UnpinnedWriteError.dbSet', err.dbSet, target)
      return
    }
    if (throws) this.fail(`write ${target} should throw`, alias, 'UnpinnedWriteError')
    this.eq(`write ${target}`, alias, target)
    const inPrimary = [...overrides].reverse().find((o) => o.set === target)?.kind === 'primary'
    if (target !== 'frob' && this.mode === 'greedy' && !inPrimary) {
      this.pinned.add(target)
      this.newly.add(target)
    }
  }

  /** A random sequence of steps with random awaits, checking after every await. */
  async steps(count: number, overrides: readonly Override[], depth: number): Promise<void> {
    const { pindb, rand } = this
    for (let i = 0; i < count; i++) {
      const r = rand()
      const target = ALL[Math.floor(rand() * ALL.length)]!
      const set = MANAGED[Math.floor(rand() * MANAGED.length)]!
      if (r < 0.12) {
        pindb.pin(set)
        this.pinned.add(set)
        this.newly.add(set)
      } else if (r < 0.16) {
        pindb.pin('egg-1') // a replica alias pins its set
        this.pinned.add('egg')
        this.newly.add('egg')
      } else if (r < 0.38) {
        this.read(target, overrides)
      } else if (r < 0.56) {
        this.write(target, overrides)
      } else if (r < 0.64) {
        this.replicaOf(set, pindb.getReplica(set))
      } else if (r < 0.66) {
        pindb.unpinAll()
        this.pinned.clear()
        this.newly.clear()
        this.sticky.clear()
      } else if (r < 0.76 && depth < 3) {
        const inner = [...overrides, { set, kind: 'primary' as const }]
        const result = await pindb.withPrimary(set, async () => {
          this.check()
          await randomAwait(rand)
          this.check()
          await this.steps(1 + Math.floor(rand() * 4), inner, depth + 1)
          return set
        })
        this.eq('withPrimary result', result, set)
      } else if (r < 0.86 && depth < 3) {
        const alias = rand() < 0.5 ? set : REPLICAS[set]![0] ?? set
        const inner = [...overrides, { set, kind: 'replica' as const }]
        await pindb.withUnpinnedReplica(alias, async () => {
          this.check()
          await randomAwait(rand)
          await this.steps(1 + Math.floor(rand() * 4), inner, depth + 1)
        })
      } else if (r < 0.9 && depth < 2) {
        // Two branches of the same unit of work; each keeps its own overrides.
        await Promise.all([this.steps(2, overrides, depth + 1), this.steps(2, overrides, depth + 1)])
      } else {
        this.read(target, overrides)
      }
      this.check()
      await randomAwait(rand)
      this.check()
    }
  }
}

describe('thousands of concurrent units of work', () => {
  it('6,000 interleaved contexts (greedy and strict) each see exactly their own pins, new pins and sticky replicas — zero leaks', async () => {
    const CONTEXTS = 6_000
    const greedy = makePinDb('greedy')
    const strict = makePinDb('strict')
    const master = mulberry32(0x5eed)
    let finished = 0
    const runs = Array.from({ length: CONTEXTS }, (_, id) => {
      const seed = Math.floor(master() * 2 ** 32)
      const rand = mulberry32(seed)
      const mode = id % 2 === 0 ? 'greedy' : 'strict'
      const pindb = mode === 'greedy' ? greedy : strict
      const carried = MANAGED.filter(() => rand() < 0.15)
      return pindb.run(
        async () => {
          const model = new Model(id, pindb, mode, rand)
          for (const set of carried) model.pinned.add(set)
          model.check()
          await randomAwait(rand)
          model.check()
          await model.steps(6 + Math.floor(rand() * 10), [], 0)
          model.check()
          // What it would carry on: exactly its own pins.
          model.eq('capturePins', JSON.stringify(pindb.capturePins().map((p) => p.set)), JSON.stringify([...model.pinned].sort()))
          finished++
          return model.sticky.size
        },
        { pins: carried.map((set) => ({ set, expiresAt: 1_000_000 + 5_000 })) },
      )
    })
    const settled = await Promise.allSettled(runs)
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []))
    expect(failures.length, `first failures:\n${failures.slice(0, 5).join('\n')}`).toBe(0)
    expect(finished).toBe(CONTEXTS)
    // Nothing leaked out of the contexts either.
    for (const p of [greedy, strict]) {
      expect(p.inContext).toBe(false)
      expect(p.getPinned()).toEqual(new Set())
    }
    // Replica choice really was spread across contexts (round-robin).
    const reads = greedy.stats()
    for (const alias of ['default-0', 'default-1', 'default-2', 'egg-0', 'egg-1']) expect(reads[alias]!.counters.reads).toBeGreaterThan(0)
  }, 60_000)
})

describe('overrides are scoped to their own async branch', () => {
  it('withPrimary in one branch of a Promise.all does not affect the other branch (greedy and strict)', async () => {
    for (const mode of ['greedy', 'strict'] as const) {
      const pindb = makePinDb(mode)
      await pindb.run(async () => {
        const replica = pindb.getReplica('default')
        const log: string[] = []
        await Promise.all([
          pindb.withPrimary('default', async () => {
            for (let i = 0; i < 5; i++) {
              expect(pindb.dbForRead(HINTS.default)).toBe('default')
              expect(pindb.dbForWrite(HINTS.default)).toBe('default')
              log.push('A')
              await tick()
            }
          }),
          (async () => {
            for (let i = 0; i < 5; i++) {
              expect(pindb.dbForRead(HINTS.default)).toBe(replica)
              if (mode === 'strict') expect(() => pindb.dbForWrite(HINTS.default)).toThrow(UnpinnedWriteError)
              log.push('B')
              await tick()
            }
          })(),
        ])
        expect(log.join('')).toBe('ABABABABAB') // the branches really interleaved
        expect(pindb.dbForRead(HINTS.default)).toBe(replica)
        expect(pindb.getPinned()).toEqual(new Set()) // withPrimary writes left no pin
      })
    }
  })

  it('withUnpinnedReplica in one branch does not affect the other branch', async () => {
    const pindb = makePinDb('strict')
    await pindb.run(async () => {
      pindb.pin('egg')
      const replica = pindb.getReplica('egg')
      const log: string[] = []
      await Promise.all([
        (async () => {
          for (let i = 0; i < 5; i++) {
            expect(pindb.dbForRead(HINTS.egg)).toBe('egg')
            expect(pindb.dbForWrite(HINTS.egg)).toBe('egg')
            log.push('A')
            await tick()
          }
        })(),
        pindb.withUnpinnedReplica('egg', async () => {
          for (let i = 0; i < 5; i++) {
            expect(pindb.dbForRead(HINTS.egg)).toBe(replica)
            expect(() => pindb.dbForWrite(HINTS.egg)).toThrow(UnpinnedWriteError)
            log.push('B')
            await tick()
          }
        }),
      ])
      expect(log.join('')).toBe('ABABABABAB')
      expect(pindb.dbForRead(HINTS.egg)).toBe('egg')
    })
  })

  it('nested overrides in sibling branches stay independent, with awaits interleaving them', async () => {
    const pindb = makePinDb('greedy')
    await pindb.run(async () => {
      pindb.pin('default')
      pindb.pin('egg')
      const rDefault = pindb.getReplica('default')
      const rEgg = pindb.getReplica('egg')
      const seen: Array<[string, string, string]> = []
      await Promise.all([
        pindb.withUnpinnedReplica('default', async () => {
          await tick()
          await pindb.withPrimary('egg', async () => {
            for (let i = 0; i < 3; i++) {
              seen.push(['A', pindb.dbForRead(HINTS.default), pindb.dbForRead(HINTS.egg)])
              await tick()
            }
          })
          seen.push(['A', pindb.dbForRead(HINTS.default), pindb.dbForRead(HINTS.egg)])
        }),
        pindb.withUnpinnedReplica('egg', async () => {
          for (let i = 0; i < 4; i++) {
            seen.push(['B', pindb.dbForRead(HINTS.default), pindb.dbForRead(HINTS.egg)])
            await tick()
          }
        }),
      ])
      for (const [branch, d, e] of seen) {
        if (branch === 'A') expect([d, e]).toEqual([rDefault, 'egg'])
        else expect([d, e]).toEqual(['default', rEgg])
      }
      expect(seen.map(([b]) => b).join('')).toMatch(/AB.*BA|BA.*AB/)
      expect([pindb.dbForRead(HINTS.default), pindb.dbForRead(HINTS.egg)]).toEqual(['default', 'egg'])
    })
  })

  it('a write-pin made in one branch IS visible in the other (same unit of work)', async () => {
    const pindb = makePinDb('greedy')
    await pindb.run(async () => {
      const replica = pindb.getReplica('default')
      let wrote!: () => void
      const written = new Promise<void>((resolve) => (wrote = resolve))
      await Promise.all([
        (async () => {
          await tick()
          expect(pindb.dbForWrite(HINTS.default)).toBe('default')
          wrote()
        })(),
        (async () => {
          expect(pindb.dbForRead(HINTS.default)).toBe(replica)
          expect(pindb.isPinned('default')).toBe(false)
          await written
          expect(pindb.isPinned('default')).toBe(true)
          expect(pindb.isNewlyPinned('default')).toBe(true)
          expect(pindb.dbForRead(HINTS.default)).toBe('default')
        })(),
      ])
      expect(pindb.getPinned()).toEqual(new Set(['default']))
    })
  })

  it('a greedy write inside withUnpinnedReplica pins for the sibling branch, while its own branch still reads the replica', async () => {
    const pindb = makePinDb('greedy')
    await pindb.run(async () => {
      const replica = pindb.getReplica('egg')
      let wrote!: () => void
      const written = new Promise<void>((resolve) => (wrote = resolve))
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      await Promise.all([
        pindb.withUnpinnedReplica('egg', async () => {
          await tick()
          pindb.dbForWrite(HINTS.egg)
          wrote()
          await released
          expect(pindb.dbForRead(HINTS.egg)).toBe(replica)
        }),
        (async () => {
          await written
          expect(pindb.dbForRead(HINTS.egg)).toBe('egg')
          release()
        })(),
      ])
      expect(pindb.dbForRead(HINTS.egg)).toBe('egg')
    })
  })

  it('a write inside withPrimary in one branch leaves the set unpinned for the other branch', async () => {
    const pindb = makePinDb('greedy')
    await pindb.run(async () => {
      const replica = pindb.getReplica('default')
      let wrote!: () => void
      const written = new Promise<void>((resolve) => (wrote = resolve))
      await Promise.all([
        pindb.withPrimary('default', async () => {
          await tick()
          pindb.dbForWrite(HINTS.default)
          wrote()
        }),
        (async () => {
          await written
          expect(pindb.isPinned('default')).toBe(false)
          expect(pindb.dbForRead(HINTS.default)).toBe(replica)
        })(),
      ])
    })
  })
})
