#!/usr/bin/env node
// The whole test suite, as `npm test` runs it (and `.ci/run` after `npm ci`):
//   1. at once: type-checks the project (src, tests, benchmarks, demo); builds and packs pindb in a
//      staging copy (scripts/build-package.mjs: one tarball for every line's package test, and the
//      working tree's dist/ for the benchmarks); fetches the Node binaries of the lines
//      (scripts/build-node-bins.mjs: npm registry, cached outside the repo);
//   2. runs the full Vitest suite (unit, integration against the real clusters, package test) once
//      per Node line — this machine's Node and 20, 22, 24, 26 — each line against a test bed
//      (scripts/testbed.sh) that it starts unless it is already up, and stops if it started it
//      (PINDB_KEEP_TESTBED=1 leaves them running);
//   3. prints each line's counts, then, as its last line, `N passed, N failed` summed over all lines.
// Arguments are passed to Vitest: `npm test -- test/unit` runs only the unit tests (on every line).
//
// Environment:
//   PINDB_NODE_LINES  all (default) | current | a list of majors, e.g. 20,24
//   PINDB_LINE_JOBS   how many lines run at once (default: one per CPU, at most the number of lines)
//
// Why lines run concurrently, each on its own test bed: Vitest runs the files of a line one at a
// time (integration files stop and start replicas of the shared test bed), so one line keeps about
// one core busy and most of its time is spent waiting on servers. Lines in parallel fill the cores;
// they must not share servers, so lane k > 0 gets a test bed of its own: the ports given by
// PINDB_PG_PORT / PINDB_MARIADB_PORT / PINDB_REDIS_PORT / PINDB_PGPOOL_PORT (or their defaults)
// plus 10·k, and the directory $PINDB_TESTBED_DIR-l<k>. Lane 0 uses the environment as given. With
// the ports of helpers 100 apart, +10·k never reaches another test bed. Two cores: two lanes.
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HOST_MAJOR, nodeBinary } from './build-node-bins.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const testbed = join(root, 'scripts', 'testbed.sh')
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const vitestArgs = process.argv.slice(2)
const ALL_MAJORS = [20, 22, 24, 26]

function linesFromEnv() {
  const raw = (process.env.PINDB_NODE_LINES ?? 'all').trim()
  if (raw === 'all' || raw === '') return [...new Set([HOST_MAJOR, ...ALL_MAJORS])].sort((a, b) => a - b)
  if (raw === 'current') return [HOST_MAJOR]
  const majors = raw.split(',').map((s) => Number(s.trim()))
  if (majors.some((m) => !Number.isInteger(m) || m < 20)) {
    console.error(`✗ PINDB_NODE_LINES must be "all", "current" or majors like "20,24"; got "${raw}"`)
    process.exit(2)
  }
  return [...new Set(majors)].sort((a, b) => a - b)
}
const lines = linesFromEnv()
const staticLine = lines.includes(HOST_MAJOR) ? HOST_MAJOR : lines[0]
const jobs = Math.max(1, Math.min(lines.length, Number(process.env.PINDB_LINE_JOBS) || availableParallelism()))

const work = mkdtempSync(join(tmpdir(), 'pindb-test-'))
const fmtTime = (ms) => `${Math.floor(ms / 60000)}m${String(Math.round((ms % 60000) / 1000)).padStart(2, '0')}s`

/** Runs a command; resolves `{ status, output, stdout }`; streams to stdout/stderr unless `capture` or `log`. */
function exec(cmd, args, { env = process.env, capture = false, log } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', capture || log ? 'pipe' : 'inherit', capture || log ? 'pipe' : 'inherit'] })
    let output = ''
    let stdout = ''
    const sink = (chunk) => {
      if (capture) output += chunk
      if (log) log.write(chunk)
    }
    child.stdout?.on('data', (chunk) => {
      stdout += chunk
      sink(chunk)
    })
    child.stderr?.on('data', sink)
    child.on('error', (err) => resolve({ status: 127, output: `${output}${err.message}\n`, stdout }))
    child.on('close', (status) => resolve({ status: status ?? 1, output, stdout }))
  })
}

/** The environment of lane `k` (see the header). */
function laneEnv(k) {
  if (k === 0) return { ...process.env }
  const env = { ...process.env }
  const port = (name, fallback) => Number(process.env[name] || fallback)
  const pg = port('PINDB_PG_PORT', 25432)
  const my = port('PINDB_MARIADB_PORT', 23306)
  const pgpool = port('PINDB_PGPOOL_PORT', 29999)
  Object.assign(env, {
    PINDB_TESTBED_DIR: `${process.env.PINDB_TESTBED_DIR || '/tmp/pindb-tb'}-l${k}`,
    PINDB_PG_PORT: String(pg + 10 * k),
    PINDB_PG_REPLICA0_PORT: String(port('PINDB_PG_REPLICA0_PORT', pg + 1) + 10 * k),
    PINDB_PG_REPLICA1_PORT: String(port('PINDB_PG_REPLICA1_PORT', pg + 2) + 10 * k),
    PINDB_MARIADB_PORT: String(my + 10 * k),
    PINDB_MARIADB_REPLICA_PORT: String(port('PINDB_MARIADB_REPLICA_PORT', my + 1) + 10 * k),
    PINDB_REDIS_PORT: String(port('PINDB_REDIS_PORT', 26379) + 10 * k),
    PINDB_PGPOOL_PORT: String(pgpool - 10 * k),
    PINDB_PGPOOL_PCP_PORT: String(port('PINDB_PGPOOL_PCP_PORT', pgpool - 1) - 10 * k),
  })
  return env
}
const describeLane = (env) => `pg ${env.PINDB_PG_PORT || 25432}, mariadb ${env.PINDB_MARIADB_PORT || 23306}, redis ${env.PINDB_REDIS_PORT || 26379}`

let failedSteps = 0
const stepFailed = (message) => {
  console.error(`✗ ${message}`)
  failedSteps++
}

// ---------------------------------------------------------------------------------------------
// 1. Type-check, build + pack, Node binaries: at once.
console.log(`» type-check, build + pack, Node binaries for lines ${lines.join(', ')} (${jobs} at a time)`)
const started = Date.now()
const [typecheck, pack, binaries] = await Promise.all([
  exec(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit'], { capture: true }),
  exec(process.execPath, [join(root, 'scripts', 'build-package.mjs'), join(work, 'tarball'), '--install-dist'], { capture: true }),
  Promise.all(lines.map((major) => nodeBinary(major).then((bin) => ({ major, bin }), (err) => ({ major, err })))),
])
process.stdout.write(typecheck.output)
if (typecheck.status !== 0) stepFailed('type-check failed')
let tarball
if (pack.status === 0) tarball = pack.stdout.trim().split('\n').at(-1)
else console.error(`✗ build + pack failed (the package test will report it):\n${pack.output}`)
const runnable = []
for (const b of binaries) {
  if (b.err) stepFailed(`Node ${b.major}: ${b.err.message}`)
  else runnable.push(b)
}
console.log(`  done in ${fmtTime(Date.now() - started)}`)

// ---------------------------------------------------------------------------------------------
// 2. The lines.
const results = []
const queue = [...runnable]
/** Environments of the test beds this run started, for Ctrl-C. */
const startedBeds = new Set()
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n» ${signal}: stopping the test beds this run started`)
    if (process.env.PINDB_KEEP_TESTBED !== '1') for (const env of startedBeds) spawnSync('bash', [testbed, 'stop'], { cwd: root, env, stdio: 'inherit' })
    rmSync(work, { recursive: true, force: true })
    process.exit(130)
  })
}
let printing = Promise.resolve()

async function runLane(k) {
  const env = laneEnv(k)
  if (queue.length === 0) return
  const up = spawnSync('bash', [testbed, 'status'], { cwd: root, env, stdio: 'ignore' }).status === 0
  let startedBed = false
  try {
    if (!up) {
      console.log(`» lane ${k}: starting a test bed (${describeLane(env)})`)
      startedBed = true // whatever part of it comes up is ours to stop, even after a failed start
      startedBeds.add(env)
      const start = await exec('bash', [testbed, 'start'], { env, capture: true })
      if (start.status !== 0) stepFailed(`lane ${k}: the test bed did not start; its integration tests will fail\n${start.output}`)
    }
    for (let line = queue.shift(); line !== undefined; line = queue.shift()) await runLine(line, k, env)
  } finally {
    if (startedBed && process.env.PINDB_KEEP_TESTBED !== '1') {
      startedBeds.delete(env)
      const stop = await exec('bash', [testbed, 'stop'], { env, capture: true })
      if (stop.status !== 0) console.error(`lane ${k}: stopping the test bed failed:\n${stop.output}`)
    }
  }
}

async function runLine({ major, bin }, lane, laneEnvironment) {
  const countFile = join(work, `counts-${major}.json`)
  const logFile = join(work, `node-${major}.log`)
  const env = {
    ...laneEnvironment,
    PINDB_COUNT_FILE: countFile,
    PINDB_PACKAGE_MAJORS: String(major),
    // The package test's line-independent checks (lint, TypeScript consumers) run on one line only.
    PINDB_PACKAGE_STATIC: major === staticLine ? '1' : '0',
    ...(tarball ? { PINDB_PACKAGE_TARBALL: tarball, PINDB_DIST_BUILT: '1' } : {}),
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim()
  const header = `──── Node ${version} (lane ${lane}: ${describeLane(laneEnvironment)}) ────`
  const t0 = Date.now()
  let status
  if (jobs === 1) {
    console.log(`\n${header}`)
    status = (await exec(bin, [vitest, 'run', ...vitestArgs], { env })).status
  } else {
    console.log(`» Node ${version}: running (lane ${lane}; output follows when it ends)`)
    const log = createWriteStream(logFile)
    status = (await exec(bin, [vitest, 'run', ...vitestArgs], { env, log })).status
    await new Promise((resolve) => log.end(resolve))
    printing = printing.then(() => {
      console.log(`\n${header}`)
      process.stdout.write(readFileSync(logFile, 'utf8'))
    })
    await printing
  }
  let counts
  try {
    counts = JSON.parse(readFileSync(countFile, 'utf8'))
  } catch {
    counts = { passed: 0, failed: 0, skipped: 0 } // Vitest crashed before reporting
  }
  // A non-zero exit with no failed test (a crash, an unhandled error) still counts as one failure.
  if (status !== 0 && counts.failed === 0) counts.failed = 1
  results.push({ major, version, ms: Date.now() - t0, ...counts })
}

try {
  await Promise.all(Array.from({ length: jobs }, (_, k) => runLane(k)))
} finally {
  rmSync(work, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// 3. Counts.
results.sort((a, b) => a.major - b.major)
console.log('')
for (const r of results) {
  console.log(`Node ${r.version}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''} (${fmtTime(r.ms)})`)
}
if (failedSteps > 0) console.log(`other steps: ${failedSteps} failed (see ✗ above)`)
console.log(`total time ${fmtTime(Date.now() - started)}`)
const passed = results.reduce((n, r) => n + r.passed, 0)
const failed = results.reduce((n, r) => n + r.failed, 0) + failedSteps
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && results.length === lines.length ? 0 : 1)
