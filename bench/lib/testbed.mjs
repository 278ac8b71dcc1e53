/**
 * The PostgreSQL part of the project's test bed (scripts/testbed.sh), as the staleness benchmark
 * and the demo use it: connection facts, start/stop/status, replica-1 delay, catch-up waits,
 * and the simulation's table.
 *
 * The test bed scripts run in their own process group (`detached`), so that a Ctrl-C in the
 * terminal reaches only our process — never a half-finished `pg_ctl` or the servers it starts.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, readdirSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { ROOT } from './build.mjs'

const TESTBED = path.join(ROOT, 'scripts', 'testbed.sh')
const env = process.env
const basePort = Number(env.PINDB_PG_PORT || 25432)

/** Connection facts, honouring the same PINDB_PG_* variables as scripts/testbed.sh. */
export const PG = Object.freeze({
  host: '127.0.0.1',
  user: 'postgres',
  database: 'pindb',
  primaryPort: basePort,
  replica0Port: Number(env.PINDB_PG_REPLICA0_PORT || basePort + 1),
  replica1Port: Number(env.PINDB_PG_REPLICA1_PORT || basePort + 2),
})

/** Port → server name, the ground truth of where a read ran. */
export function serverName(port) {
  const p = Number(port)
  if (p === PG.primaryPort) return 'primary'
  if (p === PG.replica0Port) return 'replica-0'
  if (p === PG.replica1Port) return 'replica-1'
  return `port-${port}`
}

/** The simulation's table (its own name, so it never collides with the test suites' tables). */
export const TABLE = 'pindb_sim_notes'

/**
 * Runs `scripts/testbed.sh ARGS…` in its own process group. `quiet` captures the output instead
 * of showing it. Resolves `{ code, output }`.
 */
export function testbed(args, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn('bash', [TESTBED, ...args], { cwd: ROOT, detached: true, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'] })
    let output = ''
    child.stdout?.on('data', (d) => { output += d })
    child.stderr?.on('data', (d) => { output += d })
    child.on('error', (err) => resolve({ code: 127, output: String(err) }))
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

/** `{ up, delayMs }` of the PostgreSQL test bed (delayMs: replica 1's recovery_min_apply_delay). */
export async function pgStatus() {
  const { code, output } = await testbed(['status', 'pg'], { quiet: true })
  const delay = /pg-replica-1\s.*delay=(\d+)ms/.exec(output)
  return { up: code === 0, delayMs: delay ? Number(delay[1]) : undefined, output }
}

/** Sets replica 1's apply delay (persisted by the test bed); throws when the script fails. */
export async function setReplicaDelay(ms) {
  const { code, output } = await testbed(['pg-delay', String(Math.round(ms))], { quiet: true })
  if (code !== 0) throw new Error(`scripts/testbed.sh pg-delay ${ms} failed:\n${output}`)
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Looks for the PostgreSQL server binaries the test bed needs, where scripts/testbed/pg.sh looks
 * (PINDB_PG_BIN, /usr/lib/postgresql/<version>/bin, PATH). Returns `{ dir }` or `{ missing: [...] }`.
 */
export function findPgBinaries() {
  const needed = ['postgres', 'initdb', 'pg_ctl']
  const dirs = []
  if (env.PINDB_PG_BIN) dirs.push(env.PINDB_PG_BIN)
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`))
  } catch { /* not a Debian-style install */ }
  dirs.push(...(env.PATH ?? '').split(path.delimiter).filter(Boolean))
  for (const dir of dirs) {
    if (needed.every((b) => executable(path.join(dir, b)))) return { dir }
  }
  return { missing: needed }
}

/** A plain pg client on one server (not routed), for setup and checks. */
export async function connect(port) {
  const client = new pg.Client({ host: PG.host, port, user: PG.user, database: PG.database, connectionTimeoutMillis: 5000 })
  await client.connect()
  return client
}

/** Creates the simulation's table on the primary (idempotent) and waits until both replicas have it. */
export async function prepareSchema() {
  const client = await connect(PG.primaryPort)
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      id serial PRIMARY KEY,
      user_id text NOT NULL,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`)
    await client.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_user_idx ON ${TABLE} (user_id, id DESC)`)
  } finally {
    await client.end()
  }
  await waitCaughtUp()
}

/** Waits until both replicas have replayed the primary's current position (at most `timeoutMs`). */
export async function waitCaughtUp(timeoutMs = 60_000) {
  const primary = await connect(PG.primaryPort)
  const replicas = await Promise.all([connect(PG.replica0Port), connect(PG.replica1Port)])
  try {
    const { rows } = await primary.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')
    const target = rows[0].lsn
    const deadline = Date.now() + timeoutMs
    for (const replica of replicas) {
      for (;;) {
        const r = await replica.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [target])
        if (r.rows[0].ok) break
        if (Date.now() > deadline) throw new Error(`a replica did not replay ${target} within ${timeoutMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  } finally {
    await Promise.all([primary, ...replicas].map((c) => c.end().catch(() => {})))
  }
}

/** `{ node, postgres }` version strings, for result headers. */
export async function versions() {
  const client = await connect(PG.primaryPort)
  try {
    const { rows } = await client.query('SHOW server_version')
    return { node: process.version, postgres: rows[0].server_version }
  } finally {
    await client.end()
  }
}
