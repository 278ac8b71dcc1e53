#!/usr/bin/env node
/**
 * The fault matrix: what callers of a routed `pindb/pg` pool see when a server of the PostgreSQL
 * test bed is stopped, killed or hung, and when it comes back.
 *
 *   node bench/faults.bench.mjs
 *
 * For each fault — replica stop (`pg_ctl stop -m fast`), replica SIGKILL, replica SIGSTOP (then
 * SIGCONT), primary stop, primary SIGSTOP (then SIGCONT) — and each number of concurrent callers
 * (16 and 200), a fresh `createPinDb` + `createPgPool` (default liveness and back-off options,
 * default pool size) takes load: every caller runs units of work in a loop (`pindb.run`: two point
 * reads, or — with probability BENCH_WRITE_P — an INSERT with a unique tag and its read-back).
 * After a warm-up and a baseline, the fault is injected on replica 0 or the primary, held, then
 * lifted (`start-node` / `resume-node`) while the load goes on, until the replica serves reads
 * again (or a write succeeds again) or a bounded wait ends. Measured per scenario:
 *   - failed reads and failed writes, and the errors callers got (name, code, `mayHaveRun`);
 *   - lost writes: acknowledged INSERTs missing on the primary afterwards (must be 0), and whether
 *     writes reported "not sent" (`mayHaveRun: false`) are indeed absent;
 *   - caller wait (queueing included) of statements overlapping the fault: p99 and max;
 *   - connections: server-side `pg_stat_activity` rows of the scenario's `application_name`
 *     before the fault, after recovery, and left after `pool.end()` (leaked); the routed pool's
 *     `totalCount` / `idleCount` / `waitingCount` once every caller has returned;
 *   - seconds from the server answering a fresh connection again until the replica took a read
 *     (replica faults) or a write succeeded (primary faults).
 * Results go to bench/results/faults-<date>.md. Benchmarks are not tests: nothing here asserts.
 *
 * Needs the PostgreSQL test bed; starts it (scripts/testbed.sh start pg) when it is not up and
 * stops it at the end if this run started it. Every node is brought back after each scenario.
 *
 * Environment (all optional):
 *   BENCH_CALLERS        16,200  concurrent callers, comma-separated
 *   BENCH_FAULTS         all     subset of replica-stop,replica-kill,replica-pause,primary-stop,primary-pause
 *   BENCH_WRITE_P        0.2     probability that a unit of work writes (≈ 10 % of statements)
 *   BENCH_API            connect  how callers run a statement: `connect` = `await pool.connect()`, `client.query`,
 *                                `client.release()` (Kysely's PostgresDialect); `query` = `pool.query`
 *   BENCH_POOL_MAX       (pg's default, 10)  `max` of the routed pool
 *   BENCH_WARMUP_SECONDS 1, BENCH_BASELINE_SECONDS 2, BENCH_FAULT_SECONDS 4 (how long the fault is held),
 *   BENCH_RETURN_SECONDS 6  (longest wait for the server to take work again after it answers)
 *   PINDB_BENCH_DIST     (dist/)  a directory holding a build of pindb to measure instead of dist/ (not rebuilt)
 *   PINDB_BENCH_QUICK=1  every fault once, 8 callers, short phases, nothing saved
 *   PINDB_PG_PORT, PINDB_PG_REPLICA0_PORT, PINDB_PG_REPLICA1_PORT, PINDB_TESTBED_DIR   as in scripts/testbed.sh
 * Flags: --no-save
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'
import pg from 'pg'
import { ensureBuilt, importDist, ROOT } from './lib/build.mjs'
import { checkWrites, prepareFaultTables, startLoad } from './lib/faults-load.mjs'
import { detailLines, matrixRows, summarizeScenario } from './lib/faults-report.mjs'
import { markdownTable, textTable } from './lib/stats.mjs'
import { connect, PG, pgStatus, testbed, versions, waitCaughtUp } from './lib/testbed.mjs'

const QUICK = process.env.PINDB_BENCH_QUICK === '1'
const SAVE = !process.argv.includes('--no-save') && !QUICK
const log = (...a) => console.error(...a)

function num(name, fallback, min = 0) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isFinite(v) || v <= min) throw new Error(`${name} must be a number > ${min}; got "${raw}".`)
  return v
}
const CALLERS = (process.env.BENCH_CALLERS ?? (QUICK ? '8' : '16,200')).split(',').map(Number)
if (CALLERS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_CALLERS must be positive integers, comma-separated.')
const WRITE_P = num('BENCH_WRITE_P', 0.2)
const POOL_MAX = process.env.BENCH_POOL_MAX ? num('BENCH_POOL_MAX', 10) : undefined
const WARMUP_MS = num('BENCH_WARMUP_SECONDS', QUICK ? 0.3 : 1) * 1000
const BASELINE_MS = num('BENCH_BASELINE_SECONDS', QUICK ? 0.5 : 2) * 1000
// Held longer than the liveness bound (probeAfterMs + probeTimeoutMs + a tick ≈ 2.25 s), so that
// even in quick mode a hung server is detected and its statements aborted.
const FAULT_MS = num('BENCH_FAULT_SECONDS', QUICK ? 2.6 : 4) * 1000
const RETURN_MS = num('BENCH_RETURN_SECONDS', QUICK ? 3 : 6) * 1000
const TAIL_MS = QUICK ? 200 : 500
const DIST = process.env.PINDB_BENCH_DIST || undefined
const API = process.env.BENCH_API ?? 'connect'
if (API !== 'connect' && API !== 'query') throw new Error(`BENCH_API must be "connect" or "query"; got "${API}".`)

const FAULTS = [
  { key: 'replica-stop', label: 'replica stop', node: 'pg-replica-0', port: PG.replica0Port, inject: 'stop-node', lift: 'start-node' },
  { key: 'replica-kill', label: 'replica SIGKILL', node: 'pg-replica-0', port: PG.replica0Port, inject: 'kill-node', lift: 'start-node' },
  { key: 'replica-pause', label: 'replica SIGSTOP → SIGCONT', node: 'pg-replica-0', port: PG.replica0Port, inject: 'pause-node', lift: 'resume-node' },
  { key: 'primary-stop', label: 'primary stop', node: 'pg-primary', port: PG.primaryPort, inject: 'stop-node', lift: 'start-node' },
  { key: 'primary-pause', label: 'primary SIGSTOP → SIGCONT', node: 'pg-primary', port: PG.primaryPort, inject: 'pause-node', lift: 'resume-node' },
]
const wanted = process.env.BENCH_FAULTS?.split(',').map((s) => s.trim()).filter(Boolean)
if (wanted !== undefined && wanted.some((k) => !FAULTS.some((f) => f.key === k))) throw new Error(`BENCH_FAULTS: unknown fault in "${wanted.join(',')}"; known: ${FAULTS.map((f) => f.key).join(',')}`)
const SELECTED = wanted === undefined ? FAULTS : FAULTS.filter((f) => wanted.includes(f.key))

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A node this run has faulted and not yet brought back: cleanup (also on Ctrl-C) lifts it.
let pending
let startedTestbed = false
async function liftPending() {
  if (pending === undefined) return
  const { fault } = pending
  pending = undefined
  const r = await testbed([fault.lift, fault.node], { quiet: true })
  if (r.code !== 0) log(`faults bench: could not bring ${fault.node} back (${fault.lift}):\n${r.output}`)
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`faults bench: ${signal}, bringing the test bed back …`)
    void liftPending().finally(() => process.exit(130))
  })
}

/** Server-side connections with this application_name, per server (ports → count); undefined when a server does not answer. */
async function serverConnections(appName) {
  const out = {}
  await Promise.all([PG.primaryPort, PG.replica0Port, PG.replica1Port].map(async (port) => {
    const client = new pg.Client({ host: PG.host, port, user: PG.user, database: PG.database, connectionTimeoutMillis: 2000 })
    client.on('error', () => {})
    try {
      await client.connect()
      const { rows: [{ n }] } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName])
      out[port] = n
    } catch {
      out[port] = undefined
    } finally {
      await client.end().catch(() => {})
    }
  }))
  return out
}
const total = (counts) => Object.values(counts).reduce((a, n) => a + (n ?? 0), 0)

/** Resolves the time at which `port` first answers a fresh connection (polled every 50 ms), or undefined after `ms`. */
async function firstAnswer(port, ms) {
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    const client = new pg.Client({ host: PG.host, port, user: PG.user, database: PG.database, connectionTimeoutMillis: 300 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return performance.now()
    } catch {
      await sleep(50)
    } finally {
      client.end().catch(() => {})
    }
  }
  return undefined
}

async function waitTestbedUp(ms = 30_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const st = await pgStatus()
    if (st.up) return
    if (Date.now() > deadline) throw new Error(`the PostgreSQL test bed is not up and replicating:\n${st.output}`)
    await sleep(250)
  }
}

async function runScenario({ createPinDb, createPgPool }, fault, callers, index) {
  await waitTestbedUp()
  const appName = `pindb-faults-${process.pid}-${index}`
  const pindb = createPinDb({
    primaries: { default: { host: PG.host, port: PG.primaryPort, user: PG.user, database: PG.database } },
    replicas: { default: [{ port: PG.replica0Port }, { port: PG.replica1Port }] },
  })
  const pool = createPgPool(pindb, { pg, application_name: appName, ...(POOL_MAX === undefined ? {} : { max: POOL_MAX }) })
  let poolErrors = 0
  pool.on('error', () => { poolErrors++ })
  const load = startLoad({ pindb, pool, callers, writeP: WRITE_P, seed: index + 1, tagPrefix: appName, api: API })
  let acceptAt
  let acceptMs
  try {
    await sleep(WARMUP_MS + BASELINE_MS)
    const serverBefore = total(await serverConnections(appName))
    const injectAt = performance.now()
    pending = { fault }
    const inj = await testbed([fault.inject, fault.node], { quiet: true })
    if (inj.code !== 0) throw new Error(`${fault.inject} ${fault.node} failed:\n${inj.output}`)
    const injectedAt = performance.now()
    await sleep(Math.max(0, FAULT_MS - (injectedAt - injectAt)))
    const liftAt = performance.now()
    const answered = firstAnswer(fault.port, RETURN_MS + 60_000)
    const lifted = await testbed([fault.lift, fault.node], { quiet: true })
    if (lifted.code !== 0) throw new Error(`${fault.lift} ${fault.node} failed:\n${lifted.output}`)
    pending = undefined
    const liftedAt = performance.now()
    acceptAt = await answered
    if (acceptAt !== undefined) acceptMs = acceptAt - liftAt
    // Go on until the server takes work again (or the bounded wait ends).
    const replicaFault = fault.node !== 'pg-primary'
    const back = (r) => r.error === undefined && acceptAt !== undefined && r.t1 >= acceptAt &&
      (replicaFault ? r.kind === 'read' && r.port === fault.port : r.kind === 'write')
    const until = Math.max(acceptAt ?? liftedAt, liftedAt) + RETURN_MS
    let seen = 0
    while (performance.now() < until) {
      if (load.records.slice(seen).some(back)) break
      seen = load.records.length
      await sleep(50)
    }
    await sleep(TAIL_MS)
    const serverAfter = total(await serverConnections(appName))
    await load.stop()
    const leak = { serverBefore, serverAfter, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, checkedOut: pool.totalCount - pool.idleCount }
    await pool.end()
    await pindb.close()
    const endAt = performance.now()
    let left = total(await serverConnections(appName))
    while (left > 0 && performance.now() - endAt < 5000) {
      await sleep(100)
      left = total(await serverConnections(appName))
    }
    leak.serverAfterEnd = left
    leak.settleMs = performance.now() - endAt
    const admin = await connect(PG.primaryPort)
    let writesCheck
    try {
      writesCheck = await checkWrites(admin, load.records)
    } finally {
      await admin.end()
    }
    const timeline = { injectAt, injectedAt, liftAt, acceptAt }
    const sum = summarizeScenario({ records: load.records, timeline, targetPort: fault.port, replicaFault, primaryPort: PG.primaryPort })
    return {
      key: fault.key, label: fault.label, callers, sum, writesCheck, leak, poolErrors, acceptMs,
      targetIsReplica: replicaFault,
      heldMs: liftAt - injectAt, injectMs: injectedAt - injectAt, liftMs: liftedAt - liftAt,
    }
  } finally {
    await load.stop().catch(() => {})
    await pool.end().catch(() => {})
    await liftPending()
  }
}

function revision() {
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' })
  const head = git('rev-parse', '--short', 'HEAD').stdout?.trim() || 'unknown'
  const dirty = (git('status', '--porcelain', '--', 'src').stdout ?? '').trim() !== ''
  return `git ${head}${dirty ? ' + uncommitted changes in src/' : ''}`
}

async function main() {
  let createPinDb, createPgPool
  if (DIST !== undefined) {
    // A private build (the working tree's dist/ may be rebuilt by others while this runs).
    ({ createPinDb } = await import(pathToFileURL(path.join(DIST, 'index.js')).href))
    ;({ createPgPool } = await import(pathToFileURL(path.join(DIST, 'pg', 'index.js')).href))
    log(`faults bench: pindb from ${DIST}`)
  } else {
    log(`faults bench: ${ensureBuilt({ log })}`)
    ;({ createPinDb } = await importDist('index.js'))
    ;({ createPgPool } = await importDist('pg/index.js'))
  }
  const st = await pgStatus()
  if (!st.up) {
    log('faults bench: starting the PostgreSQL test bed (scripts/testbed.sh start pg) …')
    const r = await testbed(['start', 'pg'], { quiet: true })
    if (r.code !== 0) throw new Error(`the test bed did not start:\n${r.output}`)
    startedTestbed = true
  }
  const admin = await connect(PG.primaryPort)
  try {
    await prepareFaultTables(admin)
  } finally {
    await admin.end()
  }
  await waitCaughtUp()
  const ver = await versions()
  const started = new Date()
  const results = []
  let index = 0
  for (const fault of SELECTED) {
    for (const callers of CALLERS) {
      log(`faults bench: ${fault.label}, ${callers} callers …`)
      const r = await runScenario({ createPinDb, createPgPool }, fault, callers, index++)
      results.push(r)
      const { header, rows } = matrixRows([r])
      log(textTable(header, rows))
    }
  }
  const { header, rows } = matrixRows(results)
  const settings = `callers ${CALLERS.join(', ')}; statements via ${API === 'connect' ? '`pool.connect()` + `client.query`' : '`pool.query`'}; write units ${WRITE_P}; pool max ${POOL_MAX ?? 'default (10)'}; warm-up ${WARMUP_MS / 1000} s, baseline ${BASELINE_MS / 1000} s, ` +
    `fault held ${FAULT_MS / 1000} s, return wait ≤ ${RETURN_MS / 1000} s; liveness and back-off: defaults`
  console.log(`\nFault matrix (${settings})\n`)
  console.log(textTable(header, rows.map((row) => row.map((c) => c.replaceAll('**', '')))))
  console.log('')
  for (const r of results) console.log(detailLines(r).join('\n'))
  if (QUICK) log('\nfaults bench: quick mode (PINDB_BENCH_QUICK=1): nothing saved')
  if (SAVE) {
    const date = started.toISOString().slice(0, 10)
    const file = path.join(ROOT, 'bench', 'results', `faults-${date}.md`)
    mkdirSync(path.dirname(file), { recursive: true })
    const md = [
      `# Fault matrix — ${started.toISOString()}`,
      '',
      `Command: \`${DIST === undefined ? '' : `PINDB_BENCH_DIST=${DIST} `}node bench/faults.bench.mjs\`. Node ${ver.node}, PostgreSQL ${ver.postgres}, pindb ${revision()}${DIST === undefined ? '' : ` (built from the working tree into ${DIST})`}; ` +
        `test bed on 127.0.0.1 (primary ${PG.primaryPort}, replicas ${PG.replica0Port}, ${PG.replica1Port}).`,
      '',
      `Settings: ${settings}.`,
      '',
      markdownTable(header, rows),
      '',
      'Columns: reads/writes = statements (read-backs count as reads); mayHaveRun = failed writes whose `ServerUnavailableError` said the statement may have run; ' +
        'lost writes = acknowledged INSERTs missing on the primary afterwards; wait = the caller\'s wait for one statement (queueing included) for statements overlapping ' +
        'the fault (from injection to lift); baseline = before the fault; leaked conns = server-side connections of the scenario\'s `application_name` still open after ' +
        '`pool.end()` (+ routed-pool clients still checked out once every caller returned); back after = from the server answering a fresh connection again to the ' +
        'faulted replica answering a read (replica faults) or a write succeeding (primary faults).',
      '',
      '## Per scenario',
      '',
      ...results.flatMap(detailLines),
      '',
    ].join('\n')
    writeFileSync(file, md)
    log(`faults bench: wrote ${path.relative(ROOT, file)}`)
  }
}

try {
  await main()
} catch (err) {
  log(`faults bench: failed: ${err?.stack ?? err}`)
  process.exitCode = 1
} finally {
  await liftPending()
  if (startedTestbed) {
    await testbed(['stop', 'pg'], { quiet: true })
    log('faults bench: stopped the test bed (this run started it)')
  }
}
