/**
 * Access to the local replication test bed started by `scripts/testbed.sh` (PostgreSQL primary +
 * 2 streaming replicas, MariaDB primary + GTID replica, Redis). Integration tests import this
 * module; it never starts anything by itself except through the explicit helpers below.
 *
 * Ports and the directory come from the same environment variables as the script
 * (`PINDB_TESTBED_DIR`, `PINDB_PG_PORT`, `PINDB_PG_REPLICA0_PORT`, `PINDB_PG_REPLICA1_PORT`,
 * `PINDB_MARIADB_PORT`, `PINDB_MARIADB_REPLICA_PORT`, `PINDB_REDIS_PORT`), with the same defaults.
 *
 * Reading after a wait: open a new transaction (or use autocommit). A transaction that was
 * already open on a replica keeps its old snapshot even after the position has been reached.
 */
import { execFile, execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import mysql from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'

export interface PgNode {
  host: '127.0.0.1'
  port: number
  user: 'postgres'
  database: 'pindb'
}

export interface MyNode {
  host: '127.0.0.1'
  port: number
  user: 'root'
  password: ''
  database: 'pindb'
}

export interface TestbedInfo {
  dir: string
  pg: { primary: PgNode; replicas: [PgNode, PgNode] }
  mariadb: { primary: MyNode; replica: MyNode }
  redis: { host: string; port: number }
}

/** Nodes that {@link stopNode} / {@link startNode} accept. */
export type TestbedNodeName = 'pg-replica-0' | 'pg-replica-1' | 'pg-primary' | 'mariadb-replica' | 'mariadb-primary'

const SCRIPT = fileURLToPath(new URL('../../scripts/testbed.sh', import.meta.url))
/** Upper bound for one script invocation (a fresh `start` takes a few seconds). */
const SCRIPT_TIMEOUT_MS = 180_000

function envPort(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`${name} must be a TCP port, got ${JSON.stringify(raw)}`)
  }
  return port
}

function pgNode(port: number): PgNode {
  return { host: '127.0.0.1', port, user: 'postgres', database: 'pindb' }
}

function myNode(port: number): MyNode {
  return { host: '127.0.0.1', port, user: 'root', password: '', database: 'pindb' }
}

/** Connection facts of the test bed, from the environment and defaults. Does no I/O. */
export function testbed(): TestbedInfo {
  const dir = (process.env['PINDB_TESTBED_DIR'] || '/tmp/pindb-tb').replace(/\/+$/, '')
  const pgPort = envPort('PINDB_PG_PORT', 25_432)
  const myPort = envPort('PINDB_MARIADB_PORT', 23_306)
  return {
    dir,
    pg: {
      primary: pgNode(pgPort),
      replicas: [
        pgNode(envPort('PINDB_PG_REPLICA0_PORT', pgPort + 1)),
        pgNode(envPort('PINDB_PG_REPLICA1_PORT', pgPort + 2)),
      ],
    },
    mariadb: {
      primary: myNode(myPort),
      replica: myNode(envPort('PINDB_MARIADB_REPLICA_PORT', myPort + 1)),
    },
    redis: { host: '127.0.0.1', port: envPort('PINDB_REDIS_PORT', 26_379) },
  }
}

function failure(args: readonly string[], err: unknown, stdout: string, stderr: string): Error {
  const e = err as { status?: number | null; code?: number | string | null; signal?: string | null; message?: string }
  const exit = e.status ?? e.code ?? e.signal ?? 'unknown'
  const detail = [stderr.trim(), stdout.trim()].filter(Boolean).join('\n') || e.message || String(err)
  return new Error(`scripts/testbed.sh ${args.join(' ')} failed (exit ${exit}):\n${detail}`, { cause: err })
}

function text(v: unknown): string {
  if (typeof v === 'string') return v
  if (v instanceof Buffer) return v.toString('utf8')
  return ''
}

/**
 * Runs `scripts/testbed.sh ...args` synchronously and returns its stdout. Throws an error that
 * carries the script's stderr when it exits non-zero.
 */
export function testbedCommand(...args: string[]): string {
  try {
    return execFileSync('bash', [SCRIPT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: SCRIPT_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    })
  } catch (err) {
    const e = err as { stdout?: unknown; stderr?: unknown }
    throw failure(args, err, text(e.stdout), text(e.stderr))
  }
}

/** Async twin of {@link testbedCommand}, so the event loop (and open connections) keep running. */
function runScript(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, ...args],
      { encoding: 'utf8', timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(failure(args, err, stdout, stderr))
        else resolve(stdout)
      },
    )
  })
}

async function withPg<T>(node: PgNode, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...node, connectionTimeoutMillis: 5_000 })
  client.on('error', () => {}) // a node stopped under us must not crash the process
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

async function withMy<T>(node: MyNode, fn: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await mysql.createConnection({ ...node, connectTimeout: 5_000 })
  conn.on('error', () => {})
  try {
    return await fn(conn)
  } finally {
    await conn.end().catch(() => {})
  }
}

async function pollUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await check()) return
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`testbed: timed out after ${timeoutMs} ms waiting for ${what}${why}`)
    }
    await sleep(10)
  }
}

async function pgDelaySetting(node: PgNode): Promise<number> {
  return withPg(node, async (c) => {
    const r = await c.query<{ setting: string }>(
      "select setting from pg_settings where name = 'recovery_min_apply_delay'",
    )
    return Number(r.rows[0]?.setting ?? 0)
  })
}

/**
 * Sets `recovery_min_apply_delay` of PostgreSQL replica 1 (the delayed one) in milliseconds;
 * 0 disables it. Persists across restarts. Resolves once the replica reports the new value.
 */
export async function setPgDelay(ms: number): Promise<void> {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`setPgDelay: expected an integer >= 0, got ${ms}`)
  await runScript('pg-delay', String(ms))
  const replica = testbed().pg.replicas[1]
  await pollUntil(`replica 1 to report recovery_min_apply_delay=${ms}`, 5_000, async () => {
    return (await pgDelaySetting(replica)) === ms
  })
  // The startup process gets the reload signal together with the backends; give it a moment.
  await sleep(30)
}

/** Sets `MASTER_DELAY` (seconds) on the MariaDB replica; 0 disables it. Persists across restarts. */
export async function setMariaDbDelay(seconds: number): Promise<void> {
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new Error(`setMariaDbDelay: expected an integer >= 0, got ${seconds}`)
  }
  await runScript('mariadb-delay', String(seconds))
  const status = await mariaDbSlaveStatus()
  if (Number(status['SQL_Delay']) !== seconds || status['Slave_SQL_Running'] !== 'Yes') {
    throw new Error(`setMariaDbDelay: replica reports SQL_Delay=${String(status['SQL_Delay'])}`)
  }
}

async function mariaDbSlaveStatus(): Promise<Record<string, unknown>> {
  return withMy(testbed().mariadb.replica, async (c) => {
    const [rows] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS')
    return (rows[0] ?? {}) as Record<string, unknown>
  })
}

/** SIGKILLs one node and all its processes (a crash). `startNode` recovers it. */
export async function killNode(name: TestbedNodeName): Promise<void> {
  await runScript('kill-node', name)
}

/** SIGSTOPs one node and all its processes: a hung server (TCP open, no answer). */
export async function pauseNode(name: TestbedNodeName): Promise<void> {
  await runScript('pause-node', name)
}

/** SIGCONTs a paused node. */
export async function resumeNode(name: TestbedNodeName): Promise<void> {
  await runScript('resume-node', name)
}

/** Stops one node (failover tests). Resolves once it is down. */
export async function stopNode(name: TestbedNodeName): Promise<void> {
  await runScript('stop-node', name)
}

/**
 * Starts one node again. Resolves once it accepts queries and replication is running again
 * (PostgreSQL: streaming in `pg_stat_replication`; MariaDB: both slave threads running).
 */
export async function startNode(name: TestbedNodeName): Promise<void> {
  await runScript('start-node', name)
  const tb = testbed()
  switch (name) {
    case 'pg-primary':
    case 'pg-replica-0':
    case 'pg-replica-1': {
      const node = name === 'pg-primary' ? tb.pg.primary : tb.pg.replicas[name === 'pg-replica-0' ? 0 : 1]
      await withPg(node, (c) => c.query('select 1'))
      const wanted = name === 'pg-primary' ? ['pg-replica-0', 'pg-replica-1'] : [name]
      await pollUntil(`${wanted.join(', ')} streaming`, 10_000, async () => {
        const r = await withPg(tb.pg.primary, (c) =>
          c.query<{ application_name: string }>(
            "select application_name from pg_stat_replication where state = 'streaming'",
          ),
        )
        const streaming = new Set(r.rows.map((row) => row.application_name))
        return wanted.every((w) => streaming.has(w))
      })
      return
    }
    case 'mariadb-replica': {
      await pollUntil('MariaDB replica threads running', 10_000, async () => {
        const s = await mariaDbSlaveStatus()
        return s['Slave_IO_Running'] === 'Yes' && s['Slave_SQL_Running'] === 'Yes'
      })
      return
    }
  }
}

const PG_SHORT_PAGE_HEADER = 24n
const PG_LONG_PAGE_HEADER = 40n

function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split('/')
  if (hi === undefined || lo === undefined) throw new Error(`bad LSN ${lsn}`)
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)
}

function formatLsn(v: bigint): string {
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`
}

/**
 * Waits until both PostgreSQL replicas have replayed the primary's current insert LSN
 * (captured when called, so it covers every commit that returned before). A delayed replica
 * needs its delay on top of `timeoutMs`; callers normally set the delay to 0 first.
 */
export async function waitForPgReplicas(timeoutMs = 10_000): Promise<void> {
  const tb = testbed()
  const target = await withPg(tb.pg.primary, async (c) => {
    const r = await c.query<{ lsn: string; seg: string; blk: string }>(
      `select pg_current_wal_insert_lsn()::text as lsn,
              (select setting from pg_settings where name = 'wal_segment_size') as seg,
              (select setting from pg_settings where name = 'wal_block_size') as blk`,
    )
    const row = r.rows[0]
    if (!row) throw new Error('waitForPgReplicas: no LSN from the primary')
    let lsn = parseLsn(row.lsn)
    // When the last record ends exactly on a page boundary, the insert position points past the
    // next page's header while a replica's replay position stops at the boundary. Wait for the
    // boundary instead, or an idle primary would make this wait for the next WAL record.
    const seg = BigInt(row.seg)
    const blk = BigInt(row.blk)
    if (lsn % seg === PG_LONG_PAGE_HEADER) lsn -= PG_LONG_PAGE_HEADER
    else if (lsn % blk === PG_SHORT_PAGE_HEADER) lsn -= PG_SHORT_PAGE_HEADER
    return formatLsn(lsn)
  })
  const delayMs = await pgDelaySetting(tb.pg.replicas[1]).catch(() => 0)
  await Promise.all(
    tb.pg.replicas.map((node, i) =>
      withPg(node, (c) =>
        pollUntil(`PG replica ${i} (port ${node.port}) to replay ${target}`, timeoutMs + (i === 1 ? delayMs : 0), async () => {
          const r = await c.query<{ ok: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as ok', [target])
          return r.rows[0]?.ok === true
        }),
      ),
    ),
  )
}

/**
 * Waits until the MariaDB replica has applied everything the primary binlogged so far
 * (`MASTER_GTID_WAIT(@@gtid_binlog_pos)`). The replica's MASTER_DELAY is added to `timeoutMs`.
 */
export async function waitForMariaDbReplica(timeoutMs = 10_000): Promise<void> {
  const tb = testbed()
  const pos = await withMy(tb.mariadb.primary, async (c) => {
    const [rows] = await c.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos')
    return String(rows[0]?.['pos'] ?? '')
  })
  if (pos === '') return
  const delayS = Number((await mariaDbSlaveStatus())['SQL_Delay'] ?? 0) || 0
  const waitS = (timeoutMs + delayS * 1000) / 1000
  const result = await withMy(tb.mariadb.replica, async (c) => {
    const [rows] = await c.query<RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [pos, waitS])
    return Number(rows[0]?.['r'])
  })
  if (result !== 0) {
    throw new Error(`waitForMariaDbReplica: replica did not reach GTID ${pos} within ${waitS}s (MASTER_GTID_WAIT=${result})`)
  }
}
