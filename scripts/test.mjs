#!/usr/bin/env node
// The whole test suite, as `npm test` runs it (and `.ci/run` after `npm ci`):
//   1. type-checks the project (src, tests, benchmarks, demo);
//   2. starts the local replication test bed (scripts/testbed.sh) unless it is already up;
//   3. runs every Vitest file (unit, integration against the real clusters, package smoke test);
//   4. stops what it started (set PINDB_KEEP_TESTBED=1 to leave it running);
//   5. ends with the line `N passed, N failed` (N skipped may follow).
// Arguments are passed to Vitest: `npm test -- test/unit` runs only the unit tests.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const testbed = join(root, 'scripts', 'testbed.sh')
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })

let failedSteps = 0

console.log('» type-check')
if (run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']).status !== 0) {
  console.error('✗ type-check failed')
  failedSteps++
}

const up = spawnSync('bash', [testbed, 'status'], { cwd: root, stdio: 'ignore' }).status === 0
let started = false
if (!up) {
  console.log('» starting the test bed (PostgreSQL primary + 2 replicas, MariaDB primary + replica, Redis)')
  // Whatever part of it comes up is ours to stop at the end, even if another part failed.
  started = true
  if (run('bash', [testbed, 'start']).status !== 0) {
    console.error('✗ the test bed did not start; integration tests will fail')
    failedSteps++
  }
}

const dir = mkdtempSync(join(tmpdir(), 'pindb-test-'))
const countFile = join(dir, 'counts.json')
let vitestStatus = 1
try {
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
  vitestStatus = run(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
    env: { ...process.env, PINDB_COUNT_FILE: countFile },
  }).status ?? 1
} finally {
  if (started && process.env.PINDB_KEEP_TESTBED !== '1') {
    console.log('» stopping the test bed')
    run('bash', [testbed, 'stop'])
  }
}

let counts = { passed: 0, failed: 0, skipped: 0 }
try {
  counts = JSON.parse(readFileSync(countFile, 'utf8'))
} catch {
  // Vitest crashed before reporting: count the run as one failure.
  counts.failed = Math.max(counts.failed, 1)
}
rmSync(dir, { recursive: true, force: true })
const failed = counts.failed + failedSteps + (vitestStatus !== 0 && counts.failed === 0 ? 1 : 0)
console.log(`\n${counts.passed} passed, ${failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`)
process.exit(failed === 0 && vitestStatus === 0 ? 0 : 1)
