/**
 * Pins that travel into background jobs, driver-free: {@link captureJobPins} turns the current
 * unit of work's live pins into a signed token to put in a job's payload, and
 * {@link runWithJobPins} runs the job in a fresh context carrying them — so a job enqueued right
 * after a write reads that write, and nothing leaks from one job to the next (Laravel #37646).
 *
 * Also home of what every carrier (HTTP middleware, job wrappers) shares: {@link createPinCodec}
 * and the token problem reports ({@link TokenRejectedEvent}, channel {@link TOKEN_CHANNEL}).
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel'
import type { PinRecord } from './pin-record.js'
import type { PinDb } from './pindb.js'
import { createPinTokenCodec, type PinTokenCodec, type PinTokenRejection } from './token/pin-token.js'

/**
 * A pin token problem. Never thrown: the unit of work proceeds without the token's pins (or, for
 * outgoing pins, without sending a token), and the problem is reported to `onTokenRejected` and
 * to subscribers of the `node:diagnostics_channel` channel {@link TOKEN_CHANNEL}.
 *
 * - An incoming token was rejected (`source` `'cookie'`, `'header'` or `'job'`; `reason` one of
 *   the codec's {@link PinTokenRejection}s: `'malformed'`, `'bad-signature'`, `'expired'`,
 *   `'oversized'`, `'unsupported-version'`, or `'binding-mismatch'`: a bound token presented by
 *   another client — another session, another user — or for another job binding). The token itself
 *   is never included: it is client input.
 * - Outgoing pins could not be encoded (`reason: 'encode-failed'`, `source` `'response'` or `'job'`,
 *   the codec's error in `error`), e.g. more than 64 sets pinned at once.
 * - A job's data is not a plain object, so the token could not be added (`reason: 'unsupported-data'`).
 */
export interface TokenRejectedEvent {
  /** Where the token came from (`cookie`, `header`, `job`) or was going (`response`, `job`). */
  readonly source: 'cookie' | 'header' | 'response' | 'job'
  /** What went wrong. */
  readonly reason: PinTokenRejection | 'encode-failed' | 'unsupported-data'
  /** Length in characters of the rejected incoming token. */
  readonly length?: number
  /** The error behind `'encode-failed'`. */
  readonly error?: unknown
}

/** Called with every {@link TokenRejectedEvent}. Errors it throws are turned into a process warning, never into a failed request or job. */
export type TokenRejectedHandler = (event: TokenRejectedEvent) => void

/**
 * Name of the `node:diagnostics_channel` channel on which every {@link TokenRejectedEvent} is
 * published (only while it has subscribers).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('pindb:token', (event) => metrics.increment(`pindb.token.${event.reason}`))
 * ```
 */
export const TOKEN_CHANNEL = 'pindb:token'

const tokenChannel = channel(TOKEN_CHANNEL)

/** @internal Publishes a token problem to the channel and the callback; never throws. */
export function reportTokenProblem(event: TokenRejectedEvent, handler: TokenRejectedHandler | undefined): void {
  if (tokenChannel.hasSubscribers) tokenChannel.publish(event)
  if (handler === undefined) return
  try {
    handler(event)
  } catch (error) {
    process.emitWarning(`[pindb] onTokenRejected threw: ${error instanceof Error ? error.message : String(error)}`, 'PinDbWarning')
  }
}

/** Options of {@link createPinCodec}. */
export interface PinCodecOptions {
  /** Longest accepted token, in characters; default 4096 (one cookie). */
  maxLength?: number
}

/**
 * Builds the pin-token codec for a pindb instance: its `pinSeconds` bound every carried pin, its
 * DB sets are the only known sets, and its clock is used. Every carrier (the HTTP middleware, the
 * job wrappers) uses this.
 *
 * @param secrets - HMAC keys, newest first (sign with the first, accept any), at least 32 bytes
 *   each; generate one with `node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`.
 * @throws {@link PinDbConfigError} naming `secrets` (or `secrets[i]`) when they are missing or too short.
 *
 * @example
 * ```ts
 * const codec = createPinCodec(pindb, [process.env.PINDB_SECRET!])
 * ```
 */
export function createPinCodec(pindb: PinDb<object>, secrets: readonly (string | Uint8Array)[], options: PinCodecOptions = {}): PinTokenCodec {
  return createPinTokenCodec({
    secrets,
    pinSeconds: pindb.options.pinSeconds,
    isKnownSet: (set) => pindb.topology.sets.has(set),
    clock: pindb.options.clock,
    ...(options.maxLength === undefined ? {} : { maxLength: options.maxLength }),
  })
}

/** Options of {@link captureJobPins} and {@link runWithJobPins}. */
export interface JobPinOptions {
  /** Told about token problems (see {@link TokenRejectedEvent}); they are also published on {@link TOKEN_CHANNEL}. */
  onTokenRejected?: TokenRejectedHandler | undefined
  /**
   * Binds the token to something of the job's (a tenant id, a user id…): {@link captureJobPins}
   * puts a keyed hash of it in the token (never the value), and {@link runWithJobPins} ignores a
   * bound token unless given the same binding (reported as `'binding-mismatch'`). Default none.
   */
  binding?: string | undefined
}

/**
 * The current unit of work's live pins as a signed token to put in a job's payload: settles
 * replication positions (causal reads), captures the pins (carried ones keep their expiry, new ones
 * last `pinSeconds`) and encodes them.
 *
 * @returns the token, or `null` when nothing is pinned, outside a context, when pindb is disabled,
 *   or when the pins could not be encoded (reported as `'encode-failed'`, never thrown).
 *
 * @example
 * ```ts
 * await pindb.run(async () => {
 *   await pool.query('INSERT INTO orders …')
 *   await queue.add('receipt', { orderId, pins: await captureJobPins(pindb, codec) })
 * })
 * ```
 */
export async function captureJobPins(pindb: PinDb<object>, codec: PinTokenCodec, options: JobPinOptions = {}): Promise<string | null> {
  if (!pindb.inContext || !pindb.enabled) return null
  await pindb.settlePositions()
  return encodePins(codec, pindb.capturePins(), 'job', options.onTokenRejected, options.binding)
}

/** @internal Encodes pins; an encoding failure is reported and gives `null`. */
export function encodePins(
  codec: PinTokenCodec,
  pins: readonly PinRecord[],
  source: 'response' | 'job',
  onTokenRejected: TokenRejectedHandler | undefined,
  binding?: string | undefined,
): string | null {
  if (pins.length === 0) return null
  try {
    return binding === undefined ? codec.encode(pins) : codec.encode(pins, { binding })
  } catch (error) {
    reportTokenProblem({ source, reason: 'encode-failed', error }, onTokenRejected)
    return null
  }
}

/**
 * @internal Decodes one incoming token; a rejected one is reported and gives no pins. `null`,
 * `undefined` and `''` mean "no token".
 */
export function decodePins(
  codec: PinTokenCodec,
  token: unknown,
  source: 'cookie' | 'header' | 'job',
  onTokenRejected: TokenRejectedHandler | undefined,
  binding?: string | undefined,
): PinRecord[] {
  const result = binding === undefined ? codec.decode(token as string | null | undefined) : codec.decode(token as string | null | undefined, { binding })
  if (result.ok) return result.pins
  reportTokenProblem(
    typeof token === 'string' ? { source, reason: result.reason, length: token.length } : { source, reason: result.reason },
    onTokenRejected,
  )
  return []
}

/** @internal Merges pin lists: one pin per set, the later expiry wins (with its position). */
export function mergePins(lists: readonly (readonly PinRecord[])[]): PinRecord[] {
  const bySet = new Map<string, PinRecord>()
  for (const list of lists) {
    for (const pin of list) {
      const prev = bySet.get(pin.set)
      if (prev === undefined || pin.expiresAt > prev.expiresAt) bySet.set(pin.set, pin)
    }
  }
  return [...bySet.values()]
}

/**
 * Runs `fn` as a fresh unit of work carrying the pins of a job's token (from
 * {@link captureJobPins}): nothing from the previous job, only what the token carries. A missing
 * token (`null`, `undefined`, `''`) runs unpinned; an invalid one (forged, expired, malformed) runs
 * unpinned and is reported, never thrown. With `options.binding`, a token bound to another binding
 * runs unpinned too (`'binding-mismatch'`).
 *
 * @example
 * ```ts
 * new Worker('receipts', (job) => runWithJobPins(pindb, codec, job.data.pins, () => sendReceipt(job.data.orderId)))
 * ```
 */
export function runWithJobPins<T>(pindb: PinDb<object>, codec: PinTokenCodec, token: unknown, fn: () => T, options: JobPinOptions = {}): T {
  return pindb.run(fn, { pins: decodePins(codec, token, 'job', options.onTokenRejected, options.binding) })
}
