/**
 * Summaries of simulation read records (./simulation.mjs) and Markdown table helpers.
 */

/** The p-th percentile (0–100) of numbers, nearest-rank; undefined for none. */
export function percentile(values, p) {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/**
 * `{ reads, stale, stalePct, replicaReads, replicaShare, p50, p99, byServer, staleByKind, reasons }`.
 * Latency percentiles are over the GET requests (read-backs and browsing), i.e. what a page load
 * costs; the in-request read is part of its POST and is left out of them.
 */
export function summarize(reads) {
  const n = reads.length
  const stale = reads.filter((r) => r.stale).length
  const replicaReads = reads.filter((r) => r.replica).length
  const gets = reads.filter((r) => r.kind !== 'in-request').map((r) => r.latencyMs)
  const byServer = {}
  const staleByKind = { 'in-request': 0, 'read-back': 0, browse: 0 }
  const readsByKind = { 'in-request': 0, 'read-back': 0, browse: 0 }
  const reasons = {}
  for (const r of reads) {
    byServer[r.server] = (byServer[r.server] ?? 0) + 1
    readsByKind[r.kind] = (readsByKind[r.kind] ?? 0) + 1
    if (r.stale) staleByKind[r.kind] = (staleByKind[r.kind] ?? 0) + 1
    const reason = r.reason ?? 'none'
    reasons[reason] = (reasons[reason] ?? 0) + 1
  }
  return {
    reads: n,
    stale,
    stalePct: n ? (100 * stale) / n : 0,
    replicaReads,
    replicaShare: n ? (100 * replicaReads) / n : 0,
    p50: percentile(gets, 50),
    p99: percentile(gets, 99),
    byServer,
    readsByKind,
    staleByKind,
    reasons,
  }
}

export const fmtPct = (x) => `${x < 10 && x > 0 ? x.toFixed(1) : Math.round(x)} %`
export const fmtMs = (x) => (x === undefined ? '–' : x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`)
export const fmtLag = (ms) => (ms === 0 ? '0' : ms < 1000 ? `${ms} ms` : `${ms / 1000} s`)

/** A Markdown table from a header row and body rows (cells are strings). */
export function markdownTable(header, rows, align) {
  const al = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'))
  const sep = al.map((a) => (a === 'r' ? '---:' : a === 'c' ? ':---:' : '---'))
  return [header, sep, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** The same rows as fixed-width text for a terminal. */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
