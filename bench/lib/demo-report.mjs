/**
 * The demo's HTML report: one self-contained file (inline CSS and SVG, no script, nothing loaded
 * from the network) with, per mode, stale reads and replica share as bars, a timeline of where
 * every read went, and the summary table.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fmtMs, fmtPct } from './stats.mjs'

const COLORS = { primary: '#3b6fd8', 'replica-0': '#2e9e5b', 'replica-1': '#17a2b8', stale: '#d62f2f' }
const LANES = ['primary', 'replica-0', 'replica-1']

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch])

/** Horizontal grouped bars: per mode, stale % and replica share %. */
function barsSvg(phases) {
  const labelW = 170
  const barW = 560
  const rowH = 64
  const top = 34
  const height = top + phases.length * rowH + 10
  const grid = [0, 25, 50, 75, 100].map((p) => {
    const x = labelW + (p / 100) * barW
    return `<line x1="${x}" y1="${top - 8}" x2="${x}" y2="${height - 8}" class="grid"/><text x="${x}" y="${top - 14}" class="axis" text-anchor="middle">${p} %</text>`
  }).join('')
  const rows = phases.map((p, i) => {
    const y = top + i * rowH
    const bar = (value, dy, color, label) => {
      const w = Math.max(value > 0 ? 2 : 0, (value / 100) * barW)
      return `<rect x="${labelW}" y="${y + dy}" width="${w.toFixed(1)}" height="20" rx="3" fill="${color}"/>` +
        `<text x="${labelW + w + 8}" y="${y + dy + 15}" class="value">${esc(label)}</text>`
    }
    return `<text x="${labelW - 14}" y="${y + 31}" class="mode" text-anchor="end">${esc(p.short ?? p.title)}</text>` +
      bar(p.summary.stalePct, 4, COLORS.stale, `${fmtPct(p.summary.stalePct)} stale (${p.summary.stale} of ${p.summary.reads} reads)`) +
      bar(p.summary.replicaShare, 28, COLORS['replica-0'], `${fmtPct(p.summary.replicaShare)} served by replicas`)
  }).join('')
  return `<svg viewBox="0 0 ${labelW + barW + 260} ${height}" role="img" aria-label="Stale reads and replica share per mode">${grid}${rows}</svg>`
}

/** Timeline of one phase: x = time, one lane per server, a dot per read (stale reads red, bigger). */
function timelineSvg(phase) {
  const left = 90
  const width = 860
  const laneH = 34
  const top = 12
  const height = top + LANES.length * laneH + 28
  const seconds = Math.max(1, Math.ceil(phase.durationMs / 1000))
  const x = (t) => left + (Math.min(t, seconds * 1000) / (seconds * 1000)) * width
  const lanes = LANES.map((lane, i) => {
    const y = top + i * laneH
    return `<rect x="${left}" y="${y}" width="${width}" height="${laneH - 4}" class="lane"/>` +
      `<text x="${left - 10}" y="${y + laneH / 2 + 2}" class="lanelabel" text-anchor="end" fill="${COLORS[lane]}">${lane}</text>`
  }).join('')
  const ticks = Array.from({ length: seconds + 1 }, (_, s) => s).filter((s) => s % 2 === 0 || seconds <= 12).map((s) =>
    `<text x="${x(s * 1000)}" y="${height - 8}" class="axis" text-anchor="middle">${s}s</text>`).join('')
  let seed = 7
  const jitter = () => {
    seed = (seed * 16807) % 2147483647
    return (seed / 2147483647 - 0.5) * (laneH - 14)
  }
  const dots = phase.reads.filter((r) => LANES.includes(r.server)).sort((a, b) => Number(a.stale) - Number(b.stale)).map((r) => {
    const cy = top + LANES.indexOf(r.server) * laneH + (laneH - 4) / 2 + jitter()
    const title = `<title>${esc(`${(r.t / 1000).toFixed(2)} s — ${r.kind} → ${r.server}${r.stale ? ' — STALE' : ''} (pindb: ${r.reason ?? 'no unit of work'})`)}</title>`
    return r.stale
      ? `<circle cx="${x(r.t).toFixed(1)}" cy="${cy.toFixed(1)}" r="4.6" fill="${COLORS.stale}" stroke="#fff" stroke-width="1">${title}</circle>`
      : `<circle cx="${x(r.t).toFixed(1)}" cy="${cy.toFixed(1)}" r="3.2" fill="${COLORS[r.server]}" fill-opacity="0.8">${title}</circle>`
  }).join('')
  return `<svg viewBox="0 0 ${left + width + 20} ${height}" role="img" aria-label="Timeline of reads: ${esc(phase.title)}">${lanes}${ticks}${dots}</svg>`
}

function summaryTable(phases) {
  const rows = phases.map((p) => {
    const s = p.summary
    return `<tr><td>${esc(p.title)}</td><td>${s.reads}</td><td class="${s.stale ? 'bad' : 'good'}">${s.stale} (${fmtPct(s.stalePct)})</td>` +
      `<td>${fmtPct(s.replicaShare)}</td>${LANES.map((l) => `<td>${s.byServer[l] ?? 0}</td>`).join('')}<td>${fmtMs(s.p50)}</td><td>${fmtMs(s.p99)}</td></tr>`
  }).join('')
  return `<table><thead><tr><th>Mode</th><th>Reads</th><th>Stale</th><th>On replicas</th><th>→ primary</th><th>→ replica-0</th><th>→ replica-1</th><th>p50 read</th><th>p99 read</th></tr></thead><tbody>${rows}</tbody></table>`
}

const CSS = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; margin: 0; background: #f6f7f9; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 34px 0 8px; } h3 { font-size: 16px; margin: 22px 0 2px; }
p { margin: 6px 0; max-width: 900px; } .muted { color: #5b6474; } code { background: #eceef2; padding: 1px 4px; border-radius: 3px; }
.card { background: #fff; border: 1px solid #e1e4ea; border-radius: 8px; padding: 14px 18px; margin: 12px 0; }
svg { width: 100%; height: auto; display: block; }
.grid { stroke: #e6e8ee; } .axis { font-size: 11px; fill: #7a8393; } .mode { font-size: 14px; font-weight: 600; fill: #1d2330; }
.value { font-size: 12.5px; fill: #394152; } .lane { fill: #f3f5f8; } .lanelabel { font-size: 12.5px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { border-bottom: 1px solid #e6e8ee; padding: 7px 10px; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f0f2f6; font-weight: 600; white-space: nowrap; } .bad { color: #c62828; font-weight: 600; } .good { color: #2e7d32; font-weight: 600; }
.takeaway { margin: 6px 0 10px; padding-left: 22px; } .takeaway li { margin: 3px 0; }
.legend span { display: inline-block; margin-right: 18px; } .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
`

/** One sentence per phase saying what the numbers mean. */
function takeaway(phases) {
  const items = phases.map((p) => {
    const s = p.summary
    const stale = s.stale ? `<b class="bad">${fmtPct(s.stalePct)} of reads were stale</b>` : '<b class="good">no read was stale</b>'
    return `<li><b>${esc(p.short ?? p.title)}</b>: ${stale}, and ${fmtPct(s.replicaShare)} of reads were served by replicas` +
      ` (${s.byServer.primary ?? 0} of ${s.reads} went to the primary).</li>`
  }).join('')
  return `<ul class="takeaway">${items}</ul>`
}

/**
 * Writes the report and returns its path. `phases`: [{ title, explain, summary, reads, durationMs }];
 * `meta`: { date, node, postgres, users, lagMs }.
 */
export function writeDemoReport(file, phases, meta) {
  const legend = `<p class="legend">${['primary', 'replica-0', 'replica-1'].map((l) => `<span><i class="dot" style="background:${COLORS[l]}"></i>read served by ${l}</span>`).join('')}` +
    `<span><i class="dot" style="background:${COLORS.stale}"></i>stale read — the user did not see their own note</span></p>`
  const timelines = phases.map((p) => `<div class="card"><h3>${esc(p.title)}</h3><p class="muted">${esc(p.explain)}</p>${timelineSvg(p)}</div>`).join('')
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pindb demo — stale reads with and without pinning</title><style>${CSS}</style></head>
<body><main>
<h1>pindb demo: reading your own writes with read replicas</h1>
<p class="muted">${esc(meta.date)} · Node ${esc(meta.node)} · PostgreSQL ${esc(meta.postgres)} · ${meta.users} simulated users · ${phases.length} phases</p>
<p>A PostgreSQL primary and two streaming replicas ran on this machine; <b>replica-1 applied every change ${meta.lagMs / 1000} s late</b>
(<code>recovery_min_apply_delay</code>), replica-0 right away. A notes web app (Express + Kysely over pindb's routed pool) served
simulated users who each add a note, read it back a few times, then browse. A read is <b>stale</b> when the user does not see a note they
have just added. Where each read ran is the server's own answer (<code>inet_server_port()</code>), not pindb's claim.</p>
<h2>Stale reads and replica share</h2>
${takeaway(phases)}
<div class="card">${barsSvg(phases)}</div>
${summaryTable(phases)}
<h2>Where every read went</h2>
${legend}
${timelines}
<p class="muted">Made by <code>npm run demo</code> (scripts/demo.mjs). Hover a dot for the read's details.</p>
</main></body></html>
`
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, html)
  return file
}
