/**
 * Summaries and the Markdown report of the fault benchmark (bench/faults.bench.mjs).
 */
import { percentile } from './stats.mjs'

const s = (ms) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)}`)

/** Error kinds of failed records: `{ "ServerUnavailableError (mayHaveRun)": n, … }`. */
function errorKinds(records) {
  const out = {}
  for (const r of records) {
    if (r.error === undefined) continue
    const e = r.error
    const key = `${r.kind}: ${e.name}${e.code !== undefined && e.code !== 'PINDB_SERVER_UNAVAILABLE' ? ` ${e.code}` : ''}${e.mayHaveRun === undefined ? '' : e.mayHaveRun ? ' (mayHaveRun)' : ' (not sent)'}`
    out[key] ??= { n: 0, sample: e.message }
    out[key].n++
  }
  return out
}

/**
 * One scenario's figures from its records and timeline (`{ injectAt, liftAt, acceptAt }`, all
 * `performance.now()` times): counts, failures, caller waits before and during the fault, and how
 * long after the server answered again the replica took reads (replica faults) or a write
 * succeeded (primary faults).
 */
export function summarizeScenario({ records, timeline, targetPort, replicaFault, primaryPort }) {
  const { injectAt, injectedAt, liftAt, acceptAt } = timeline
  const wait = (r) => r.t1 - r.t0
  const before = records.filter((r) => r.t1 < injectAt)
  const during = records.filter((r) => r.t1 >= injectAt && r.t0 <= liftAt)
  const reads = records.filter((r) => r.kind !== 'write')
  const writes = records.filter((r) => r.kind === 'write')
  const failedWaits = records.filter((r) => r.error !== undefined).map(wait)
  let backMs
  if (acceptAt !== undefined) {
    const ok = records
      .filter((r) => r.error === undefined && r.t1 >= acceptAt && (replicaFault ? r.kind === 'read' && r.port === targetPort : r.kind === 'write'))
      .map((r) => r.t1)
    if (ok.length > 0) backMs = Math.max(0, Math.min(...ok) - acceptAt)
  }
  const duringWaits = during.map(wait)
  return {
    reads: reads.length,
    failedReads: reads.filter((r) => r.error !== undefined).length,
    writes: writes.length,
    failedWrites: writes.filter((r) => r.error !== undefined).length,
    mayHaveRun: writes.filter((r) => r.error?.mayHaveRun === true).length,
    staleReadBacks: records.filter((r) => r.kind === 'read-back' && r.seen === false).length,
    readsOnTargetDuringFault: during.filter((r) => r.kind === 'read' && r.error === undefined && r.port === targetPort && r.t0 > injectedAt && r.t1 < liftAt).length,
    // Plain reads (not read-backs) answered by a replica before the fault: pindb's routing at work.
    baselineReplicaShare: (() => { const b = before.filter((r) => r.kind === 'read' && r.error === undefined); return b.length ? b.filter((r) => r.port !== primaryPort).length / b.length : undefined })(),
    baselineP99: percentile(before.map(wait), 99),
    baselineMax: before.length ? Math.max(...before.map(wait)) : undefined,
    duringOps: during.length,
    duringP99: percentile(duringWaits, 99),
    duringMax: duringWaits.length ? Math.max(...duringWaits) : undefined,
    duringReadMax: (() => { const w = during.filter((r) => r.kind !== 'write').map(wait); return w.length ? Math.max(...w) : undefined })(),
    duringWriteMax: (() => { const w = during.filter((r) => r.kind === 'write').map(wait); return w.length ? Math.max(...w) : undefined })(),
    // How long statements overlapping the fault waited for a routed-pool client (`connect` mode).
    duringAcquireMax: (() => { const w = during.filter((r) => r.acquired !== undefined).map((r) => r.acquired - r.t0); return w.length ? Math.max(...w) : undefined })(),
    maxFailedWait: failedWaits.length ? Math.max(...failedWaits) : undefined,
    backMs,
    errors: errorKinds(records),
  }
}

/** The main table's header and rows (cells are strings). */
export function matrixRows(results) {
  const header = ['fault', 'callers', 'reads failed / total', 'writes failed / total', 'mayHaveRun', 'lost writes', 'wait p99 / max during fault (s)', 'baseline p99 (s)', 'leaked conns', 'back after (s)']
  const rows = results.map((r) => [
    r.label,
    String(r.callers),
    `${r.sum.failedReads} / ${r.sum.reads}`,
    `${r.sum.failedWrites} / ${r.sum.writes}`,
    String(r.sum.mayHaveRun),
    `**${r.writesCheck.lost}** of ${r.writesCheck.acked}`,
    `${s(r.sum.duringP99)} / ${s(r.sum.duringMax)}`,
    s(r.sum.baselineP99),
    `${r.leak.serverAfterEnd} (+${r.leak.checkedOut} checked out)`,
    r.sum.backMs === undefined ? (r.acceptMs === undefined ? 'never answered' : 'not within the wait') : s(r.sum.backMs),
  ])
  return { header, rows }
}

/** Per-scenario detail lines (Markdown list items). */
export function detailLines(r) {
  const e = Object.entries(r.sum.errors).map(([k, { n, sample }]) => `${k} ×${n} ("${sample.replaceAll('|', '/').slice(0, 140)}")`).join('; ') || 'none'
  const w = r.writesCheck
  return [
    `- **${r.label}, ${r.callers} callers** — fault held ${s(r.heldMs)} s (inject took ${s(r.injectMs)} s, lift ${s(r.liftMs)} s); ` +
      `ops overlapping the fault ${r.sum.duringOps}; max wait of a read ${s(r.sum.duringReadMax)} s, of a write ${s(r.sum.duringWriteMax)} s; ` +
      `longest wait for a pool client ${s(r.sum.duringAcquireMax)} s; slowest failed statement ${s(r.sum.maxFailedWait)} s; baseline max ${s(r.sum.baselineMax)} s; ` +
      `plain reads answered by a replica before the fault ${r.sum.baselineReplicaShare === undefined ? '–' : `${(100 * r.sum.baselineReplicaShare).toFixed(1)} %`}.`,
    `  Errors: ${e}.`,
    `  Writes: ${w.acked} acknowledged (${w.lost} missing afterwards); mayHaveRun ${w.mayHaveRun} (${w.mayHaveRunPresent} ran anyway); ` +
      `"not sent" ${w.notRun} (${w.notRunPresent} present — must be 0); other errors ${w.otherFailed} (${w.otherPresent} present). ` +
      `Read-backs that missed their own write: ${r.sum.staleReadBacks}.`,
    `  Connections (application_name of this scenario): server-side during load before the fault ${r.leak.serverBefore}, after recovery ${r.leak.serverAfter}, ` +
      `${r.leak.serverAfterEnd} left ${s(r.leak.settleMs)} s after \`pool.end()\`; routed pool before end: total ${r.leak.total}, idle ${r.leak.idle}, waiting ${r.leak.waiting}; ` +
      `pool 'error' events ${r.poolErrors}.` +
      (r.targetIsReplica ? ` Reads answered by the faulted replica while it was out: ${r.sum.readsOnTargetDuringFault}.` : ''),
  ]
}
