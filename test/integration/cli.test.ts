/**
 * The `pindb` command, built (`npm run build`) and run as the bin runs it: `node dist/cli/index.js`.
 * `doctor` runs against the real test bed (PostgreSQL primary + 2 streaming replicas, MariaDB
 * primary + GTID replica) with config modules written to a temp directory; `explain` needs no server.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { positionReached } from '../../src/position.js'
import { setMariaDbDelay, setPgDelay, testbed, waitForMariaDbReplica, waitForPgReplicas } from '../support/testbed.js'

const root = join(import.meta.dirname, '..', '..')
const bin = join(root, 'dist', 'cli', 'index.js')
const pindbUrl = pathToFileURL(join(root, 'dist', 'index.js')).href
const tb = testbed()
const pgBase = { host: '127.0.0.1', user: 'postgres', database: 'pindb' }
const myBase = { host: '127.0.0.1', user: 'root', password: '', database: 'pindb' }

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], options: { cwd?: string; input?: string; script?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [options.script ?? bin, ...args], { cwd: options.cwd ?? dir, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
    child.stdin?.end(options.input ?? '')
  })
}

interface AliasJson {
  alias: string; expected: string; actual: string; reachable: boolean; follows?: boolean | null; writes?: string
  lag?: { ms: number | null; atLeast?: boolean; basis?: string; bytes?: number | null; transactions?: number | null }; problems: string[]; warnings: string[]
}
interface DoctorJson { ok: boolean; driver: string; aliases: AliasJson[]; problems: string[]; verdict: string }

const doctorJson = (r: Run): DoctorJson => JSON.parse(r.stdout) as DoctorJson
const alias = (report: DoctorJson, name: string): AliasJson => report.aliases.find((a) => a.alias === name)!

let dir = ''

/** Writes a config module into the temp directory. */
function fixture(name: string, source: string): string {
  writeFileSync(join(dir, name), source)
  return name
}

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pindb-cli-'))
  // `npm test` builds dist/ once before running the Node lines (several at once): rebuilding it
  // here would race with the other lines reading it.
  if (process.env['PINDB_DIST_BUILT'] === '1' && existsSync(bin)) return
  // Asynchronous, so that the worker keeps answering vitest while tsc runs (a blocking build of
  // over a minute on a loaded machine made vitest report "Timeout calling onTaskUpdate").
  const out = await new Promise<{ failed: boolean; stdout: string }>((resolve) => {
    execFile('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => resolve({ failed: err !== null, stdout }))
  })
  // tsc emits despite type errors; only errors in the CLI itself (or no output) fail this file.
  if (out.failed && (/src\/cli\//.test(out.stdout) || !existsSync(bin))) throw new Error(`npm run build failed:\n${out.stdout}`)
}, 180_000)

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('pindb --help / --version', () => {
  it('prints the version of package.json and help with the exit codes', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` })
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/doctor[\s\S]*explain[\s\S]*Exit codes:[\s\S]*3 {2}could not check/)
    expect((await run(['doctor', '--help'])).stdout).toContain('--max-lag-ms')
    expect((await run(['explain', '--help'])).stdout).toContain('--expect read|write')
    expect((await run(['frobnicate'])).code).toBe(2)
  })
})

describe('pindb doctor (PostgreSQL)', () => {
  it('passes a correct topology (default ./pindb.config.mjs exporting a PinDb instance)', async () => {
    const cwd = mkdtempSync(join(dir, 'good-'))
    writeFileSync(join(cwd, 'pindb.config.mjs'), `import { createPinDb } from '${pindbUrl}'
export const driver = 'pg'
export default createPinDb({
  primaries: { default: ${JSON.stringify({ ...pgBase, port: tb.pg.primary.port })} },
  replicas: { default: [{ port: ${tb.pg.replicas[0].port} }, { port: ${tb.pg.replicas[1].port} }] },
})
`)
    const r = await run(['doctor', '--json', '--max-lag-ms', '600000'], { cwd })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = doctorJson(r)
    expect(report).toMatchObject({ ok: true, driver: 'pg', problems: [] })
    expect(alias(report, 'default')).toMatchObject({ expected: 'primary', actual: 'primary', reachable: true })
    for (const name of ['default-0', 'default-1']) {
      const replica = alias(report, name)
      expect(replica).toMatchObject({ expected: 'replica', actual: 'replica', reachable: true, follows: true })
      expect(replica.lag?.bytes).toEqual(expect.any(Number))
    }
    const table = await run(['doctor', '--max-lag-ms', '600000'], { cwd })
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/ALIAS\s+SET\s+ENDPOINT\s+EXPECTED\s+ACTUAL\s+STATUS\s+LAG\s+FOLLOWS/)
    expect(table.stdout).toMatch(/^OK: 3 aliases checked/m)
  })

  it('fails a misrouted topology: a "primary" in recovery, a replica following another server, a "replica" that is the primary', async () => {
    const config = fixture('pg-wrong.mjs', `export const driver = 'pg'
const base = ${JSON.stringify(pgBase)}
export default {
  primaries: { default: { ...base, port: ${tb.pg.primary.port} }, other: { ...base, port: ${tb.pg.replicas[0].port} } },
  replicas: { default: [{ port: ${tb.pg.primary.port} }], other: [{ port: ${tb.pg.replicas[1].port} }] },
}
`)
    const r = await run(['doctor', '--config', config, '--json'])
    expect(r.code).toBe(1)
    const report = doctorJson(r)
    expect(report.ok).toBe(false)
    expect(alias(report, 'other')).toMatchObject({ expected: 'primary', actual: 'replica' })
    expect(alias(report, 'other').problems.join()).toMatch(/in recovery/)
    expect(alias(report, 'other-0')).toMatchObject({ actual: 'replica', follows: false })
    expect(alias(report, 'other-0').problems.join()).toMatch(/not its primary "other"/)
    expect(alias(report, 'default-0')).toMatchObject({ expected: 'replica', actual: 'primary', follows: false })
    expect(alias(report, 'default-0').problems.join()).toMatch(/is not a replica.*same server as "default"/)
    const table = await run(['doctor', '--config', config])
    expect(table.code).toBe(1)
    expect(table.stdout).toMatch(/^FAIL: /m)
    expect(table.stdout).toContain('other: is configured as a primary but is in recovery')
  })

  it('fails an unreachable alias (closed port)', async () => {
    const port = await closedPort()
    const config = fixture('pg-unreachable.mjs', `export const driver = 'pg'
export default {
  primaries: { default: ${JSON.stringify({ ...pgBase, port: tb.pg.primary.port })} },
  replicas: { default: [{ port: ${tb.pg.replicas[0].port} }, { port: ${port} }] },
  unmanaged: { reports: ${JSON.stringify({ ...pgBase, port: tb.pg.primary.port })} },
}
`)
    const r = await run(['doctor', '--config', config, '--json', '--timeout', '2000', '--max-lag-ms', '600000'])
    expect(r.code).toBe(1)
    const report = doctorJson(r)
    expect(alias(report, 'default-1')).toMatchObject({ reachable: false, actual: 'unknown' })
    expect(report.problems).toEqual([expect.stringMatching(/^default-1: unreachable: .*ECONNREFUSED/)])
    expect(alias(report, 'reports')).toMatchObject({ expected: 'unmanaged', actual: 'primary', reachable: true, problems: [] })
  })
})

describe('pindb doctor (MariaDB)', () => {
  it('passes the GTID primary/replica pair (options object exported as "pindb")', async () => {
    const config = fixture('maria.mjs', `export const driver = 'mysql2'
export const pindb = {
  primaries: { default: ${JSON.stringify({ ...myBase, port: tb.mariadb.primary.port, connectionLimit: 2 })} },
  replicas: { default: [{ port: ${tb.mariadb.replica.port} }] },
}
`)
    const r = await run(['doctor', '--config', config, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = doctorJson(r)
    expect(alias(report, 'default')).toMatchObject({ actual: 'primary', problems: [] })
    expect(alias(report, 'default-0')).toMatchObject({ actual: 'replica', follows: true, problems: [] })
    expect(alias(report, 'default-0').lag?.transactions).toEqual(expect.any(Number))
  })

  it('fails a "replica" that is the primary itself', async () => {
    const config = fixture('maria-wrong.mjs', `export const driver = 'mysql2'
export default {
  primaries: { default: ${JSON.stringify({ ...myBase, port: tb.mariadb.primary.port })} },
  replicas: { default: [{ port: ${tb.mariadb.primary.port} }] },
}
`)
    const r = await run(['doctor', '--config', config, '--json'])
    expect(r.code).toBe(1)
    expect(alias(doctorJson(r), 'default-0').problems.join()).toMatch(/is not a replica/)
  })
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function pgPrimary<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ ...tb.pg.primary, connectionTimeoutMillis: 5000 })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** Waits until PG replica 1 has replayed everything the primary has now (bounded). */
async function pgReplica1CaughtUp(timeoutMs: number): Promise<void> {
  const lsn = await pgPrimary(async (c) => (await c.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn)
  const r = new pg.Client({ ...tb.pg.replicas[1], connectionTimeoutMillis: 5000 })
  await r.connect()
  try {
    const deadline = Date.now() + timeoutMs
    while ((await r.query<{ ok: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0]!.ok !== true) {
      if (Date.now() > deadline) throw new Error('replica 1 did not catch up')
      await sleep(50)
    }
  } finally {
    await r.end()
  }
}

describe('regression: pindb doctor reported false lag (PostgreSQL)', () => {
  const pgConfig = (): string => fixture('pg-lag.mjs', `export const driver = 'pg'
export default {
  primaries: { default: ${JSON.stringify({ ...pgBase, port: tb.pg.primary.port })} },
  replicas: { default: [{ port: ${tb.pg.replicas[0].port} }, { port: ${tb.pg.replicas[1].port} }] },
}
`)

  // Delays are a few seconds so that the doctor (a new node process on a loaded machine) starts while the replica is behind.
  it('"lags 56 s … FAIL" for a replica 3 s behind after one INSERT on an idle database: it measured the time since the last replayed transaction', async () => {
    await pgPrimary((c) => c.query('CREATE TABLE IF NOT EXISTS hard_doctor_lag (id serial PRIMARY KEY, at timestamptz DEFAULT now())'))
    await setPgDelay(6000)
    try {
      await pgPrimary((c) => c.query('INSERT INTO hard_doctor_lag DEFAULT VALUES'))
      await pgReplica1CaughtUp(15_000)
      await sleep(4000) // idle: the last replayed transaction is now > 10 s old on replica 1
      const config = pgConfig()
      // Idle and caught up: 0, although the last transaction is old.
      const idle = await run(['doctor', '--config', config, '--json', '--max-lag-ms', '8000'])
      expect(idle.stderr).toBe('')
      // (Not always exactly 0: a background commit on the primary — autovacuum — can put the delayed
      // replica briefly behind again; the old measure read more than 10 s here.)
      const idleLag = alias(doctorJson(idle), 'default-1').lag
      expect(idleLag?.atLeast).toBe(false)
      expect(idleLag?.ms).toBeLessThan(6500)
      // One INSERT: replica 1 is behind for 6 s. The old measure read now() - last replay > 10 s > 8 s: FAIL.
      await pgPrimary((c) => c.query('INSERT INTO hard_doctor_lag DEFAULT VALUES'))
      const r = await run(['doctor', '--config', config, '--json', '--max-lag-ms', '8000'])
      const report = doctorJson(r)
      const lagging = alias(report, 'default-1')
      expect(report.problems).toEqual([])
      expect(r.code).toBe(0)
      expect(lagging.lag?.atLeast).toBe(false)
      expect(lagging.lag?.ms).toBeGreaterThan(0)
      expect(lagging.lag?.ms).toBeLessThanOrEqual(6500)
      expect(lagging.lag?.basis).toMatch(/^was behind; replayed the primary's position/)
      expect(alias(report, 'default-0').lag?.ms).toBeLessThan(1000)
      // A hot standby refuses every write: the doctor says so.
      expect(lagging.writes).toMatch(/^refused: a hot standby/)
    } finally {
      await setPgDelay(0)
    }
  }, 60_000)

  it('a replica really behind more than --max-lag-ms is a problem: "lags more than …", after watching it that long', async () => {
    await setPgDelay(6000)
    try {
      await pgPrimary((c) => c.query('INSERT INTO hard_doctor_lag DEFAULT VALUES'))
      const r = await run(['doctor', '--config', pgConfig(), '--json', '--max-lag-ms', '1000'])
      expect(r.code).toBe(1)
      const lagging = alias(doctorJson(r), 'default-1')
      expect(lagging.lag).toMatchObject({ atLeast: true })
      expect(lagging.lag!.ms).toBeGreaterThan(1000)
      expect(lagging.problems).toEqual([expect.stringMatching(/^lags more than 1\.\d s behind its primary \(more than --max-lag-ms 1000\): was behind; had not replayed/)])
      expect(alias(doctorJson(r), 'default-0').problems).toEqual([])
    } finally {
      await setPgDelay(0)
      await waitForPgReplicas()
    }
  }, 60_000)
})

describe('pindb doctor (MariaDB): lag from GTID positions, and users that can write to a replica', () => {
  const rootSocket = { socketPath: join(tb.dir, 'mariadb', 'run', 'primary.sock'), user: 'root' }
  const users = ['pindb_hard_roa', 'pindb_hard_plain']

  async function asRoot(sql: string[]): Promise<void> {
    const c = await mysql.createConnection(rootSocket)
    try {
      for (const q of sql) await c.query(q)
    } finally {
      await c.end()
    }
  }

  /** Waits until the replica has applied everything the primary has now (bounded). */
  async function myReplicaCaughtUp(timeoutMs: number): Promise<void> {
    const p = await mysql.createConnection({ ...tb.mariadb.primary })
    const r = await mysql.createConnection({ ...tb.mariadb.replica })
    try {
      const [[{ pos }]] = (await p.query('SELECT @@gtid_binlog_pos AS pos')) as unknown as [[{ pos: string }]]
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const [[{ have }]] = (await r.query('SELECT @@gtid_slave_pos AS have')) as unknown as [[{ have: string }]]
        if (positionReached(have, pos)) return
        if (Date.now() > deadline) throw new Error('the MariaDB replica did not catch up')
        await sleep(50)
      }
    } finally {
      await p.end()
      await r.end()
    }
  }

  const myConfig = (name: string, user: string, extra = ''): string => fixture(name, `export const driver = 'mysql2'
export default {
  primaries: { default: ${JSON.stringify({ host: '127.0.0.1', user, password: '', database: 'pindb', port: tb.mariadb.primary.port })} },
  replicas: { default: [{ port: ${tb.mariadb.replica.port} }] },${extra}
}
`)

  beforeAll(async () => {
    await asRoot([
      ...users.map((u) => `DROP USER IF EXISTS '${u}'@'%'`),
      ...users.map((u) => `CREATE USER '${u}'@'%'`),
      ...users.map((u) => `GRANT SELECT, INSERT, SLAVE MONITOR ON *.* TO '${u}'@'%'`),
      "GRANT READ_ONLY ADMIN ON *.* TO 'pindb_hard_roa'@'%'",
      'CREATE TABLE IF NOT EXISTS pindb.hard_doctor_lag (id INT AUTO_INCREMENT PRIMARY KEY)',
    ])
    await waitForMariaDbReplica()
  }, 30_000)

  afterAll(async () => {
    await asRoot(users.map((u) => `DROP USER IF EXISTS '${u}'@'%'`)).catch(() => {})
  })

  it('regression: a user with READ ONLY ADMIN bypasses read_only on the replica, so a misrouted write would succeed there → a problem, exit 1', async () => {
    const r = await run(['doctor', '--config', myConfig('maria-roa.mjs', 'pindb_hard_roa'), '--json'])
    expect(r.code).toBe(1)
    const replica = alias(doctorJson(r), 'default-0')
    expect(replica.writes).toMatch(/^ALLOWED for the configured user pindb_hard_roa@%: it has READ ONLY ADMIN on \*\.\*/)
    expect(replica.problems).toEqual([expect.stringMatching(/^accepts writes from the configured user pindb_hard_roa@% despite @@read_only = 1: it has READ ONLY ADMIN/)])
    const table = await run(['doctor', '--config', 'maria-roa.mjs'])
    expect(table.stdout).toMatch(/default-0: accepts writes from the configured user/)
  })

  it('a user without a bypassing privilege passes; the report says a misrouted write would be refused', async () => {
    const r = await run(['doctor', '--config', myConfig('maria-plain.mjs', 'pindb_hard_plain'), '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const replica = alias(doctorJson(r), 'default-0')
    expect(replica.writes).toBe('refused: @@read_only = 1, and the configured user pindb_hard_plain@% cannot bypass it')
    expect(replica.problems).toEqual([])
  })

  it('regression: lag is measured from GTID positions: 0 when idle, the catch-up time when behind (MASTER_DELAY), a problem above --max-lag-ms', async () => {
    const config = myConfig('maria-lag.mjs', 'pindb_hard_plain')
    await setMariaDbDelay(5)
    try {
      await waitForMariaDbReplica()
      await myReplicaCaughtUp(15_000)
      const idle = await run(['doctor', '--config', config, '--json'])
      expect(alias(doctorJson(idle), 'default-0').lag).toMatchObject({ ms: 0, atLeast: false, transactions: 0 })
      await asRoot(['INSERT INTO pindb.hard_doctor_lag () VALUES ()'])
      const behind = await run(['doctor', '--config', config, '--json', '--max-lag-ms', '10000'])
      expect(behind.code).toBe(0)
      const lag = alias(doctorJson(behind), 'default-0').lag!
      expect(lag.atLeast).toBe(false)
      expect(lag.ms).toBeGreaterThan(0)
      expect(lag.ms).toBeLessThanOrEqual(5500)
      await asRoot(['INSERT INTO pindb.hard_doctor_lag () VALUES ()'])
      const tooFar = await run(['doctor', '--config', config, '--json', '--max-lag-ms', '500'])
      expect(tooFar.code).toBe(1)
      expect(alias(doctorJson(tooFar), 'default-0').problems).toEqual([expect.stringMatching(/^lags more than \d+ ms behind its primary \(more than --max-lag-ms 500\)/)])
    } finally {
      await setMariaDbDelay(0)
      await waitForMariaDbReplica()
    }
  }, 60_000)
})

describe('pindb doctor: usage and config errors', () => {
  it('exits 2 for a missing config module, an invalid config, an unknown driver and bad flags', async () => {
    const missing = await run(['doctor'], { cwd: mkdtempSync(join(dir, 'empty-')) })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/no config module: looked for \.\/pindb\.config\.mjs/)
    expect((await run(['doctor', '--config', 'nope.mjs'])).code).toBe(2)
    fixture('invalid.mjs', `export const driver = 'pg'\nexport default { primaries: { main: {} }, replicas: { main: [] } }\n`)
    const invalid = await run(['doctor', '--config', 'invalid.mjs'])
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain('[pindb] `primaries`: declare a primary named "default"')
    fixture('no-driver.mjs', `export default { primaries: { default: { host: 'db', port: 6000 } }, replicas: { default: [] } }\n`)
    const noDriver = await run(['doctor', '--config', 'no-driver.mjs'])
    expect(noDriver.code).toBe(2)
    expect(noDriver.stderr).toContain("export const driver = 'pg'")
    expect((await run(['doctor', '--config', 'no-driver.mjs', '--timeout', 'soon'])).code).toBe(2)
    expect((await run(['doctor', '--bogus'])).code).toBe(2)
  })

  it('exits 3 when the driver is not installed', async () => {
    const pkg = mkdtempSync(join(dir, 'pkg-'))
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true })
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pindb', version: '9.9.9', type: 'module' }))
    const cwd = mkdtempSync(join(dir, 'app-'))
    writeFileSync(join(cwd, 'pindb.config.mjs'), `export const driver = 'mysql2'\nexport default { primaries: { default: { port: 1 } }, replicas: { default: [] } }\n`)
    const script = join(pkg, 'dist', 'cli', 'index.js')
    expect((await run(['--version'], { cwd, script })).stdout).toBe('9.9.9\n')
    const r = await run(['doctor'], { cwd, script })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/cannot import "mysql2\/promise".*npm install mysql2/)
  })
})

describe('pindb explain', () => {
  const explain = async (...args: string[]): Promise<Run & { json: Record<string, unknown> & { route: Record<string, unknown> } }> => {
    const r = await run(['explain', '--json', ...args])
    return { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> & { route: Record<string, unknown> } }
  }

  it('classifies and routes like the adapters', async () => {
    expect((await explain('SELECT * FROM notes'))).toMatchObject({ code: 0, json: { kind: 'read', reason: 'select', route: { target: 'replica', pinsInGreedy: false } } })
    expect((await explain('UPDATE notes SET body = 1'))).toMatchObject({ code: 0, json: { kind: 'write', route: { target: 'primary', pinsInGreedy: true, needsPinInStrict: true } } })
    expect((await explain('WITH d AS (DELETE FROM notes RETURNING id) SELECT * FROM d')).json).toMatchObject({ kind: 'write', reason: 'writable-cte', route: { target: 'primary' } })
    expect((await explain('SELECT * FROM notes WHERE id = 1 FOR UPDATE')).json).toMatchObject({ kind: 'write', reason: 'locking-read', route: { target: 'primary' } })
    expect((await explain('/* pindb:primary */ SELECT * FROM notes')).json).toMatchObject({ hint: 'primary', route: { target: 'primary', pinsInGreedy: false } })
    expect((await explain('/* pindb:replica */ SELECT * FROM notes')).json).toMatchObject({ kind: 'read', hint: 'replica', route: { target: 'replica' } })
    expect((await explain('SET search_path = app')).json).toMatchObject({ session: 'set', route: { target: 'primary', pinsInGreedy: false, anchors: 'session' } })
    expect((await explain('SELECT audit_log(1)', '--write-functions', 'audit_log')).json).toMatchObject({ kind: 'write' })
    expect((await explain('SELECT GET_LOCK("x", 1)', '--dialect', 'mysql')).json).toMatchObject({ dialect: 'mysql', kind: 'write' })
  })

  it('prints a readable summary, reads SQL from stdin with -, and --expect guards the classification', async () => {
    const text = await run(['explain', 'SELECT 1 FOR UPDATE'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^write {2}\(locking-read\)\n[\s\S]*routes to +the primary/)
    expect(await run(['explain', '-'], { input: 'SELECT 1' })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^read/) })
    const mismatch = await run(['explain', '--expect', 'read', 'DELETE FROM notes'])
    expect(mismatch.code).toBe(1)
    expect(mismatch.stderr).toContain('expected read')
    expect((await run(['explain', '--expect', 'write', 'DELETE FROM notes'])).code).toBe(0)
    expect((await run(['explain', '--expect', 'read', 'SELECT 1'])).code).toBe(0)
    expect((await run(['explain'])).code).toBe(2)
    expect((await run(['explain', '--dialect', 'oracle', 'SELECT 1'])).code).toBe(2)
  })
})
