/**
 * Markdown for the staleness benchmark: bench/results/staleness.md (the whole file) and the
 * `## Staleness: …` section of docs/benchmarks.md (only that section is replaced or appended;
 * the other sections belong to other benchmarks and are left as they are).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fmtLag, fmtMs, fmtPct, markdownTable } from './stats.mjs'

export const SECTION_TITLE = '## Staleness: stale reads and replica share by mode and lag'
export const COMMAND = 'npm run build && node bench/staleness.bench.mjs'

/** The main table: one row per (lag, mode). `cells`: [{ lag, mode, summary }]. */
export function resultsTable(cells) {
  const rows = cells.map(({ lag, mode, summary: s }) => [
    fmtLag(lag), mode.name, String(s.reads), `${s.stale} (${fmtPct(s.stalePct)})`, fmtPct(s.replicaShare), fmtMs(s.p50), fmtMs(s.p99),
  ])
  return markdownTable(['Lag', 'Mode', 'Reads', 'Stale reads', 'Served by replica', 'p50 read', 'p99 read'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r'])
}

function detailTable(cells) {
  const rows = cells.map(({ lag, mode, summary: s, writes }) => [
    fmtLag(lag), mode.name, String(writes),
    ...['in-request', 'read-back', 'browse'].map((k) => `${s.staleByKind[k] ?? 0} / ${s.readsByKind[k] ?? 0}`),
    Object.entries(s.reasons).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', '),
  ])
  return markdownTable(['Lag', 'Mode', 'Writes', 'Stale in-request', 'Stale read-backs', 'Stale browsing', 'pindb route reasons'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'l'])
}

/** Data-driven reading of the results: what the numbers say about causal vs the windows. */
export function reading(cells) {
  const lags = [...new Set(cells.map((c) => c.lag))]
  const out = []
  for (const lag of lags) {
    const row = cells.filter((c) => c.lag === lag)
    const get = (name) => row.find((c) => c.mode.name === name)?.summary
    const causal = get('causal')
    const off = get('off')
    const zeroWindows = row.filter((c) => c.mode.name.startsWith('window') && c.summary.stale === 0)
    const bestWindow = zeroWindows.sort((a, b) => b.summary.replicaShare - a.summary.replicaShare)[0]
    const parts = [`**Lag ${fmtLag(lag)}**:`]
    if (off) parts.push(`without pinning ${fmtPct(off.stalePct)} of reads are stale;`)
    const staleWindows = row.filter((c) => c.mode.name.startsWith('window') && c.summary.stale > 0)
    if (staleWindows.length) parts.push(`${staleWindows.map((c) => `${c.mode.name} still has ${c.summary.stale} stale`).join(', ')};`)
    if (causal) {
      parts.push(`causal has ${causal.stale} stale read${causal.stale === 1 ? '' : 's'} with ${fmtPct(causal.replicaShare)} served by the replica`)
      parts.push(bestWindow
        ? `(best zero-stale window: ${bestWindow.mode.name}, ${fmtPct(bestWindow.summary.replicaShare)}).`
        : '(no window mode is free of stale reads here).')
    }
    const long = get('causal-60s')
    if (long) parts.push(`With \`pinSeconds: 60\`, causal has ${long.stale} stale and ${fmtPct(long.replicaShare)} on the replica.`)
    out.push(`- ${parts.join(' ')}`)
  }
  return out.join('\n')
}

function setupText(meta) {
  return [
    `- Date: ${meta.date}; Node ${meta.node}; PostgreSQL ${meta.postgres}; ${meta.cpus} CPU(s) (${meta.cpuModel}).`,
    `- ${meta.cellsText} (real HTTP clients with cookie jars) against the notes app`,
    `  (Express 5 + Kysely over \`pindb/pg\`'s routed pool). Within a lag, every mode replays the same`,
    `  users' schedules (seeded think times, browse lengths and choice of reads).`,
    `- Each user: POST a note (the request also reads the user's note count), read it back 1–3 times in`,
    `  separate requests 0–300 ms apart, then browse (a read every 400–1200 ms of the user's list or an`,
    `  older note) for 30–100 % of max(3 s, 1.3 × lag + 2.5 s), so reads land at every age of the last write.`,
    `- A read is stale when it does not show what the user knows exists (the count, the note, the newest note of the list).`,
    `- DB set: the primary and **replica 1 only** (the test bed's delayable replica, \`scripts/testbed.sh pg-delay\`),`,
    `  so the injected lag applies to every replica of the set. "Served by replica" counts reads whose`,
    `  statement returned the replica's \`inet_server_port()\`. Lag is \`recovery_min_apply_delay\`.`,
    `- Latency is the HTTP round trip of the GET reads on one 2-core machine that also runs the servers and clients;`,
    `  p99 of a few hundred samples is close to the maximum. Modes: see \`bench/lib/simulation.mjs\`.`,
  ].join('\n')
}

/** One line over every stale read of the causal modes: did they carry a pin, how old was the write, why did pindb route them there. */
export function staleCausalSummary(staleCausal) {
  if (staleCausal.length === 0) return 'No stale read in the causal modes.'
  const withPin = staleCausal.filter((r) => r.pinned).length
  const withPosition = staleCausal.filter((r) => r.pinPosition !== undefined).length
  const ages = staleCausal.map((r) => r.ageMs)
  const count = (key) => Object.entries(staleCausal.reduce((m, r) => ({ ...m, [r[key]]: (m[r[key]] ?? 0) + 1 }), {})).map(([k, n]) => `${k} ${n}`).join(', ')
  return `${staleCausal.length} stale read(s) in the causal modes (${count('mode')}): ${withPin} carried a pin (${withPosition} with a position); ` +
    `age of the user's last write ${Math.round(Math.min(...ages))}–${Math.round(Math.max(...ages))} ms; route reasons: ${count('reason')}; servers: ${count('server')}.`
}

function staleCausalText(staleCausal) {
  if (staleCausal.length === 0) return 'None.'
  const rows = staleCausal.slice(0, 30).map((r) => [
    fmtLag(r.lag), r.mode, r.kind, String(Math.round(r.ageMs)), r.pinned ? 'yes' : 'no', r.pinPosition ?? '–',
    r.reason ?? '–', r.server, r.knownPosition ?? '–', r.serverPosition ?? '–', String(r.expected),
  ])
  return `${staleCausalSummary(staleCausal)}\n\n${markdownTable(['Lag', 'Mode', 'Kind', 'Age of last write (ms)', 'Pin carried', 'Pin position', 'Route reason', 'Server', 'Monitor knew', 'Server replayed', 'Expected'], rows, ['l', 'l', 'l', 'r', 'l', 'l', 'l', 'l', 'l', 'l', 'r'])}` +
    (staleCausal.length > 30 ? `\n\n(${staleCausal.length - 30} more not shown.)` : '')
}

/** Writes bench/results/staleness.md (whole file). */
export function writeResults(file, meta, cells, staleCausal) {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `# Staleness benchmark

\`${COMMAND}\`

${setupText(meta)}

## Stale reads, replica share and read latency

${resultsTable(cells)}

## Stale reads by kind, and where pindb sent the reads

"Stale x / y": x stale out of y reads of that kind. Route reasons are pindb's (\`RouteEvent.reason\`);
"none" means no unit of work was involved (mode \`off\` routes outside any context).

${detailTable(cells)}

## Reading

${reading(cells)}

## Stale reads in the causal modes (the pin's position vs what the server had replayed)

${staleCausalText(staleCausal)}
`)
}

/**
 * Replaces (or appends) this benchmark's section of docs/benchmarks.md, creating the file with a
 * `# Benchmarks` title if it is missing. `notes` is hand-written prose appended to the section.
 */
export function writeDocsSection(file, meta, cells, notes) {
  const section = `${SECTION_TITLE}

\`\`\`sh
${COMMAND}
\`\`\`

Runs the notes app in five pinning modes — \`off\` (a plain read/write splitter, as Prisma's replica
extension or Drizzle's \`withReplicas\`), \`request\` (pinned for the rest of the request, Laravel
\`sticky\`), \`window-2s\` (Rails), \`window-15s\` (django-pindb, pindb's default), \`causal\` (pindb:
the pin carries the primary's WAL position) — at four injected replica lags, with simulated users
who write and read back. Full output, with stale reads by kind and route reasons:
[\`bench/results/staleness.md\`](../bench/results/staleness.md).

${setupText(meta)}

${resultsTable(cells)}

${reading(cells)}
${notes ? `\n${notes}\n` : ''}`.replace(/\n{3,}/g, '\n\n')
  mkdirSync(path.dirname(file), { recursive: true })
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
  const start = current.indexOf(SECTION_TITLE)
  let next
  if (start === -1) {
    next = `${current.replace(/\n*$/, '\n')}\n${section}`
  } else {
    const after = current.slice(start + SECTION_TITLE.length).search(/\n## /)
    const end = after === -1 ? current.length : start + SECTION_TITLE.length + after + 1
    next = `${current.slice(0, start)}${section}${end < current.length ? `\n${current.slice(end)}` : ''}`
  }
  writeFileSync(file, next)
}
