#!/usr/bin/env node
/**
 * Routed pool vs raw pg.Pool vs pgpool-II — one process, the same servers (the project's test bed).
 *
 *   npm run build && node bench/pg-routing.bench.mjs
 *
 * Needs the PostgreSQL test bed (`bash scripts/testbed.sh start pg`). pgpool-II is started with
 * `bash scripts/testbed.sh start pgpool` when it is not up, and stopped at the end only if this
 * script started it. `dist/` is rebuilt first when it is missing or older than `src/` (pass
 * `--no-build` to skip that check).
 *
 * Part 1, overhead (small reads, same concurrency, same server):
 *   A0  raw pg.Pool → primary, in a child process that never loads pindb (no AsyncLocalStorage
 *       hooks: on Node 20 the first pindb.run() switches them on for every later promise of the process)
 *   A   raw pg.Pool → primary, in the bench process
 *   B   pindb routed pool, primary and NO replicas (so it also hits the primary), each query in pindb.run()
 *   B0  the same routed pool, query outside any pindb.run() (information)
 *   C   pindb routed pool with 2 replicas, each query in pindb.run() (information: reads go to replicas)
 * Part 2, mixed workload (units of work: a write with probability p — INSERT then read it back —
 * plus 2–3 point reads):
 *   D   pindb routed pool with 2 replicas, each unit in pindb.run()
 *   E   raw pg.Pool → pgpool-II (load balancing over primary + 2 replicas, default settings)
 *   F   raw pg.Pool → primary (information: no replicas at all)
 *
 * Phases are interleaved (A0 A B B0 C, then C B0 B A A0, …) to cancel drift; medians over
 * repetitions are reported. Each phase also records how many cores this process, the database
 * servers and everything else used (Linux /proc), so that phases disturbed by other work on the
 * machine are flagged and, up to BENCH_RETRIES times, measured again.
 * Benchmarks are not tests: nothing here asserts on timings.
 *
 * Environment (all optional):
 *   BENCH_CONCURRENCY    12    concurrent workers (and pg.Pool max per server)
 *   BENCH_SECONDS        5     duration of each overhead phase
 *   BENCH_MIXED_SECONDS  8     duration of each mixed-workload phase
 *   BENCH_REPS           3     repetitions of every phase
 *   BENCH_WARMUP_SECONDS 1.5   warm-up per variant before measuring
 *   BENCH_WRITE_P        0.28  probability that a unit of work writes (0.28 ≈ 10 % of statements)
 *   BENCH_RETRIES        5     per section, how many times a repetition disturbed by other processes
 *                              (> 0.1 core of foreign CPU or steal, or injected replica delay) is
 *                              thrown away and measured again; disturbed phases kept are flagged ⚠
 *   PINDB_PG_PORT, PINDB_PG_REPLICA0_PORT, PINDB_PG_REPLICA1_PORT, PINDB_PGPOOL_PORT  as in scripts/testbed.sh
 * Flags: --only=overhead|mixed   --no-save (do not write bench/results/pg-routing.md)   --no-build
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import { median, orderFor, phase as measure } from './lib/phase.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TESTBED = path.join(ROOT, 'scripts', 'testbed.sh')
const RESULTS = path.join(ROOT, 'bench', 'results', 'pg-routing.md')

const args = new Set(process.argv.slice(2))
if (args.has('--help') || args.has('-h')) {
  console.log('usage: npm run build && node bench/pg-routing.bench.mjs [--only=overhead|mixed] [--no-save] [--no-build]\n(see the comment at the top of the file for the BENCH_* knobs)')
  process.exit(0)
}
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length)
if (only !== undefined && only !== 'overhead' && only !== 'mixed') fail(`--only must be "overhead" or "mixed"; got "${only}".`)
const RUN_OVERHEAD = only !== 'mixed'
const RUN_MIXED = only !== 'overhead'
// Quick mode (PINDB_BENCH_QUICK=1; test/integration/bench-commands.test.ts): every phase and variant
// once, for a fraction of a second, no retries — seconds, not minutes — and nothing saved.
const QUICK = process.env.PINDB_BENCH_QUICK === '1'
const SAVE = !args.has('--no-save') && !QUICK

function num(name, fallback, min = 0) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isFinite(v) || v <= min) fail(`${name} must be a number > ${min}; got "${raw}".`)
  return v
}
const CONCURRENCY = Math.round(num('BENCH_CONCURRENCY', QUICK ? 4 : 12))
const OVERHEAD_MS = num('BENCH_SECONDS', QUICK ? 0.3 : 5) * 1000
const MIXED_MS = num('BENCH_MIXED_SECONDS', QUICK ? 0.3 : 8) * 1000
const REPS = Math.round(num('BENCH_REPS', QUICK ? 1 : 3))
const WARMUP_MS = num('BENCH_WARMUP_SECONDS', QUICK ? 0.1 : 1.5) * 1000
const WRITE_P = num('BENCH_WRITE_P', 0.28)
const RETRIES = Math.round(num('BENCH_RETRIES', QUICK ? 0 : 5, -1))
const NOTES = 10_000
/** A phase during which other processes (or steal) took more than this many cores is flagged. */
const OTHER_CPU_FLAG = 0.1
const disturbed = (res) => res.machine !== undefined && (res.machine.other > OTHER_CPU_FLAG || res.machine.steal > OTHER_CPU_FLAG)
/** Repetitions thrown away and measured again because another process disturbed them. */
const repeated = { overhead: 0, mixed: 0 }

const PG_PORT = Number(process.env.PINDB_PG_PORT || 25432)
const R0_PORT = Number(process.env.PINDB_PG_REPLICA0_PORT || PG_PORT + 1)
const R1_PORT = Number(process.env.PINDB_PG_REPLICA1_PORT || PG_PORT + 2)
const PGPOOL_PORT = Number(process.env.PINDB_PGPOOL_PORT || 29999)
const BASE = { host: '127.0.0.1', user: 'postgres', database: 'pindb', max: CONCURRENCY, idleTimeoutMillis: 0, connectionTimeoutMillis: 5000 }
const PRIMARY = { ...BASE, port: PG_PORT }

const NOTE_SQL = 'SELECT id, body FROM bench_notes WHERE id = $1'
const INSERT_SQL = 'INSERT INTO bench_events (body) VALUES ($1) RETURNING id'
// One row whatever the replica has replayed: which server answered, and whether it saw the row.
const READBACK_SQL = 'SELECT inet_server_port() AS port, EXISTS (SELECT 1 FROM bench_events WHERE id = $1) AS seen'

const QUERIES = [
  { name: '`SELECT 1`', sql: 'SELECT 1', values: () => undefined },
  { name: '`SELECT id, body FROM bench_notes WHERE id = $1`', sql: NOTE_SQL, values: (random) => [1 + Math.floor(random() * NOTES)] },
]

// Child mode (variant A0): a raw pg.Pool in a process that never loads pindb, so Node's
// AsyncLocalStorage hooks (switched on for the whole process by the first pindb.run()) are off.
if (args.has('--child-raw')) {
  const query = QUERIES[Number(process.env.BENCH_CHILD_QUERY)]
  const pool = new pg.Pool(PRIMARY)
  const op = (random) => pool.query(query.sql, query.values(random))
  await phase(WARMUP_MS, op, 99)
  const res = await phase(Number(process.env.BENCH_CHILD_MS), op, Number(process.env.BENCH_CHILD_SEED))
  await pool.end()
  process.stdout.write(`${JSON.stringify(res)}\n`)
  process.exit(0)
}

function fail(message, code = 1) {
  console.error(`pg-routing bench: ${message}`)
  process.exit(code)
}

/** The code measured: git HEAD, whether src/ has uncommitted changes, when dist/ was built. */
function pindbRevision() {
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' })
  const head = git('rev-parse', '--short', 'HEAD').stdout?.trim() || 'unknown'
  const dirty = (git('status', '--porcelain', '--', 'src').stdout ?? '').trim() !== ''
  const built = existsSync(DIST_ENTRIES[1]) ? new Date(statSync(DIST_ENTRIES[1]).mtimeMs).toISOString() : '?'
  return `pindb at git ${head}${dirty ? ' + uncommitted changes in src/' : ''}, dist/ built ${built}`
}

function testbed(...argv) {
  return spawnSync('bash', [TESTBED, ...argv], { cwd: ROOT, encoding: 'utf8' })
}

// ---------------------------------------------------------------------------------------------
// Pre-flight: test bed up, dist built.

const status = testbed('status', 'pg')
if (status.error !== undefined || status.status !== 0) {
  process.stderr.write(status.stdout ?? '')
  fail('the PostgreSQL test bed is not up (or not replicating). Run `bash scripts/testbed.sh start` first.', 2)
}

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}
const DIST_ENTRIES = [path.join(ROOT, 'dist', 'index.js'), path.join(ROOT, 'dist', 'pg', 'index.js')]
if (!args.has('--no-build')) {
  const stale = DIST_ENTRIES.some((f) => !existsSync(f)) ||
    newestMtime(path.join(ROOT, 'src')) > Math.min(...DIST_ENTRIES.map((f) => statSync(f).mtimeMs))
  if (stale) {
    console.error('pg-routing bench: dist/ is missing or older than src/; running `npm run build` …')
    const started = Date.now() - 1000
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
    if (build.status !== 0) {
      // tsc emits despite type errors; go on only if it did write fresh entry points.
      const emitted = DIST_ENTRIES.every((f) => existsSync(f) && statSync(f).mtimeMs >= started)
      if (!emitted) fail('`npm run build` failed; fix the build (or run it yourself) and retry.')
      console.error('pg-routing bench: WARNING: `npm run build` reported errors but emitted dist/; measuring that build.')
    }
  }
} else if (DIST_ENTRIES.some((f) => !existsSync(f))) {
  fail('dist/ is missing: run `npm run build` first.')
}
const { createPinDb } = await import(pathToFileURL(DIST_ENTRIES[0]).href)
const { createPgPool } = await import(pathToFileURL(DIST_ENTRIES[1]).href)

// ---------------------------------------------------------------------------------------------
// Resources and cleanup.

let startedPgpool = false
const closers = []
async function cleanup() {
  for (const close of closers.splice(0).reverse()) {
    try { await close() } catch { /* best effort */ }
  }
  if (startedPgpool) {
    startedPgpool = false
    const stop = testbed('stop', 'pgpool')
    if (stop.status !== 0) console.error(`pg-routing bench: could not stop pgpool:\n${stop.stdout}${stop.stderr}`)
    else console.error('pg-routing bench: stopped pgpool (this run started it).')
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`pg-routing bench: ${signal}, cleaning up …`)
    void cleanup().finally(() => process.exit(130))
  })
}

function rawPool(config) {
  const pool = new pg.Pool(config)
  pool.on('error', (err) => console.error(`pg-routing bench: idle client error (${config.port}): ${err.message}`))
  closers.push(() => pool.end())
  return pool
}

async function main() {
  const admin = new pg.Client(PRIMARY)
  try {
    await admin.connect()
  } catch (err) {
    fail(`cannot connect to the primary on 127.0.0.1:${PG_PORT} (${err.message}). Run \`bash scripts/testbed.sh start\` first.`, 2)
  }
  closers.push(() => admin.end())
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version

  // --- Tables on the primary, then wait until both replicas have replayed them.
  await admin.query('CREATE TABLE IF NOT EXISTS bench_notes (id int PRIMARY KEY, body text NOT NULL)')
  await admin.query('CREATE TABLE IF NOT EXISTS bench_events (id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())')
  const { rows: [{ n }] } = await admin.query('SELECT count(*)::int AS n FROM bench_notes')
  if (n !== NOTES) {
    await admin.query('TRUNCATE bench_notes')
    await admin.query(`INSERT INTO bench_notes SELECT g, 'note ' || g || ' ' || repeat('x', 60) FROM generate_series(1, ${NOTES}) g`)
  }
  await admin.query('TRUNCATE bench_events RESTART IDENTITY')
  await admin.query('ANALYZE bench_notes')
  await admin.query('ANALYZE bench_events')
  const lsn = (await admin.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn
  const replicaDelays = []
  for (const port of [R0_PORT, R1_PORT]) {
    const replica = new pg.Client({ ...BASE, port })
    try {
      await replica.connect()
      const deadline = Date.now() + 30_000
      for (;;) {
        const { rows: [r] } = await replica.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])
        if (r.ok === true) break
        if (Date.now() > deadline) fail(`replica on port ${port} did not replay the bench tables within 30 s (is replication running? \`bash scripts/testbed.sh status\`).`)
        await sleep(50)
      }
      const { rows: [c] } = await replica.query('SELECT count(*)::int AS n FROM bench_notes')
      if (c.n !== NOTES) fail(`replica on port ${port} has ${c.n} bench_notes rows, expected ${NOTES}.`)
      replicaDelays.push(`:${port} ${(await replica.query('SHOW recovery_min_apply_delay')).rows[0].recovery_min_apply_delay}`)
    } catch (err) {
      fail(`cannot check the replica on port ${port}: ${err.message}. Run \`bash scripts/testbed.sh start\` first.`, 2)
    } finally {
      await replica.end().catch(() => {})
    }
  }

  // --- Pools.
  const raw = rawPool(PRIMARY)
  const pindb0 = createPinDb({ primaries: { default: PRIMARY }, replicas: { default: [] } })
  const routed0 = createPgPool(pindb0, { pg })
  closers.push(() => pindb0.close())
  const pindbR = createPinDb({ primaries: { default: PRIMARY }, replicas: { default: [{ port: R0_PORT }, { port: R1_PORT }] } })
  const routedR = createPgPool(pindbR, { pg })
  closers.push(() => pindbR.close())

  const facts = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'unknown CPU'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    load: os.loadavg().map((x) => x.toFixed(2)).join(' / '),
    pg: `PostgreSQL ${pgVersion} (primary :${PG_PORT}, streaming replicas :${R0_PORT}, :${R1_PORT}; recovery_min_apply_delay ${replicaDelays.join(', ')})`,
    pgpool: 'pgpool-II: not used in this run (--only=overhead)',
    pindb: pindbRevision(),
  }
  const out = { overhead: [], mixed: [] }

  if (RUN_OVERHEAD) out.overhead = await overhead({ raw, pindb0, routed0, pindbR, routedR })

  if (RUN_MIXED) {
    const st = testbed('status', 'pgpool')
    if (st.status !== 0) {
      console.error('pg-routing bench: pgpool is not up; starting it with `bash scripts/testbed.sh start pgpool` …')
      const start = testbed('start', 'pgpool')
      if (start.status !== 0) fail(`could not start pgpool:\n${start.stdout}${start.stderr}`)
      startedPgpool = true
    }
    const pgpoolAdmin = new pg.Client({ ...BASE, port: PGPOOL_PORT })
    await pgpoolAdmin.connect()
    closers.push(() => pgpoolAdmin.end())
    const pv = await pgpoolAdmin.query('SHOW POOL_VERSION').catch(() => undefined)
    const pgpoolVersion = pv?.rows[0]?.pool_version ?? spawnSync('pgpool', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '?'
    const lbSetting = async (name) => (await pgpoolAdmin.query(`PGPOOL SHOW ${name}`).catch(() => undefined))?.rows[0]?.[name] ?? '?'
    facts.pgpool = `pgpool-II ${pgpoolVersion} on :${PGPOOL_PORT} (load_balance_mode=${await lbSetting('load_balance_mode')}, ` +
      `statement_level_load_balance=${await lbSetting('statement_level_load_balance')}, ` +
      `disable_load_balance_on_write=${await lbSetting('disable_load_balance_on_write')}, ` +
      `lb_weight ${(await pgpoolAdmin.query('SHOW POOL_NODES')).rows.map((r) => `:${r.port} ${r.lb_weight}`).join(', ')})`
    const viaPgpool = rawPool({ ...BASE, port: PGPOOL_PORT })
    out.mixed = await mixed({ raw, pindbR, routedR, viaPgpool, pgpoolAdmin })
  }

  const report = render(facts, out)
  console.log(`\n${report}`)
  if (SAVE) {
    mkdirSync(path.dirname(RESULTS), { recursive: true })
    writeFileSync(RESULTS, `# pg-routing benchmark results\n\n${report}`)
    console.error(`pg-routing bench: wrote ${path.relative(ROOT, RESULTS)}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement core.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
/** Runs `op(random)` from `CONCURRENCY` workers for `ms` (bench/lib/phase.mjs). */
function phase(ms, op, seed = 1) {
  return measure(ms, op, { concurrency: CONCURRENCY, seed })
}


/**
 * CPU time (seconds) used so far on this machine, split by who used it: this process, the
 * database servers (postgres / pgpool processes), every other task (other engineers' tests, …),
 * and hypervisor steal. Linux /proc only; undefined elsewhere. Used to flag disturbed phases.
 */





function readCounts(pindb) {
  const stats = pindb.stats()
  const out = {}
  for (const [alias, s] of Object.entries(stats)) out[alias] = s.counters.reads
  return out
}
function replicaShare(pindb, before, after) {
  let total = 0
  let replicas = 0
  for (const alias of Object.keys(after)) {
    const d = after[alias] - (before[alias] ?? 0)
    total += d
    if (pindb.topology.replicaToSet.has(alias)) replicas += d
  }
  return { total, replicas }
}

// ---------------------------------------------------------------------------------------------
// Part 1: overhead.

/** Runs variant A0 (raw pg.Pool, no AsyncLocalStorage) in a child process: warm-up, then one phase. */
function childRaw(queryIndex, ms, seed) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child-raw'], {
      env: { ...process.env, BENCH_CHILD_QUERY: String(queryIndex), BENCH_CHILD_MS: String(ms), BENCH_CHILD_SEED: String(seed) },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (chunk) => { out += chunk })
    child.on('error', reject)
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`)
        resolve(JSON.parse(out))
      } catch (err) {
        reject(new Error(`the A0 child process failed (${err.message})`))
      }
    })
  })
}

async function overhead({ raw, pindb0, routed0, pindbR, routedR }) {
  const results = []
  for (const [queryIndex, query] of QUERIES.entries()) {
    const { sql, values } = query
    const variants = [
      { key: 'A0', label: 'A0 raw pg.Pool → primary, separate process without AsyncLocalStorage', child: true },
      { key: 'A', label: 'A raw pg.Pool → primary', op: (r) => raw.query(sql, values(r)) },
      { key: 'B', label: 'B routed, no replicas, in run()', pindb: pindb0, op: (r) => pindb0.run(() => routed0.query(sql, values(r))) },
      { key: 'B0', label: 'B0 routed, no replicas, no run()', pindb: pindb0, op: (r) => routed0.query(sql, values(r)) },
      { key: 'C', label: 'C routed, 2 replicas, in run()', pindb: pindbR, op: (r) => pindbR.run(() => routedR.query(sql, values(r))) },
    ]
    console.error(`\n[overhead] ${sql}: warm-up ${WARMUP_MS / 1000} s per variant …`)
    for (const v of variants) if (!v.child) await phase(WARMUP_MS, v.op, 99)
    for (const v of variants) v.reps = []
    for (let r = 0, retries = 0; r < REPS; r++) {
      const round = []
      for (const v of orderFor(variants, r)) {
        const before = v.pindb ? readCounts(v.pindb) : undefined
        const res = v.child ? await childRaw(queryIndex, OVERHEAD_MS, r + 1) : await phase(OVERHEAD_MS, v.op, r + 1)
        if (v.pindb) res.share = replicaShare(v.pindb, before, readCounts(v.pindb))
        round.push([v, res])
        console.error(`  rep ${r + 1} ${v.key.padEnd(2)} ${fmtInt(res.rate).padStart(8)} q/s  p50 ${fmtMs(res.p50)} ms  p99 ${fmtMs(res.p99)} ms  cpu ${res.cpuUsPerOp.toFixed(1)} µs/q  ${fmtMachine(res.machine)}`)
      }
      if (round.some(([, res]) => disturbed(res)) && retries < RETRIES) {
        retries++
        repeated.overhead++
        console.error(`  rep ${r + 1} was disturbed by other processes; repeating it (retry ${retries} of ${RETRIES}) …`)
        r--
        continue
      }
      for (const [v, res] of round) v.reps.push(res)
    }
    const a = variants.find((v) => v.key === 'A')
    const a0 = variants.find((v) => v.key === 'A0')
    for (const v of variants) {
      results.push({
        query: query.name,
        key: v.key,
        label: v.label,
        rate: median(v.reps.map((x) => x.rate)),
        p50: median(v.reps.map((x) => x.p50)),
        p99: median(v.reps.map((x) => x.p99)),
        cpu: median(v.reps.map((x) => x.cpuUsPerOp)),
        // Paired ratio per repetition (adjacent phases), then the median: cancels slow drift.
        ratios: v.reps.map((x, i) => x.rate / a.reps[i].rate),
        ratios0: v.reps.map((x, i) => x.rate / a0.reps[i].rate),
        share: v.pindb ? v.reps.reduce((s, x) => ({ total: s.total + x.share.total, replicas: s.replicas + x.share.replicas }), { total: 0, replicas: 0 }) : undefined,
        reps: v.reps,
      })
    }
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// Part 2: mixed workload.

function newTally() {
  return { units: 0, reads: 0, writes: 0, readBacks: 0, stale: 0, readBackPorts: new Map() }
}

/** One unit of work (a "request"): maybe a write plus its read-back, then point reads; 2–3 reads in all. */
async function unitOfWork(pool, random, tally) {
  let reads = random() < 0.5 ? 2 : 3
  if (random() < WRITE_P) {
    const { rows: [row] } = await pool.query(INSERT_SQL, [`event ${Math.floor(random() * 1e9)}`])
    tally.writes++
    const { rows: [back] } = await pool.query(READBACK_SQL, [row.id])
    tally.readBacks++
    tally.reads++
    reads--
    if (back.seen !== true) tally.stale++
    tally.readBackPorts.set(back.port, (tally.readBackPorts.get(back.port) ?? 0) + 1)
  }
  for (let i = 0; i < reads; i++) {
    await pool.query(NOTE_SQL, [1 + Math.floor(random() * NOTES)])
    tally.reads++
  }
  tally.units++
}

async function poolNodes(pgpoolAdmin) {
  const { rows } = await pgpoolAdmin.query('SHOW POOL_NODES')
  return rows.map((r) => ({ port: Number(r.port), role: r.role, select: Number(r.select_cnt) }))
}

/** The replicas' `recovery_min_apply_delay` (another user of the test bed may inject lag with `testbed.sh pg-delay`). */
async function replicaDelays(clients) {
  const out = []
  for (const [port, client] of clients) {
    const { rows: [r] } = await client.query('SHOW recovery_min_apply_delay')
    out.push(`:${port}=${r.recovery_min_apply_delay}`)
  }
  return out.join(' ')
}

async function mixed({ raw, pindbR, routedR, viaPgpool, pgpoolAdmin }) {
  const delayClients = []
  for (const port of [R0_PORT, R1_PORT]) {
    const client = new pg.Client({ ...BASE, port })
    await client.connect()
    closers.push(() => client.end())
    delayClients.push([port, client])
  }
  const variants = [
    { key: 'D', label: 'D routed, 2 replicas, unit in run()', pool: routedR, wrap: (fn) => pindbR.run(fn), pindb: pindbR },
    { key: 'E', label: 'E raw pg.Pool → pgpool-II', pool: viaPgpool, wrap: (fn) => fn(), pgpool: true },
    { key: 'F', label: 'F raw pg.Pool → primary (no replicas)', pool: raw, wrap: (fn) => fn() },
  ]
  console.error(`\n[mixed] p(write)=${WRITE_P}: warm-up ${WARMUP_MS / 1000} s per variant …`)
  for (const v of variants) {
    const tally = newTally()
    await phase(WARMUP_MS, (r) => v.wrap(() => unitOfWork(v.pool, r, tally)), 99)
  }
  for (const v of variants) v.reps = []
  for (let r = 0, retries = 0; r < REPS; r++) {
    const round = []
    for (const v of orderFor(variants, r)) {
      const tally = newTally()
      const delaysBefore = await replicaDelays(delayClients)
      const before = v.pindb ? readCounts(v.pindb) : v.pgpool ? await poolNodes(pgpoolAdmin) : undefined
      const res = await phase(MIXED_MS, (rand) => v.wrap(() => unitOfWork(v.pool, rand, tally)), r + 1)
      let share
      if (v.pindb) share = replicaShare(v.pindb, before, readCounts(v.pindb))
      else if (v.pgpool) {
        const after = await poolNodes(pgpoolAdmin)
        share = { total: 0, replicas: 0 }
        for (const node of after) {
          const d = node.select - (before.find((b) => b.port === node.port)?.select ?? 0)
          share.total += d
          if (node.role !== 'primary') share.replicas += d
        }
      } else share = { total: tally.reads, replicas: 0 }
      res.share = share
      res.tally = tally
      const delaysAfter = await replicaDelays(delayClients)
      res.delays = delaysBefore === delaysAfter ? delaysBefore : `${delaysBefore} → ${delaysAfter}`
      res.lagged = /=[1-9]/.test(res.delays)
      round.push([v, res])
      console.error(`  rep ${r + 1} ${v.key} ${fmtInt(res.rate).padStart(7)} units/s  p50 ${fmtMs(res.p50)} ms  p99 ${fmtMs(res.p99)} ms  ` +
        `replica reads ${pct(share.replicas, share.total)}  stale ${tally.stale}/${tally.readBacks}  ${fmtMachine(res.machine)}` +
        `${res.lagged ? `  ⚠ injected replica delay ${res.delays}` : ''}`)
    }
    if (round.some(([, res]) => disturbed(res) || res.lagged) && retries < RETRIES) {
      retries++
      repeated.mixed++
      console.error(`  rep ${r + 1} was disturbed (background load or injected replica delay); repeating it (retry ${retries} of ${RETRIES}) …`)
      r--
      continue
    }
    for (const [v, res] of round) v.reps.push(res)
  }
  return variants.map((v) => {
    const sum = (f) => v.reps.reduce((s, x) => s + f(x), 0)
    const ports = new Map()
    for (const x of v.reps) for (const [port, c] of x.tally.readBackPorts) ports.set(port, (ports.get(port) ?? 0) + c)
    const readBacks = sum((x) => x.tally.readBacks)
    return {
      key: v.key,
      label: v.label,
      rate: median(v.reps.map((x) => x.rate)),
      stmtRate: median(v.reps.map((x) => (x.tally.reads + x.tally.writes) / (x.elapsed / 1000))),
      p50: median(v.reps.map((x) => x.p50)),
      p99: median(v.reps.map((x) => x.p99)),
      cpu: median(v.reps.map((x) => x.cpuUsPerOp)),
      writes: sum((x) => x.tally.writes),
      statements: sum((x) => x.tally.reads + x.tally.writes),
      share: { total: sum((x) => x.share.total), replicas: sum((x) => x.share.replicas) },
      readBacks,
      readBacksOnReplicas: [...ports].reduce((s, [port, c]) => s + (port === PG_PORT ? 0 : c), 0),
      stale: sum((x) => x.tally.stale),
      staleReps: v.reps.map((x) => `${x.tally.stale}/${x.tally.readBacks}${x.lagged ? ` (⚠ injected replica delay ${x.delays})` : ''}`),
      reps: v.reps,
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Report.

function fmtInt(n) { return Math.round(n).toLocaleString('en-US') }
function fmtMs(n) { return n.toFixed(3) }
function pct(a, b) { return b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)} %` }
function fmtMachine(m) {
  return m === undefined ? '' : `cores busy: bench ${m.self.toFixed(2)} · db ${m.db.toFixed(2)} · other ${m.other.toFixed(2)} · steal ${m.steal.toFixed(2)}`
}
/** Per-repetition details: throughput and the machine's CPU split, flagging phases disturbed by other work. */
function repLine(x, unit) {
  const m = x.machine
  const flag = m !== undefined && (m.other > OTHER_CPU_FLAG || m.steal > OTHER_CPU_FLAG) ? ' ⚠ disturbed' : ''
  return `${fmtInt(x.rate)} ${unit}${m === undefined ? '' : ` (cores busy: bench ${m.self.toFixed(2)}, db ${m.db.toFixed(2)}, other ${m.other.toFixed(2)}, steal ${m.steal.toFixed(2)}${flag})`}`
}
function disturbance(all, section) {
  const ms = all.map((x) => x.machine).filter((m) => m !== undefined)
  if (ms.length === 0) return 'CPU split not available (no /proc).'
  const worst = Math.max(...ms.map((m) => m.other))
  const steal = Math.max(...ms.map((m) => m.steal))
  const n = ms.filter((m) => m.other > OTHER_CPU_FLAG || m.steal > OTHER_CPU_FLAG).length
  const redo = section === undefined || repeated[section] === 0 ? '' : ` ${repeated[section]} disturbed repetition(s) were thrown away and measured again (BENCH_RETRIES).`
  return `Background load during measured phases: at most ${worst.toFixed(2)} cores used by other processes, at most ${steal.toFixed(2)} cores of steal; ` +
    `${n} of ${ms.length} phases over the ${OTHER_CPU_FLAG} core flag${n > 0 ? ' (marked ⚠ in the per-repetition details; treat their numbers with care)' : ''}.${redo}`
}

function render(facts, { overhead: ov, mixed: mx }) {
  const lines = []
  lines.push(`Run ${facts.date} · Node ${facts.node} · ${facts.cpus} · ${facts.memory} RAM · ${facts.os}`)
  lines.push('')
  lines.push(`- ${facts.pindb}`)
  lines.push(`- ${facts.pg}`)
  lines.push(`- ${facts.pgpool}`)
  lines.push(`- Client concurrency ${CONCURRENCY} (pg.Pool max ${CONCURRENCY} per server); ${REPS} repetitions per variant, interleaved forwards/backwards; ` +
    `warm-up ${WARMUP_MS / 1000} s per variant; overhead phases ${OVERHEAD_MS / 1000} s, mixed phases ${MIXED_MS / 1000} s; medians over repetitions.`)
  lines.push(`- Client, PostgreSQL nodes and pgpool-II all share the same machine (load average 1/5/15 min before the run: ${facts.load}).`)
  if (ov.length > 0) {
    lines.push('')
    lines.push('### Overhead: small reads, same server')
    lines.push('')
    lines.push('| Query | Variant | queries/s | p50 ms | p99 ms | client CPU µs/query | reads on replicas | throughput vs A | throughput vs A0 |')
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|')
    const ratioCell = (ratios) => `${(100 * median(ratios)).toFixed(1)} % (${(100 * Math.min(...ratios)).toFixed(1)}–${(100 * Math.max(...ratios)).toFixed(1)})`
    for (const r of ov) {
      lines.push(`| ${r.query} | ${r.label} | ${fmtInt(r.rate)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${r.cpu.toFixed(1)} | ` +
        `${r.share ? pct(r.share.replicas, r.share.total) : '0 % (primary)'} | ${ratioCell(r.ratios)} | ${ratioCell(r.ratios0)} |`)
    }
    lines.push('')
    lines.push('Throughput ratios: per repetition, the variant\'s queries/s over the baseline\'s measured next to it; median (min–max) over repetitions. ' +
      'A runs in the bench process, where the first `pindb.run()` has switched on Node\'s AsyncLocalStorage hooks for every later promise; ' +
      'A0 is the same raw pool in a child process that never loads pindb (hooks off).')
    lines.push('')
    const delta = (b, a) => `${b.cpu - a.cpu >= 0 ? '+' : ''}${(b.cpu - a.cpu).toFixed(1)} µs (${(100 * (b.cpu / a.cpu - 1)).toFixed(0)} %)`
    for (const r of ov.filter((x) => x.key === 'B')) {
      const m = 100 * median(r.ratios)
      const m0 = 100 * median(r.ratios0)
      const a = ov.find((x) => x.query === r.query && x.key === 'A')
      const a0 = ov.find((x) => x.query === r.query && x.key === 'A0')
      lines.push(`- **B/A for ${r.query}: ${m.toFixed(1)} %** (goal ≥ 97 %: ${m >= 97 ? 'met' : 'missed'}); B/A0: ${m0.toFixed(1)} % (${m0 >= 97 ? 'met' : 'missed'}). ` +
        `Client CPU per query: B − A = ${delta(r, a)}, B − A0 = ${delta(r, a0)}.`)
    }
    lines.push('')
    lines.push(disturbance(ov.flatMap((r) => r.reps), 'overhead'))
    lines.push('')
    lines.push('<details><summary>Per-repetition throughput (queries/s) and background CPU</summary>')
    lines.push('')
    for (const r of ov) lines.push(`- ${r.query} ${r.key}: ${r.reps.map((x) => repLine(x, 'q/s')).join('; ')}`)
    lines.push('')
    lines.push('</details>')
  }
  if (mx.length > 0) {
    lines.push('')
    lines.push(`### Mixed workload: units of work (write with p = ${WRITE_P} + read-back, then 2–3 reads in all)`)
    lines.push('')
    lines.push('| Variant | units/s | statements/s | p50 ms / unit | p99 ms / unit | writes | reads on replicas | read-backs on replicas | stale reads-after-write |')
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of mx) {
      lines.push(`| ${r.label} | ${fmtInt(r.rate)} | ${fmtInt(r.stmtRate)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${pct(r.writes, r.statements)} | ` +
        `${pct(r.share.replicas, r.share.total)} | ${pct(r.readBacksOnReplicas, r.readBacks)} | **${fmtInt(r.stale)}** of ${fmtInt(r.readBacks)} (${pct(r.stale, r.readBacks)}) |`)
    }
    lines.push('')
    lines.push('Reads on replicas: pindb from `pindb.stats()` read counters, pgpool-II from `SHOW POOL_NODES` `select_cnt` deltas, F by construction. ' +
      'Read-backs: the read right after a unit\'s own INSERT (`SELECT inet_server_port(), EXISTS(…)`), which reports the answering server and whether it saw the row; "stale" = it did not.')
    lines.push('')
    lines.push(disturbance(mx.flatMap((r) => r.reps), 'mixed'))
    lines.push('')
    const lagged = mx.flatMap((r) => r.reps.filter((x) => x.lagged).map((x) => `${r.key} (${x.delays})`))
    lines.push(lagged.length === 0
      ? 'Both replicas had `recovery_min_apply_delay` = 0 before and after every mixed phase (no injected lag).'
      : `⚠ Injected replica delay (\`recovery_min_apply_delay\`, set by another user of the test bed) during: ${lagged.join(', ')} — stale counts of those phases reflect that lag.`)
    lines.push('')
    lines.push('<details><summary>Per-repetition throughput (units/s), background CPU and stale read-backs</summary>')
    lines.push('')
    for (const r of mx) lines.push(`- ${r.key}: ${r.reps.map((x) => repLine(x, 'units/s')).join('; ')}; stale ${r.staleReps.join(', ')}`)
    lines.push('')
    lines.push('</details>')
  }
  return lines.join('\n') + '\n'
}

try {
  await main()
} catch (err) {
  console.error(`pg-routing bench: failed: ${err?.stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanup()
}
