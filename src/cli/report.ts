/**
 * The doctor's human-readable report: a table of aliases, then problems, warnings and a verdict.
 *
 * @internal
 * @module
 */
import type { AliasReport, DoctorReport, LagReport } from './types.js'

/** `850 ms`, `1.5 s`, `2 min 5 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)} min ${s % 60} s`
}

/** `512 B`, `12.3 kB`, `4.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = bytes
  let unit = 'B'
  for (const u of units) {
    if (v < 1000) break
    v /= 1000
    unit = u
  }
  return `${v.toFixed(1)} ${unit}`
}

function lagText(lag: LagReport | undefined): string {
  if (lag === undefined) return '-'
  const parts = [lag.ms === null ? '? ms' : `${lag.atLeast === true ? '> ' : ''}${formatMs(lag.ms)}`]
  if (lag.bytes !== undefined) parts.push(lag.bytes === null ? '? B' : formatBytes(lag.bytes))
  if (lag.transactions !== undefined) parts.push(lag.transactions === null ? '? trx' : `${lag.transactions} trx`)
  return parts.join(', ')
}

function statusText(a: AliasReport): string {
  if (!a.reachable) return 'UNREACHABLE'
  if (a.problems.length > 0) return `PROBLEM${a.problems.length > 1 ? ` x${a.problems.length}` : ''}`
  return a.warnings.length > 0 ? 'ok (warning)' : 'ok'
}

function followsText(a: AliasReport): string {
  if (a.expected !== 'replica') return '-'
  return a.follows === true ? 'yes' : a.follows === false ? 'NO' : '?'
}

/** Formats the report as a table followed by problems, warnings and the verdict. */
export function formatDoctor(report: DoctorReport): string {
  const head = ['ALIAS', 'SET', 'ENDPOINT', 'EXPECTED', 'ACTUAL', 'STATUS', 'LAG', 'FOLLOWS']
  const rows = report.aliases.map((a) => [
    a.alias, a.set ?? '-', a.endpoint, a.expected, a.actual, statusText(a), lagText(a.lag), followsText(a),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  const out = [`pindb doctor: ${report.config} (${report.driver})`, '', line(head), ...rows.map(line), '']
  const detail = report.aliases.filter((a) => a.followsDetail !== undefined || a.version !== undefined)
  if (detail.length > 0) {
    for (const a of detail) {
      const writes = a.writes === undefined ? undefined : `writes ${a.writes}`
      out.push(`  ${a.alias}: ${[a.version, a.followsDetail, writes, a.lag?.basis].filter((x) => x !== undefined).join('; ')}`)
    }
    out.push('')
  }
  if (report.problems.length > 0) out.push('Problems:', ...report.problems.map((p) => `  - ${p}`), '')
  if (report.warnings.length > 0) out.push('Warnings:', ...report.warnings.map((w) => `  - ${w}`), '')
  out.push(report.verdict, '')
  return out.join('\n')
}
