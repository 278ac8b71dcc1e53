/**
 * Writes outside any unit of work. A write routed with no pinning context (the middleware was
 * forgotten or mounted after the routes, a script without `pindb.run`) pins nothing, so the next
 * request may read its own write back stale — silently. The `unscopedWrites` option of
 * `createPinDb` says what happens: `'warn'` (default; one process warning, plus a diagnostics
 * channel event every time), `'throw'` or `'ignore'`.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel'
import { PinDbError } from './errors.js'

/** What to do about a write routed outside any unit of work. */
export type UnscopedWrites = 'warn' | 'throw' | 'ignore'

/** Name of the diagnostics channel that receives an {@link UnscopedWriteEvent} for every unscoped write (unless `'ignore'`). */
export const UNSCOPED_WRITE_CHANNEL = 'pindb:unscoped-write'

/** Code of the process warning emitted (once per process) for the first unscoped write. */
export const UNSCOPED_WRITE_WARNING = 'PINDB_UNSCOPED_WRITE'

/** Published on {@link UNSCOPED_WRITE_CHANNEL}. */
export interface UnscopedWriteEvent {
  /** The DB set the write went to (its primary). */
  readonly set: string
  /** The statement, when an adapter routed one. */
  readonly sql?: string
}

const unscopedChannel = channel(UNSCOPED_WRITE_CHANNEL)
let warned = false

function message(set: string): string {
  return `a write to "${set}" was routed outside any unit of work, so it left no pin: a later read may not see it. ` +
    'Wrap the work in pindb.run(fn), install the middleware (pindb/express, pindb/fastify, pindb/fetch) before the routes that write, ' +
    "or use the job wrapper (pindb/bullmq). Set `unscopedWrites: 'ignore'` if this write needs no read-your-writes."
}

/**
 * @internal The router calls this when it routes a write to `set` with no pinning context (greedy
 * mode, routing enabled, no `withPrimary` scope). Publishes the event, then warns once per process
 * or throws, as `policy` says.
 * @throws {@link PinDbError} `PINDB_UNSCOPED_WRITE` when `policy` is `'throw'`.
 */
export function onUnscopedWrite(policy: UnscopedWrites, set: string, sql?: string): void {
  if (policy === 'ignore') return
  if (unscopedChannel.hasSubscribers) unscopedChannel.publish(sql === undefined ? { set } : { set, sql })
  if (policy === 'throw') throw new PinDbError('PINDB_UNSCOPED_WRITE', message(set))
  if (warned) return
  warned = true
  process.emitWarning(`[pindb] ${message(set)}`, { code: UNSCOPED_WRITE_WARNING })
}

/** @internal Tests: let the next unscoped write warn again. */
export function resetUnscopedWriteWarning(): void {
  warned = false
}
