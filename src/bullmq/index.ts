/**
 * `pindb/bullmq`: pins that travel into BullMQ jobs. {@link pinDbQueue} adds the enqueuing unit
 * of work's live pins to each job's data as a signed token (under {@link DEFAULT_JOB_KEY},
 * `data.__pindb`), and {@link pinDbProcessor} runs each job as a fresh unit of work carrying
 * exactly those pins — so a job enqueued right after a write reads that write from the primary,
 * and nothing leaks from one job to the next on a reused worker.
 *
 * BullMQ is typed structurally: this module does not load `bullmq`.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import { captureJobPins, createPinCodec, reportTokenProblem, runWithJobPins, type TokenRejectedHandler } from '../jobs.js'
import type { PinDb } from '../pindb.js'
import type { PinTokenCodec } from '../token/pin-token.js'

export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'

/** The job data key the pin token goes under, unless `key` says otherwise. */
export const DEFAULT_JOB_KEY = '__pindb'

/** Options of {@link pinDbQueue} and {@link pinDbProcessor}. */
export interface PinDbJobOptions {
  /** HMAC keys, newest first; the same on producers and workers. See `PinCarrierOptions.secrets`. */
  secrets: readonly (string | Uint8Array)[]
  /** Job data key of the token. Default {@link DEFAULT_JOB_KEY}. */
  key?: string
  /** Told about invalid tokens, pins that could not be encoded and job data that could not carry them. */
  onTokenRejected?: TokenRejectedHandler
}

/** The part of a BullMQ `Queue` that {@link pinDbQueue} wraps. */
export interface QueueLike {
  add(name: string, data: unknown, ...rest: never[]): Promise<unknown>
  addBulk(jobs: { name: string; data: unknown }[]): Promise<unknown>
}

/** The part of a BullMQ `Job` that {@link pinDbProcessor} reads. */
export interface JobLike {
  readonly data: unknown
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function settings(pindb: PinDb<object>, options: PinDbJobOptions): { codec: PinTokenCodec; key: string; onTokenRejected: TokenRejectedHandler | undefined } {
  const { key = DEFAULT_JOB_KEY, onTokenRejected } = options
  if (typeof key !== 'string' || key === '') throw new PinDbConfigError('key', `must be a non-empty string; omit it for '${DEFAULT_JOB_KEY}'.`)
  return { codec: createPinCodec(pindb, options.secrets), key, onTokenRejected }
}

/**
 * Wraps a BullMQ `Queue` so that `add` and `addBulk` put the current unit of work's live pins
 * (carried ones keep their expiry, new ones last `pinSeconds`) into each job's data under `key`, as
 * a signed token. Job data must be a plain object to carry it; any other data is left unchanged
 * and reported as `'unsupported-data'`. When nothing is pinned, a token already under `key` (job
 * data forwarded from another job) is removed. Every other property and method is the queue's own.
 * Repeatable jobs and flows are not covered: their data is not enqueued by a unit of work.
 *
 * @throws {@link PinDbConfigError} for missing or short `secrets`.
 *
 * @example
 * ```ts
 * import { Queue } from 'bullmq'
 * import { pinDbQueue } from 'pindb/bullmq'
 *
 * const emails = pinDbQueue(new Queue('emails', { connection }), pindb, { secrets: [process.env.PINDB_SECRET!] })
 * app.post('/signup', async (req, res) => {
 *   const user = await createUser(req.body) // pins `default`
 *   await emails.add('welcome', { userId: user.id }) // the worker reads the new user from the primary
 *   res.sendStatus(201)
 * })
 * ```
 */
export function pinDbQueue<Q extends QueueLike>(queue: Q, pindb: PinDb<object>, options: PinDbJobOptions): Q {
  const { codec, key, onTokenRejected } = settings(pindb, options)
  const withToken = (data: unknown, token: string | null): unknown => {
    if (!isPlainObject(data)) {
      if (token !== null) reportTokenProblem({ source: 'job', reason: 'unsupported-data' }, onTokenRejected)
      return data
    }
    if (token !== null) return { ...data, [key]: token }
    if (!Object.hasOwn(data, key)) return data
    const { [key]: _stale, ...rest } = data
    return rest
  }
  const add = async (name: string, data: unknown, ...rest: never[]): Promise<unknown> => {
    const token = await captureJobPins(pindb, codec, { onTokenRejected })
    return queue.add(name, withToken(data, token), ...rest)
  }
  const addBulk = async (jobs: { name: string; data: unknown }[]): Promise<unknown> => {
    const token = await captureJobPins(pindb, codec, { onTokenRejected })
    return queue.addBulk(jobs.map((job) => ({ ...job, data: withToken(job.data, token) })))
  }
  const bound = new Map<PropertyKey, unknown>()
  return new Proxy(queue, {
    get(target, property) {
      if (property === 'add') return add
      if (property === 'addBulk') return addBulk
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      // Methods run against the real queue (its private state), not the proxy.
      let fn = bound.get(property)
      if (fn === undefined || (fn as { original?: unknown }).original !== value) {
        fn = Object.assign((value as (...args: unknown[]) => unknown).bind(target), { original: value })
        bound.set(property, fn)
      }
      return fn
    },
  })
}

/**
 * Wraps a BullMQ Worker processor so that each job runs as a fresh pindb unit of work carrying the
 * pins of its token (see {@link pinDbQueue}): no pin from a previous job, only the enqueuer's. A
 * missing token runs unpinned; an invalid one (forged, expired, malformed) runs unpinned and is
 * reported, never thrown. `job.data` is passed unchanged.
 *
 * @throws {@link PinDbConfigError} for missing or short `secrets`.
 *
 * @example
 * ```ts
 * import { Worker } from 'bullmq'
 * import { pinDbProcessor } from 'pindb/bullmq'
 *
 * new Worker('emails', pinDbProcessor(pindb, async (job) => {
 *   const { rows } = await pool.query('SELECT * FROM users WHERE id = $1', [job.data.userId]) // primary while pinned
 *   await sendWelcome(rows[0])
 * }, { secrets: [process.env.PINDB_SECRET!] }), { connection })
 * ```
 */
export function pinDbProcessor<J extends JobLike, A extends unknown[], R>(
  pindb: PinDb<object>,
  processor: (job: J, ...rest: A) => R | Promise<R>,
  options: PinDbJobOptions,
): (job: J, ...rest: A) => Promise<R> {
  const { codec, key, onTokenRejected } = settings(pindb, options)
  return async function pinDbProcess(job: J, ...rest: A): Promise<R> {
    const data = job.data
    const token = isPlainObject(data) ? data[key] : undefined
    return runWithJobPins(pindb, codec, token, () => processor(job, ...rest), { onTokenRejected })
  }
}
