/**
 * Pins carried into jobs, without Redis: captureJobPins / runWithJobPins / createPinCodec, and the
 * BullMQ wrappers over a fake queue.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_JOB_KEY, pinDbProcessor, pinDbQueue } from '../../src/bullmq/index.js'
import { createPinDb, PinDbConfigError, type PinDb } from '../../src/index.js'
import { captureJobPins, createPinCodec, runWithJobPins, type TokenRejectedEvent } from '../../src/jobs.js'

type Cfg = Record<string, unknown>
const SECRET = 'jobs-test-secret-0123456789-abcdefghijklmn'

function setup(enabled = true): { pindb: PinDb<Cfg>; clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const pindb = createPinDb<Cfg>({
    primaries: { default: {}, egg: {} },
    replicas: { default: [{}], egg: [{}] },
    clock: () => clock.now,
    enabled,
  })
  return { pindb, clock }
}

class FakeQueue {
  readonly added: { name: string; data: unknown; opts?: unknown }[] = []
  readonly #name = 'fake'
  async add(name: string, data: unknown, opts?: unknown): Promise<{ id: string }> {
    this.added.push(opts === undefined ? { name, data } : { name, data, opts })
    return { id: String(this.added.length) }
  }
  async addBulk(jobs: { name: string; data: unknown }[]): Promise<unknown[]> {
    return Promise.all(jobs.map((job) => this.add(job.name, job.data)))
  }
  get name(): string {
    return this.#name
  }
  close(): string {
    return `closed ${this.#name}`
  }
}

describe('createPinCodec', () => {
  it('uses the instance’s pinSeconds, sets and clock', () => {
    const { pindb, clock } = setup()
    const codec = createPinCodec(pindb, [SECRET])
    const token = codec.encode([{ set: 'egg', expiresAt: clock.now + 60_000 }, { set: 'nope', expiresAt: clock.now + 1_000 }])
    expect(codec.decode(token)).toEqual({ ok: true, pins: [{ set: 'egg', expiresAt: clock.now + 15_000 }], dropped: 0 })
    expect(() => createPinCodec(pindb, [])).toThrow(PinDbConfigError)
  })
})

describe('captureJobPins / runWithJobPins', () => {
  it('carries a write’s pin into the job; carried pins keep their expiry', async () => {
    const { pindb, clock } = setup()
    const codec = createPinCodec(pindb, [SECRET])
    const token = await pindb.run(async () => {
      pindb.pin('egg')
      return captureJobPins(pindb, codec)
    })
    expect(token).toMatch(/^1\./)
    clock.now += 5_000
    const seen = runWithJobPins(pindb, codec, token, () => [pindb.getPinned(), pindb.isNewlyPinned('egg'), pindb.capturePins()])
    expect(seen).toEqual([new Set(['egg']), false, [{ set: 'egg', expiresAt: 1_015_000 }]])
  })

  it('gives null outside a context, with nothing pinned, and when disabled', async () => {
    const { pindb } = setup()
    const codec = createPinCodec(pindb, [SECRET])
    expect(await captureJobPins(pindb, codec)).toBeNull()
    expect(await pindb.run(() => captureJobPins(pindb, codec))).toBeNull()
    const off = setup(false).pindb
    expect(await off.run(() => (off.pin('egg'), captureJobPins(off, createPinCodec(off, [SECRET]))))).toBeNull()
  })

  it('runs a missing token unpinned silently, an invalid one unpinned and reported', () => {
    const { pindb } = setup()
    const codec = createPinCodec(pindb, [SECRET])
    const events: TokenRejectedEvent[] = []
    const onTokenRejected = (e: TokenRejectedEvent) => events.push(e)
    for (const token of [undefined, null, '']) {
      expect(runWithJobPins(pindb, codec, token, () => pindb.getPinned(), { onTokenRejected })).toEqual(new Set())
    }
    expect(events).toEqual([])
    expect(runWithJobPins(pindb, codec, 'forged', () => pindb.getPinned(), { onTokenRejected })).toEqual(new Set())
    expect(runWithJobPins(pindb, codec, 42, () => pindb.inContext, { onTokenRejected })).toBe(true)
    expect(events).toEqual([{ source: 'job', reason: 'malformed', length: 6 }, { source: 'job', reason: 'malformed' }])
  })

  it('a job never sees the pins of the job before it', () => {
    const { pindb } = setup()
    const codec = createPinCodec(pindb, [SECRET])
    runWithJobPins(pindb, codec, null, () => pindb.pin('default'))
    expect(runWithJobPins(pindb, codec, null, () => pindb.getPinned())).toEqual(new Set())
  })
})

describe('pinDbQueue / pinDbProcessor (fake queue)', () => {
  it('adds the token under __pindb when pins are live, and only then', async () => {
    const { pindb } = setup()
    const fake = new FakeQueue()
    const queue = pinDbQueue(fake, pindb, { secrets: [SECRET] })
    await queue.add('plain', { a: 1 })
    await pindb.run(async () => {
      pindb.pin('egg')
      await queue.add('pinned', { a: 2 }, { delay: 5 } as never)
      await queue.addBulk([{ name: 'b1', data: { b: 1 } }, { name: 'b2', data: { b: 2 } }])
    })
    expect(fake.added[0]).toEqual({ name: 'plain', data: { a: 1 } })
    expect(fake.added[1]).toMatchObject({ name: 'pinned', data: { a: 2, [DEFAULT_JOB_KEY]: expect.stringMatching(/^1\./) }, opts: { delay: 5 } })
    expect(fake.added.slice(2).map((j) => Object.keys(j.data as object))).toEqual([['b', '__pindb'], ['b', '__pindb']])
  })

  it('leaves non-object data unchanged and reports it; strips a stale token when unpinned', async () => {
    const { pindb } = setup()
    const fake = new FakeQueue()
    const events: TokenRejectedEvent[] = []
    const queue = pinDbQueue(fake, pindb, { secrets: [SECRET], key: 'pins', onTokenRejected: (e) => events.push(e) })
    await pindb.run(async () => {
      pindb.pin('egg')
      await queue.add('s', 'a string')
      await queue.add('m', new Map())
    })
    await queue.add('fwd', { x: 1, pins: 'old-token' })
    expect(fake.added.map((j) => j.data)).toEqual(['a string', new Map(), { x: 1 }])
    expect(events).toEqual([{ source: 'job', reason: 'unsupported-data' }, { source: 'job', reason: 'unsupported-data' }])
  })

  it('the wrapper is the queue for everything else (methods bound to the real queue)', () => {
    const { pindb } = setup()
    const fake = new FakeQueue()
    const queue = pinDbQueue(fake, pindb, { secrets: [SECRET] })
    expect(queue.name).toBe('fake')
    expect(queue.close()).toBe('closed fake')
    expect(queue.close).toBe(queue.close)
    expect(queue.added).toBe(fake.added)
    expect(() => pinDbQueue(fake, pindb, { secrets: [SECRET], key: '' })).toThrow(PinDbConfigError)
  })

  it('the processor runs each job in a fresh context with its token’s pins', async () => {
    const { pindb } = setup()
    const fake = new FakeQueue()
    const queue = pinDbQueue(fake, pindb, { secrets: [SECRET] })
    await pindb.run(async () => (pindb.pin('egg'), queue.add('a', { n: 1 })))
    await queue.add('b', { n: 2 })
    const seen: [number, string[], string | undefined][] = []
    const process = pinDbProcessor(pindb, async (job: { data: { n: number } }, token?: string) => {
      seen.push([job.data.n, [...pindb.getPinned()], token])
      pindb.pin('default') // must not leak into the next job
      return job.data.n * 10
    }, { secrets: [SECRET] })
    const results = []
    for (const job of [...fake.added, ...fake.added]) results.push(await process(job as { data: { n: number } }, 'lock'))
    expect(results).toEqual([10, 20, 10, 20])
    expect(seen).toEqual([[1, ['egg'], 'lock'], [2, [], 'lock'], [1, ['egg'], 'lock'], [2, [], 'lock']])
  })
})
