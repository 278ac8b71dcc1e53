/**
 * Pins lost to a response whose headers were already sent: a write made while a response streams
 * cannot put its pin in the cookie or header any more, so the next request may read stale data.
 * pindb cannot fix that after the fact; it reports it, on the `node:diagnostics_channel` channel
 * {@link PIN_LOST_CHANNEL} and to the carrier's `onPinLost` hook.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel'

/**
 * Pins made (or changed) after the response headers carrying the pins were sent. Never thrown.
 *
 * `reason` is `'headers-sent'`: a DB set was pinned after the headers went out, or a carried pin
 * was written again (it would have got a fresh expiry), or — with causal reads — a pinned set was
 * written again, so the position that was sent is older than that write.
 */
export interface PinLostEvent {
  /** The DB sets whose pins did not travel, sorted. */
  readonly sets: readonly string[]
  /** Why they did not travel. */
  readonly reason: 'headers-sent'
  /** The request's method, upper case. */
  readonly method: string
  /** The request's path, without the query string. */
  readonly path: string
}

/** Called with every {@link PinLostEvent}. Errors it throws become a process warning. */
export type PinLostHandler = (event: PinLostEvent) => void

/**
 * Name of the `node:diagnostics_channel` channel on which every {@link PinLostEvent} is published.
 * Detection runs only while this channel has subscribers or an `onPinLost` hook is set.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('pindb:pin-lost', (event) => log.warn({ event }, 'pin lost to a streamed response'))
 * ```
 */
export const PIN_LOST_CHANNEL = 'pindb:pin-lost'

const pinLostChannel = channel(PIN_LOST_CHANNEL)

/** @internal Whether anyone would hear about a lost pin. */
export function pinLostWatched(handler: PinLostHandler | undefined): boolean {
  return handler !== undefined || pinLostChannel.hasSubscribers
}

/** @internal Publishes a lost pin to the channel and the hook; never throws. */
export function reportPinLost(event: PinLostEvent, handler: PinLostHandler | undefined): void {
  if (pinLostChannel.hasSubscribers) pinLostChannel.publish(event)
  if (handler === undefined) return
  try {
    handler(event)
  } catch (error) {
    process.emitWarning(`[pindb] onPinLost threw: ${error instanceof Error ? error.message : String(error)}`, 'PinDbWarning')
  }
}

/** @internal What was sent for one set: its expiry kind and position. */
export interface SentPin {
  readonly newly: boolean
  readonly position: string | undefined
}

/**
 * @internal The sets whose pins differ, in a way that matters, from what was sent: pinned since,
 * carried then but written since, or (causal) sent with a position that is no longer current.
 */
export function lostSets(sent: ReadonlyMap<string, SentPin>, now: ReadonlyMap<string, SentPin>): string[] {
  const lost: string[] = []
  for (const [set, pin] of now) {
    const before = sent.get(set)
    if (before === undefined || (pin.newly && !before.newly) || (before.position !== undefined && before.position !== pin.position)) lost.push(set)
  }
  return lost.sort()
}
