#!/usr/bin/env node
/**
 * `pindb/postgres` (a routed postgres.js `sql`) vs raw postgres.js — one process, the same servers
 * (the project's test bed), built like bench/pg-routing.bench.mjs.
 *
 *   npm run build && node bench/postgres-routing.bench.mjs     (PINDB_BENCH_QUICK=1: a seconds-long smoke run)
 *
 * Uses the PostgreSQL test bed named by the PINDB_* environment, starting it (and stopping it at the
 * end) when it is down. `dist/` is rebuilt first when it is missing or older than `src/` (not with
 * `--no-build`, nor under `npm test`, PINDB_DIST_BUILT=1).
 *
 * Overhead (small reads, same concurrency, same server), for three query shapes — `select 1`, a
 * point read with one parameter, and one with an identifier and an `in` helper (the composite
 * text path):
 *   A0  raw postgres.js → primary, in a child process that never loads pindb (no AsyncLocalStorage hooks)
 *   A   raw postgres.js → primary, in the bench process
 *   B   pindb/postgres, primary and NO replicas (so it also hits the primary), each query in pindb.run()
 *   B0  the same, outside any pindb.run() (information)
 *   C   pindb/postgres with 2 replicas, each query in pindb.run() (information: reads go to replicas)
 * Phases are interleaved (A0 A B B0 C, then C B0 B A A0, …) and medians over repetitions reported;
 * a repetition disturbed by other processes (> 0.1 core) is measured again up to BENCH_RETRIES times.
 * Benchmarks are not tests: nothing here asserts on timings.
 *
 * Environment (all optional): BENCH_CONCURRENCY 12 (workers, and `max` per server), BENCH_SECONDS 5,
 * BENCH_REPS 3, BENCH_WARMUP_SECONDS 1.5, BENCH_RETRIES 5, PINDB_BENCH_QUICK=1 (0.3 s phases, one
 * repetition, no retries, nothing saved), PINDB_PG_PORT / PINDB_PG_REPLICA0_PORT / PINDB_PG_REPLICA1_PORT.
 * Flags: --no-save (do not write bench/results/postgres-routing.md), --no-build.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { ROOT, ensureBuilt, importDist } from './lib/build.mjs'
import { pgStatus, testbed } from './lib/testbed.mjs'
import { disturbed, fmtInt, fmtMachine, fmtMs, median, orderFor, phase } from './lib/phase.mjs'
import { markdownTable } from './lib/stats.mjs'

const args = new Set(process.argv.slice(2))
const QUICK = process.env.PINDB_BENCH_QUICK === '1'
const SAVE = !args.has('--no-save') && !QUICK
const RESULTS = path.join(ROOT, 'bench', 'results', 'postgres-routing.md')
function num(name, fallback, min = 0) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isFinite(v) || v <= min) fail(`${name} must be a number > ${min}; got "${raw}".`)
  return v
}
function fail(message, code = 1) {
  console.error(`postgres-routing bench: ${message}`)
  process.exit(code)
}
const CONCURRENCY = Math.round(num('BENCH_CONCURRENCY', QUICK ? 4 : 12))
const PHASE_MS = num('BENCH_SECONDS', QUICK ? 0.3 : 5) * 1000
const REPS = Math.round(num('BENCH_REPS', QUICK ? 1 : 3))
const WARMUP_MS = num('BENCH_WARMUP_SECONDS', QUICK ? 0.1 : 1.5) * 1000
const RETRIES = Math.round(num('BENCH_RETRIES', QUICK ? 0 : 5, -1))
const NOTES = 10_000
const PG_PORT = Number(process.env.PINDB_PG_PORT || 25432)
const R0_PORT = Number(process.env.PINDB_PG_REPLICA0_PORT || PG_PORT + 1)
const R1_PORT = Number(process.env.PINDB_PG_REPLICA1_PORT || PG_PORT + 2)
const BASE = { host: '127.0.0.1', user: 'postgres', database: 'pindb', max: CONCURRENCY, idle_timeout: null, connect_timeout: 5, onnotice: () => {} }
const PRIMARY = { ...BASE, port: PG_PORT }

const id = (random) => 1 + Math.floor(random() * NOTES)
const QUERIES = [
  { name: '`select 1`', run: (sql) => sql`select 1` },
  { name: '`select id, body from bench_pgjs_notes where id = ${id}`', run: (sql, r) => sql`select id, body from bench_pgjs_notes where id = ${id(r)}` },
  { name: "`select id, body from ${sql('bench_pgjs_notes')} where id in ${sql([a, b])}`", run: (sql, r) => sql`select id, body from ${sql('bench_pgjs_notes')} where id in ${sql([id(r), id(r)])}` },
]

// Child mode (A0): raw postgres.js in a process that never loads pindb.
if (args.has('--child-raw')) {
  const query = QUERIES[Number(process.env.BENCH_CHILD_QUERY)]
  const sql = postgres(PRIMARY)
  const op = (r) => query.run(sql, r)
  await phase(WARMUP_MS, op, { concurrency: CONCURRENCY, seed: 99 })
  const res = await phase(Number(process.env.BENCH_CHILD_MS), op, { concurrency: CONCURRENCY, seed: Number(process.env.BENCH_CHILD_SEED) })
  await sql.end()
  process.stdout.write(`${JSON.stringify(res)}\n`)
  process.exit(0)
}

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

async function prepare() {
  const admin = postgres({ ...PRIMARY, max: 1 })
  try {
    await admin`create table if not exists bench_pgjs_notes (id int primary key, body text not null)`
    const [{ n }] = await admin`select count(*)::int as n from bench_pgjs_notes`
    if (n !== NOTES) {
      await admin`truncate bench_pgjs_notes`
      await admin`insert into bench_pgjs_notes select g, 'note ' || g || ' ' || repeat('x', 60) from generate_series(1, ${NOTES}) g`
      await admin`analyze bench_pgjs_notes`
    }
    const [{ lsn, version }] = await admin`select pg_current_wal_insert_lsn()::text as lsn, current_setting('server_version') as version`
    for (const port of [R0_PORT, R1_PORT]) {
      const replica = postgres({ ...BASE, port, max: 1 })
      try {
        const deadline = Date.now() + 30_000
        while (!(await replica`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as ok`)[0].ok) {
          if (Date.now() > deadline) throw new Error(`replica :${port} did not replay the bench table within 30 s`)
          await new Promise((r) => setTimeout(r, 50))
        }
      } finally {
        await replica.end()
      }
    }
    return version
  } catch (err) {
    throw new Error(`cannot prepare the bench table on 127.0.0.1:${PG_PORT} (${err.message}); check \`bash scripts/testbed.sh status pg\``, { cause: err })
  } finally {
    await admin.end()
  }
}

/** Starts the PostgreSQL test bed when it is down; true when this run started it (and must stop it). */
async function ensureTestbed() {
  if ((await pgStatus()).up) return false
  console.error('postgres-routing bench: the PostgreSQL test bed is down; starting it (`bash scripts/testbed.sh start pg`) …')
  const { code, output } = await testbed(['start', 'pg'], { quiet: true })
  if (code !== 0) fail(`could not start the test bed:\n${output}`, 2)
  return true
}

async function main() {
  // Under `npm test` (PINDB_DIST_BUILT=1) dist/ was just built from these sources: never rebuild it here.
  if (!args.has('--no-build') && process.env.PINDB_DIST_BUILT !== '1') console.error(`postgres-routing bench: ${ensureBuilt({ log: console.error })}`)
  const started = await ensureTestbed()
  try {
    await measure()
  } finally {
    if (started) await testbed(['stop', 'pg'], { quiet: true })
  }
}

async function measure() {
  const { createPinDb } = await importDist('index.js')
  const { createPostgres } = await importDist('postgres/index.js')
  const version = await prepare()
  const raw = postgres(PRIMARY)
  const pindb0 = createPinDb({ primaries: { default: PRIMARY }, replicas: { default: [] } })
  const routed0 = createPostgres(pindb0, { postgres })
  const pindbR = createPinDb({ primaries: { default: PRIMARY }, replicas: { default: [{ port: R0_PORT }, { port: R1_PORT }] } })
  const routedR = createPostgres(pindbR, { postgres })
  const results = []
  try {
    for (const [index, query] of QUERIES.entries()) results.push(...(await overhead(index, query, { raw, pindb0, routed0, pindbR, routedR })))
  } finally {
    await Promise.all([raw.end(), routed0.end(), routedR.end()])
  }
  const report = render(version, results)
  console.log(`\n${report}`)
  if (SAVE) {
    mkdirSync(path.dirname(RESULTS), { recursive: true })
    writeFileSync(RESULTS, `# postgres-routing benchmark results\n\n${report}\n`)
    console.error(`postgres-routing bench: wrote ${path.relative(ROOT, RESULTS)}`)
  }
}

function replicaReads(pindb) {
  let total = 0
  let replicas = 0
  for (const [alias, s] of Object.entries(pindb.stats())) {
    total += s.counters.reads
    if (alias !== 'default') replicas += s.counters.reads
  }
  return { total, replicas }
}

async function overhead(index, query, { raw, pindb0, routed0, pindbR, routedR }) {
  const variants = [
    { key: 'A0', label: 'A0 raw postgres.js → primary, separate process without AsyncLocalStorage', child: true },
    { key: 'A', label: 'A raw postgres.js → primary', op: (r) => query.run(raw, r) },
    { key: 'B', label: 'B pindb/postgres, no replicas, in run()', op: (r) => pindb0.run(async () => await query.run(routed0, r)) },
    { key: 'B0', label: 'B0 pindb/postgres, no replicas, no run()', op: (r) => query.run(routed0, r) },
    { key: 'C', label: 'C pindb/postgres, 2 replicas, in run()', pindb: pindbR, op: (r) => pindbR.run(async () => await query.run(routedR, r)) },
  ]
  console.error(`\n[overhead] ${query.name}: warm-up ${WARMUP_MS / 1000} s per variant …`)
  for (const v of variants) if (!v.child) await phase(WARMUP_MS, v.op, { concurrency: CONCURRENCY, seed: 99 })
  for (const v of variants) v.reps = []
  for (let r = 0, retries = 0; r < REPS; r++) {
    const round = []
    for (const v of orderFor(variants, r)) {
      const before = v.pindb ? replicaReads(v.pindb) : undefined
      const res = v.child ? await childRaw(index, PHASE_MS, r + 1) : await phase(PHASE_MS, v.op, { concurrency: CONCURRENCY, seed: r + 1 })
      if (v.pindb) {
        const after = replicaReads(v.pindb)
        res.share = (after.replicas - before.replicas) / Math.max(1, after.total - before.total)
      }
      round.push([v, res])
      console.error(`  rep ${r + 1} ${v.key.padEnd(2)} ${fmtInt(res.rate).padStart(8)} q/s  p50 ${fmtMs(res.p50)} ms  p99 ${fmtMs(res.p99)} ms  cpu ${res.cpuUsPerOp.toFixed(1)} µs/q  ${fmtMachine(res.machine)}`)
    }
    if (round.some(([, res]) => disturbed(res)) && retries < RETRIES) {
      retries++
      console.error(`  rep ${r + 1} was disturbed by other processes; repeating it (retry ${retries} of ${RETRIES}) …`)
      r--
      continue
    }
    for (const [v, res] of round) v.reps.push(res)
  }
  const a = variants.find((v) => v.key === 'A')
  return variants.map((v) => ({
    query: query.name,
    label: v.label,
    rate: median(v.reps.map((x) => x.rate)),
    ratio: median(v.reps.map((x, i) => x.rate / a.reps[i].rate)),
    p50: median(v.reps.map((x) => x.p50)),
    p99: median(v.reps.map((x) => x.p99)),
    cpu: median(v.reps.map((x) => x.cpuUsPerOp)),
    share: v.pindb ? median(v.reps.map((x) => x.share)) : undefined,
    flagged: v.reps.some(disturbed),
  }))
}

function render(version, results) {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown'
  const facts = [
    `- ${new Date().toISOString()}, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'CPU'}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`,
    `- PostgreSQL ${version} (primary :${PG_PORT}, replicas :${R0_PORT}, :${R1_PORT}); postgres.js ${postgresVersion()}; pindb at git ${git}`,
    `- ${CONCURRENCY} concurrent workers, \`max: ${CONCURRENCY}\` per server; ${REPS} repetition(s) of ${PHASE_MS / 1000} s per variant, medians${QUICK ? ' (QUICK mode: not a measurement)' : ''}`,
  ]
  const sections = []
  for (const query of [...new Set(results.map((r) => r.query))]) {
    const rows = results.filter((r) => r.query === query).map((r) => [
      r.label + (r.flagged ? ' ⚠' : ''), fmtInt(r.rate), `${(r.ratio * 100).toFixed(0)} %`, fmtMs(r.p50), fmtMs(r.p99), r.cpu.toFixed(1),
      r.share === undefined ? '–' : `${Math.round(r.share * 100)} %`,
    ])
    sections.push(`### ${query}\n\n${markdownTable(['variant', 'queries/s', 'vs A', 'p50 ms', 'p99 ms', 'client CPU µs/query', 'replica reads'], rows)}`)
  }
  return `${facts.join('\n')}\n\n${sections.join('\n\n')}`
}

function postgresVersion() {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'postgres', 'package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

await main().catch((err) => {
  console.error(`postgres-routing bench: ${err.message}`)
  process.exitCode = 1
})
