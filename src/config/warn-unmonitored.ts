/**
 * `causal` and `maxLag` need replica positions and lag, which only a replica monitor measures.
 * Without one, causal mode sends every pinned read to the primary and `maxLag` counts every replica
 * as lagging (unknown lag) — correct, but silently not what was configured. Routed pools call
 * {@link warnUnmonitored} when they are created; it warns once per process.
 *
 * @module
 */
import type { NormalizedOptions } from '../options.js'

/** Code of the process warning for `causal` without a replica monitor. */
export const CAUSAL_NO_MONITOR_WARNING = 'PINDB_CAUSAL_NO_MONITOR'
/** Code of the process warning for `maxLag` without a replica monitor. */
export const MAXLAG_NO_MONITOR_WARNING = 'PINDB_MAXLAG_NO_MONITOR'

const warned = new Set<string>()

function warnOnce(code: string, message: string): void {
  if (warned.has(code)) return
  warned.add(code)
  process.emitWarning(`[pindb] ${message}`, { code })
}

/**
 * @internal Call when a routed pool is created with its `monitor` option. Warns (once per process,
 * per code) when `causal` or `maxLag` is set but this pool starts no replica monitor.
 */
export function warnUnmonitored(options: Pick<NormalizedOptions, 'causal' | 'maxLagMs' | 'maxLagBytes'>, monitor: unknown, where = 'a routed pool'): void {
  if (monitor !== undefined && monitor !== false) return
  if (options.causal) {
    warnOnce(CAUSAL_NO_MONITOR_WARNING, `\`causal\` is on but ${where} was created without \`monitor\`: no replica position is known, so every pinned read goes to the primary. ` +
      'Pass `monitor: true` (or { intervalMs }) to the pool that should measure the replicas.')
  }
  if (options.maxLagMs !== undefined || options.maxLagBytes !== undefined) {
    warnOnce(MAXLAG_NO_MONITOR_WARNING, `\`maxLag\` is set but ${where} was created without \`monitor\`: replica lag is unknown, and unknown lag counts as lagging, so reads go to the primary. ` +
      'Pass `monitor: true` (or { intervalMs }) to the pool.')
  }
}

/** @internal Tests: let the warnings fire again. */
export function resetUnmonitoredWarnings(): void {
  warned.clear()
}

/** Alias of {@link warnUnmonitored} under the name the brief used. */
export const warnCausalWithoutMonitor = warnUnmonitored
