#!/usr/bin/env node
/**
 * Staleness benchmark: stale reads, replica share and read latency of five pinning modes
 * (off, request, window-2s, window-15s, causal — see bench/lib/simulation.mjs) at injected
 * replica lags of 0, 200 ms, 2 s and 20 s, with simulated users of a real web app.
 *
 *   npm run build && node bench/staleness.bench.mjs
 *
 * Uses the PostgreSQL test bed (scripts/testbed.sh): starts it when it is not up (and stops it at
 * the end only then). The DB set is the primary and replica 1 ONLY — the replica whose apply
 * delay `scripts/testbed.sh pg-delay` sets — so the injected lag applies to every replica of the
 * set. Replica 1's delay is restored to its previous value at the end (also on Ctrl-C).
 * `dist/` is rebuilt first when it is missing or older than `src/`.
 *
 * Writes bench/results/staleness.md and the `## Staleness: …` section of docs/benchmarks.md
 * (only that section; created with a `# Benchmarks` title when the file is missing).
 *
 * Environment (all optional):
 *   BENCH_USERS          10                 simulated users per cell
 *   BENCH_LONG_USERS     20                 simulated users per cell at lags of 10 s and more
 *   BENCH_SECONDS        10                 duration of a cell at lags below 20 s
 *   BENCH_LONG_SECONDS   30                 duration of a cell at lags of 10 s and more (reads must
 *                                           land after the 15 s window closes, before the lag ends)
 *   BENCH_LAGS           0,200,2000,20000   injected lags, ms
 *   BENCH_MODES          off,request,window-2s,window-15s,causal
 *   PINDB_PG_PORT, PINDB_PG_REPLICA0_PORT, PINDB_PG_REPLICA1_PORT, PINDB_TESTBED_DIR   as in scripts/testbed.sh
 * Flags: --no-save (print only)   --no-extra (skip the causal-60s row at lags ≥ 10 s)
 */
import os from 'node:os'
import path from 'node:path'
import { ensureBuilt, ROOT } from './lib/build.mjs'
import { MODES, runCell, smokeTest } from './lib/simulation.mjs'
import { COMMAND, resultsTable, staleCausalSummary, writeDocsSection, writeResults } from './lib/staleness-report.mjs'
import { fmtLag, fmtMs, fmtPct, summarize } from './lib/stats.mjs'
import { PG, pgStatus, prepareSchema, setReplicaDelay, testbed, versions } from './lib/testbed.mjs'

const args = new Set(process.argv.slice(2))
if (args.has('--help') || args.has('-h')) {
  console.log(`usage: ${COMMAND} [--no-save] [--no-extra]\n(see the comment at the top of the file for the BENCH_* knobs)`)
  process.exit(0)
}
const num = (name, fallback) => {
  const v = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number ≥ 0`)
  return v
}
// Quick mode (PINDB_BENCH_QUICK=1; test/integration/bench-commands.test.ts): the same code path with
// 2 users, 1 s cells and lags 0 and 200 ms — seconds, not minutes — and nothing saved.
const QUICK = process.env.PINDB_BENCH_QUICK === '1'
const USERS = num('BENCH_USERS', QUICK ? 2 : 10)
const LONG_USERS = num('BENCH_LONG_USERS', QUICK ? 2 : 20)
const SECONDS = num('BENCH_SECONDS', QUICK ? 1 : 10)
const LONG_SECONDS = num('BENCH_LONG_SECONDS', QUICK ? 1 : 30)
const LAGS = (process.env.BENCH_LAGS ?? (QUICK ? '0,200' : '0,200,2000,20000')).split(',').map(Number)
const MODE_NAMES = (process.env.BENCH_MODES ?? 'off,request,window-2s,window-15s,causal').split(',')
for (const m of MODE_NAMES) if (!MODES[m]) throw new Error(`unknown mode "${m}" in BENCH_MODES; known: ${Object.keys(MODES).join(', ')}`)
const LONG_LAG_MS = 10_000
const browseMsFor = (lag) => Math.max(3000, 1.3 * lag + 2500)

/**
 * Hand-written interpretation appended to the docs section (the numbers are in the bullets above it;
 * this explains the mechanisms, which do not depend on one run's exact counts).
 */
const NOTES = `How to read it:

- **A stale read is a read routed to a replica before the replica has the user's write.** Without
  pinning (\`off\`) that is every read inside the lag after a write — including the read in the
  same request as the write, which is all that \`request\` (Laravel's \`sticky\`) fixes: see the
  in-request column of the detailed table in \`bench/results/staleness.md\`; the next page load is
  not pinned any more.
- **A time window is safe only while it outlasts the lag, and costs replica reads while it is
  open.** \`window-2s\` is still clean at a 2 s lag (its pin expires 2 s after the response, the
  replica applies the write 2 s after the commit, a margin of one request), and stale at 20 s;
  \`window-15s\` is stale at 20 s. While a window is open every read of that user goes to the
  primary, whether or not the replica already has the write.
- **Causal reads go to the replica as soon as the monitor (every 100 ms here) has seen it replay the
  pin's position**, and to the primary only while it really is behind (route reason \`behind\`):
  at small lags most read-backs stay on the replica, at larger lags causal degrades towards a window
  as long as the lag itself (plus up to one monitor interval) — never longer.
- **No stale window when a causal pin expires.** A read more than \`pinSeconds\` (15 s) after the
  user's last write carries no pin. In causal mode (without \`maxLag\`) pindb keeps every read off a
  monitored replica that lags more than \`pinSeconds\`, so at a 20 s lag those reads go to the primary
  (route reason \`lagging\`) where \`window-15s\` serves them stale: users replay the same schedules in
  every mode, so the difference is that rule alone. \`causal-60s\` (a pin longer than the lag) is the
  other way to the same result: pinned reads wait on the primary until the replica has the write,
  then use it (\`causal\`). Caveat: the rule uses the lag the monitor last measured, which can be up
  to two monitor intervals short (the figure ages between checks, and the time the primary passed
  the replica is only known to the nearest check), so right after a pin expires — typically after
  a write on a system that was idle before — a read can still reach a replica that lacks the write
  for up to about two intervals. At the steady 20 s lag measured here the replica's lag stays far
  above 15 s and it did not happen.
- On localhost the "0" lag is streaming replication's own sub-millisecond delay: \`off\` still sees
  a stray stale read when the read inside the POST races it; over a network or under write load it
  would see more.`

const log = (...a) => console.log(...a)
const controller = new AbortController()
let interrupted = 0
process.on('SIGINT', () => {
  if (interrupted && Date.now() - interrupted < 1500) return // the same Ctrl-C, also forwarded by npm
  if (interrupted) process.exit(130)
  interrupted = Date.now()
  log('\n  interrupted: stopping the simulation and restoring the test bed …')
  controller.abort()
})

async function main() {
  log('» staleness benchmark')
  log(`  ${ensureBuilt({ log })}`)
  const before = await pgStatus()
  let started = false
  if (!before.up) {
    log('  starting the PostgreSQL test bed (scripts/testbed.sh start pg) …')
    const { code, output } = await testbed(['start', 'pg'], { quiet: true })
    if (code !== 0) throw new Error(`the test bed did not start:\n${output}`)
    started = true
  }
  const originalDelay = before.delayMs ?? (await pgStatus()).delayMs ?? 0
  const cells = []
  const staleCausal = []
  try {
    await prepareSchema()
    await smokeTest({ replicaPorts: [PG.replica1Port] })
    const meta = {
      date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      ...(await versions()),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
      cellsText: LAGS.some((l) => l >= LONG_LAG_MS)
        ? `${USERS} simulated users for ${SECONDS} s per cell at lags below ${LONG_LAG_MS / 1000} s, ${LONG_USERS} users for ${LONG_SECONDS} s at ${LONG_LAG_MS / 1000} s and more`
        : `${USERS} simulated users for ${SECONDS} s per cell`,
    }
    log(`  Node ${meta.node}, PostgreSQL ${meta.postgres}; ${meta.cellsText}; DB set = primary :${PG.primaryPort} + replica 1 :${PG.replica1Port}`)
    log('')
    log(`  ${'lag'.padEnd(7)}${'mode'.padEnd(12)}${'reads'.padStart(6)}${'stale'.padStart(14)}${'replica'.padStart(9)}${'p50'.padStart(9)}${'p99'.padStart(9)}`)
    for (const lag of LAGS) {
      if (controller.signal.aborted) break
      await setReplicaDelay(lag)
      const names = [...MODE_NAMES]
      if (lag >= LONG_LAG_MS && !args.has('--no-extra') && !names.includes('causal-60s')) names.push('causal-60s')
      for (const name of names) {
        if (controller.signal.aborted) break
        const mode = MODES[name]
        const long = lag >= LONG_LAG_MS
        const result = await runCell({
          mode, replicaPorts: [PG.replica1Port], users: long ? LONG_USERS : USERS, durationMs: (long ? LONG_SECONDS : SECONDS) * 1000,
          browseMs: browseMsFor(lag), signal: controller.signal, label: `lag${lag}`, seed: 1000 + lag,
        })
        if (controller.signal.aborted) break
        // Results with failed requests are not comparable: stop, and save nothing.
        if (result.errors.length > 0) throw new Error(`${result.errors.length} request(s) failed in cell lag ${fmtLag(lag)} / ${name} (nothing saved); first: ${result.errors[0]}`)
        const summary = summarize(result.reads)
        cells.push({ lag, mode, summary, writes: result.writes })
        for (const r of result.reads) if (mode.causal && r.stale) staleCausal.push({ lag, mode: name, ...r })
        log(`  ${fmtLag(lag).padEnd(7)}${name.padEnd(12)}${String(summary.reads).padStart(6)}${`${summary.stale} (${fmtPct(summary.stalePct)})`.padStart(14)}` +
          `${fmtPct(summary.replicaShare).padStart(9)}${fmtMs(summary.p50).padStart(9)}${fmtMs(summary.p99).padStart(9)}` +
          (result.errors.length ? `   ${result.errors.length} error(s): ${result.errors[0]}` : ''))
      }
    }
    if (controller.signal.aborted) {
      log('  (interrupted: nothing saved)')
      return
    }
    log('')
    log(resultsTable(cells))
    log(`\n  ${staleCausalSummary(staleCausal)}`)
    if (staleCausal.length) {
      for (const r of staleCausal.slice(0, 20)) {
        log(`   lag ${fmtLag(r.lag)} ${r.mode} ${r.kind} user ${r.user} expected ${r.expected} age ${Math.round(r.ageMs)} ms → ${r.server} ` +
          `reason ${r.reason} pin ${r.pinned ? r.pinPosition ?? '(no position)' : '(none)'} monitor knew ${r.knownPosition ?? '–'} server replayed ${r.serverPosition}`)
      }
    }
    if (QUICK) log('\n  quick mode (PINDB_BENCH_QUICK=1): nothing saved')
    else if (!args.has('--no-save')) {
      const results = path.join(ROOT, 'bench', 'results', 'staleness.md')
      writeResults(results, meta, cells, staleCausal)
      writeDocsSection(path.join(ROOT, 'docs', 'benchmarks.md'), meta, cells, NOTES)
      log(`\n  wrote ${path.relative(ROOT, results)} and the staleness section of docs/benchmarks.md`)
    }
  } finally {
    await setReplicaDelay(originalDelay).catch((err) => log(`  could not restore replica 1's delay: ${err.message}`))
    log(`  replica 1 delay restored to ${originalDelay} ms`)
    if (started) {
      await testbed(['stop', 'pg'], { quiet: true })
      log('  stopped the test bed (this run started it)')
    }
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`✗ ${err?.stack ?? err}`)
  process.exit(1)
})
