#!/usr/bin/env node
/**
 * `npm run demo`: pindb on a real PostgreSQL primary and two replicas, one of them 1 s behind,
 * under a small web app with simulated users — three phases (no pinning, time-window pinning,
 * causal pinning), a live view of where every read goes, a summary table and an HTML report
 * (demo-report/index.html, self-contained).
 *
 * Starts the PostgreSQL test bed (scripts/testbed.sh) when it is not running and stops it at the
 * end only then; restores replica 1's apply delay to what it was; builds dist/ when it is missing
 * or older than src/. Ctrl-C stops cleanly (and still writes the report of the finished phases).
 *
 * Environment (all optional): DEMO_SECONDS (12, per phase), DEMO_USERS (8), DEMO_LAG_MS (1000),
 * DEMO_WINDOW_SECONDS (15), NO_COLOR; PINDB_PG_PORT, PINDB_TESTBED_DIR … as in scripts/testbed.sh.
 */
import path from 'node:path'
import { ensureBuilt, ROOT } from '../bench/lib/build.mjs'
import { c, createLiveView, legend, wrap } from '../bench/lib/demo-live.mjs'
import { writeDemoReport } from '../bench/lib/demo-report.mjs'
import { MODES, runCell, smokeTest } from '../bench/lib/simulation.mjs'
import { fmtMs, fmtPct, summarize, textTable } from '../bench/lib/stats.mjs'
import { findPgBinaries, PG, pgStatus, prepareSchema, setReplicaDelay, testbed, versions } from '../bench/lib/testbed.mjs'

const SECONDS = Number(process.env.DEMO_SECONDS || 12)
const USERS = Number(process.env.DEMO_USERS || 8)
const LAG_MS = Number(process.env.DEMO_LAG_MS || 1000)
const WINDOW_S = Number(process.env.DEMO_WINDOW_SECONDS || 15)
const REPORT = path.join(ROOT, 'demo-report', 'index.html')
const lagText = `${LAG_MS / 1000} s`

const PHASES = [
  {
    title: 'pindb off — a plain read/write splitter',
    short: 'pindb off',
    mode: MODES.off,
    intro: `No pinning: writes go to the primary and every read goes to a replica — what Prisma's replica extension or Drizzle's withReplicas do. ` +
      `replica-1 is ${lagText} behind, so a user who reads right after writing often gets an answer without their new note: a stale read (${c.stale('!')}).`,
    explain: 'Every read goes to a replica; reads on replica-1 within a second of the user\'s write miss it.',
  },
  {
    title: `time-window pinning (${WINDOW_S} s)`,
    short: `time window (${WINDOW_S} s)`,
    mode: { ...MODES['window-15s'], name: `window-${WINDOW_S}s`, pinSeconds: WINDOW_S },
    intro: `After a write, pindb signs a cookie that pins the user to the primary for ${WINDOW_S} s (pindb's default pinSeconds; ` +
      `django-pindb and Rails do the same with 15 s and 2 s). No stale reads — but while the window is open, all of that user's ` +
      `reads go to the primary, even when the replicas already have the write.`,
    explain: `After each write the user's reads go to the primary for ${WINDOW_S} s; replicas serve only users who have not written recently.`,
  },
  {
    title: 'causal pinning (pindb causal: true)',
    short: 'causal pinning',
    mode: MODES.causal,
    intro: `The cookie now also carries the primary's WAL position right after the write. pindb's replica monitor checks every 100 ms how far ` +
      `each replica has replayed; a read goes to a replica that already has the user's write (replica-0, a few ms later; replica-1 after ${lagText}) ` +
      `and to the primary only while none has. No stale reads, and most reads stay on the replicas.`,
    explain: 'Reads go to a replica known to have replayed the user\'s write, else to the primary: no stale reads, replicas kept busy.',
  },
]

const say = (s = '') => console.log(s)
const controller = new AbortController()
let interrupted = 0
process.on('SIGINT', () => {
  // Under `npm run`, one Ctrl-C can arrive twice (from the terminal and forwarded by npm): a repeat
  // within 1.5 s is the same key press.
  if (interrupted && Date.now() - interrupted < 1500) return
  if (interrupted) {
    say(c.red('\n  second Ctrl-C: exiting now — the test bed may be left running (npm run testbed -- stop pg).'))
    process.exit(130)
  }
  interrupted = Date.now()
  say(c.bold('\n  Ctrl-C: stopping the simulation and cleaning up (press again to force) …'))
  controller.abort()
})

function checkBinaries() {
  const found = findPgBinaries()
  if (found.dir) return found.dir
  say(c.red('✗ The demo needs the PostgreSQL 15 server programs (postgres, initdb, pg_ctl) to run a primary and two replicas locally.'))
  say('  None were found (looked in $PINDB_PG_BIN, /usr/lib/postgresql/*/bin and $PATH). Install them:')
  say('    Debian / Ubuntu:  sudo apt-get install postgresql-15        (or: sudo apt-get install postgresql)')
  say('    Fedora / RHEL:    sudo dnf install postgresql-server')
  say('    macOS (Homebrew): brew install postgresql@15 && export PINDB_PG_BIN="$(brew --prefix postgresql@15)/bin"')
  say('  Then run `npm run demo` again. (No system PostgreSQL service is needed: the demo runs its own servers in /tmp.)')
  process.exit(1)
}

async function runPhase(phase, index) {
  say('')
  say(c.bold(`  Phase ${index + 1}/${PHASES.length} — ${phase.title}`))
  say(wrap(phase.intro))
  say('')
  const view = createLiveView({ seconds: SECONDS })
  let result
  try {
    result = await runCell({ onStart: view.start, mode: phase.mode, replicaPorts: [PG.replica0Port, PG.replica1Port], users: USERS, durationMs: SECONDS * 1000, browseMs: Math.max(3000, 1.3 * LAG_MS + 2500), onRead: view.onRead, signal: controller.signal, label: 'demo', seed: 42 })
  } finally {
    view.stop()
  }
  if (result.errors.length > 0 && result.reads.length === 0) throw new Error(`every request of this phase failed; first: ${result.errors[0]}`)
  const summary = summarize(result.reads)
  const staleText = summary.stale ? c.red(`${summary.stale} stale reads (${fmtPct(summary.stalePct)})`) : c.green('0 stale reads')
  say(`  → ${summary.reads} reads: ${staleText}, ${fmtPct(summary.replicaShare)} served by replicas.` +
    (result.errors.length ? c.red(`  ${result.errors.length} request error(s), first: ${result.errors[0]}`) : ''))
  return { ...phase, summary, reads: result.reads, durationMs: SECONDS * 1000, complete: !controller.signal.aborted }
}

async function main() {
  const t0 = Date.now()
  say(c.bold('pindb demo — reading your own writes when reads go to replicas'))
  say(wrap('This demo runs a PostgreSQL primary and two streaming replicas on this machine, makes replica-1 apply changes ' +
    `${lagText} late, and runs a small notes web app (Express + Kysely + pindb) with ${USERS} simulated users who add notes and ` +
    'read them back. It shows the same traffic three times: without pinning, with time-window pinning, and with causal pinning.'))
  say('')
  const bin = checkBinaries()
  say(c.dim(`  PostgreSQL binaries: ${bin}`))
  say(c.dim(`  ${ensureBuilt({ log: (s) => say(c.dim(s)) })}`))

  const before = await pgStatus()
  let started = false
  if (before.up) say(c.dim(`  test bed already running (primary :${PG.primaryPort}, replicas :${PG.replica0Port} :${PG.replica1Port}); the demo will leave it running`))
  else {
    say(c.dim(`  starting the test bed: primary :${PG.primaryPort}, replica-0 :${PG.replica0Port}, replica-1 :${PG.replica1Port} (scripts/testbed.sh start pg) …`))
    const { code, output } = await testbed(['start', 'pg'], { quiet: true })
    if (code !== 0) throw new Error(`the test bed did not start:\n${output}`)
    started = true
  }
  const originalDelay = before.delayMs ?? (await pgStatus()).delayMs ?? 0
  const phases = []
  let meta
  try {
    await prepareSchema()
    await smokeTest({ replicaPorts: [PG.replica0Port, PG.replica1Port] })
    meta = { date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC', ...(await versions()), users: USERS, lagMs: LAG_MS }
    await setReplicaDelay(LAG_MS)
    say(c.dim(`  replica-1 now applies every change ${lagText} late; replica-0 has no delay`))
    say('')
    say(legend())
    for (const [i, phase] of PHASES.entries()) {
      if (controller.signal.aborted) break
      const done = await runPhase(phase, i)
      if (done.complete || done.reads.length) phases.push(done)
    }
  } finally {
    await setReplicaDelay(originalDelay).catch((err) => say(c.red(`  could not restore replica-1's delay: ${err.message}`)))
    say('')
    say(c.dim(`  replica-1 delay restored to ${originalDelay} ms`))
    if (started) {
      await testbed(['stop', 'pg'], { quiet: true })
      say(c.dim('  test bed stopped (the demo started it)'))
    }
  }

  if (phases.length) {
    say('')
    say(c.bold('  Summary'))
    const rows = phases.map((p) => [p.title + (p.complete ? '' : ' (interrupted)'), p.summary.reads, `${p.summary.stale} (${fmtPct(p.summary.stalePct)})`, fmtPct(p.summary.replicaShare),
      p.summary.byServer.primary ?? 0, p.summary.byServer['replica-0'] ?? 0, p.summary.byServer['replica-1'] ?? 0, fmtMs(p.summary.p50), fmtMs(p.summary.p99)])
    say(textTable(['mode', 'reads', 'stale', 'on replicas', '→ primary', '→ replica-0', '→ replica-1', 'p50', 'p99'], rows).replace(/^/gm, '  '))
    say('')
    say(wrap('Stale reads happen only when a read goes to a replica that has not replayed the user\'s write yet. Time windows avoid them by ' +
      'sending the user\'s reads to the primary for a fixed time; causal pinning sends each read to a replica that is known to have the write.'))
    writeDemoReport(REPORT, phases, meta)
    say('')
    say(`  HTML report: ${c.bold(REPORT)}  (open it in a browser; it is self-contained)`)
  }
  say(c.dim(`  demo finished in ${Math.round((Date.now() - t0) / 1000)} s`))
}

main().then(() => process.exit(0), (err) => {
  console.error(c.red(`✗ ${err?.stack ?? err}`))
  process.exit(1)
})
