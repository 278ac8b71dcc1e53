/**
 * Pins carried into BullMQ jobs, on the test bed's Redis: a Worker (concurrency 1) processing 1,000
 * alternating writer and reader jobs never lets one job's pins reach the next; a job enqueued in a
 * unit of work that wrote carries the pin into the worker, one enqueued unpinned does not; a forged
 * token runs unpinned and is reported.
 */
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { Queue, Worker, type Job } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pinDbProcessor, pinDbQueue } from '../../src/bullmq/index.js'
import { createPinDb } from '../../src/index.js'
import type { TokenRejectedEvent } from '../../src/jobs.js'
import { testbed } from '../support/testbed.js'

const SECRET = 'bullmq-test-secret-0123456789-abcdefghijk'
const JOBS = 1_000
const { redis } = testbed()
const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null }

interface Data {
  i: number
  kind: 'writer' | 'reader' | 'probe'
  /** The sets the job's token should carry, sorted. */
  expect: string[]
}

const pindb = createPinDb({
  primaries: { default: {}, egg: {} },
  replicas: { default: [{}], egg: [{}] },
  pinSeconds: 60,
})
const events: TokenRejectedEvent[] = []
const name = `pindb-test-${randomUUID()}`
const FORGED = '1.W1siZGVmYXVsdCIsOTk5OTk5OTk5OV1d.AAAAAAAAAAAAAAAAAAAAAA'
let raw: Queue<Data>
let queue: Queue<Data>
const seen = new Map<number, { pinned: string[]; inContext: boolean; afterAwait: string[] }>()
let expected = JOBS
let resolveDone: () => void = () => {}
let rejectDone: (err: Error) => void = () => {}
function expectJobs(): Promise<void> {
  const promise = new Promise<void>((resolve, reject) => ((resolveDone = resolve), (rejectDone = reject)))
  promise.catch(() => {}) // a job may fail before the test awaits: it still fails the test, not the process
  return promise
}
let done = expectJobs()
let worker: Worker<Data>

beforeAll(async () => {
  try {
    createRequire(import.meta.url).resolve('ioredis')
  } catch {
    throw new Error("BullMQ talks to Redis through the 'ioredis' package, which is not installed: add it to devDependencies (`npm i -D ioredis`).")
  }
  raw = new Queue<Data>(name, { connection })
  queue = pinDbQueue(raw, pindb, { secrets: [SECRET] })
  worker = new Worker<Data>(
    name,
    pinDbProcessor(pindb, async (job: Job<Data>) => {
      const pinned = [...pindb.getPinned()].sort()
      const inContext = pindb.inContext
      if (job.data.kind === 'writer') {
        pindb.dbForWrite() // a write pins `default` (greedy)…
        pindb.pin('egg') // …and an explicit pin: neither may reach the next job
      }
      await new Promise((resolve) => setImmediate(resolve))
      seen.set(job.data.i, { pinned, inContext, afterAwait: [...pindb.getPinned()].sort() })
      if (seen.size === expected) resolveDone()
    }, { secrets: [SECRET], onTokenRejected: (e) => events.push(e) }),
    { connection, concurrency: 1 },
  )
  worker.on('failed', (job, err) => rejectDone(new Error(`job ${job?.data.i} failed: ${err.message}`)))
  await worker.waitUntilReady()
})

afterAll(async () => {
  await worker?.close()
  await raw?.obliterate({ force: true })
  await raw?.close()
})

describe('BullMQ', () => {
  it(`${JOBS} alternating writer and reader jobs: zero leaks`, async () => {
    for (let i = 0; i < JOBS; i++) {
      // Every third job is enqueued from a unit of work that pinned `egg`; the others unpinned.
      const carry = i % 3 === 0
      await pindb.run(async () => {
        if (carry) pindb.pin('egg')
        await queue.add('job', { i, kind: i % 2 === 0 ? 'writer' : 'reader', expect: carry ? ['egg'] : [] }, { removeOnComplete: true })
      })
    }
    await done
    let leaks = 0
    for (let i = 0; i < JOBS; i++) {
      const job = seen.get(i)!
      const carry = i % 3 === 0
      const want = carry ? ['egg'] : []
      if (!job.inContext || job.pinned.join() !== want.join()) leaks++
      const after = i % 2 === 0 ? ['default', 'egg'] : want
      if (job.afterAwait.join() !== after.join()) leaks++
    }
    expect(leaks).toBe(0)
    expect(events).toEqual([])
  }, 60_000)

  it('a job enqueued after a write carries the pin; one enqueued unpinned does not; a forged token is reported', async () => {
    seen.clear()
    expected = 3
    done = expectJobs()
    await pindb.run(async () => {
      pindb.dbForWrite() // greedy: the write pins `default`
      await queue.add('after-write', { i: 1, kind: 'probe', expect: ['default'] })
    })
    await pindb.run(() => queue.add('unpinned', { i: 2, kind: 'probe', expect: [] }))
    await raw.add('forged', { i: 3, kind: 'probe', expect: [], ...{ __pindb: FORGED } })
    await done
    expect(seen.get(1)?.pinned).toEqual(['default'])
    expect(seen.get(2)?.pinned).toEqual([])
    expect(seen.get(3)?.pinned).toEqual([])
    expect(events).toEqual([{ source: 'job', reason: 'bad-signature', length: FORGED.length }])
  }, 30_000)
})
