/**
 * Proves that the local replication test bed (scripts/testbed.sh) works: every node answers
 * on its port, replicas are replicas, rows replicate, apply delays delay, a stopped replica
 * comes back streaming, Redis answers. Starts the bed itself if `status` fails.
 */
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import mysql from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  setMariaDbDelay,
  setPgDelay,
  startNode,
  stopNode,
  testbed,
  testbedCommand,
  waitForMariaDbReplica,
  waitForPgReplicas,
  type MyNode,
  type PgNode,
} from '../support/testbed.js'

const tb = testbed()
const [replica0, replica1] = tb.pg.replicas

async function pgQuery<R extends pg.QueryResultRow>(node: PgNode, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ ...node, connectionTimeoutMillis: 5_000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<R>(sql, params)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

async function myQuery(node: MyNode, sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const conn = await mysql.createConnection({ ...node, connectTimeout: 5_000 })
  try {
    const [rows] = await conn.query<RowDataPacket[]>(sql, params)
    return rows
  } finally {
    await conn.end().catch(() => {})
  }
}

async function pgHasNote(node: PgNode, note: string): Promise<boolean> {
  const rows = await pgQuery<{ n: number }>(node, 'select count(*)::int as n from testbed_probe where note = $1', [note])
  return rows[0]?.n === 1
}

async function myHasNote(node: MyNode, note: string): Promise<boolean> {
  const rows = await myQuery(node, 'SELECT COUNT(*) AS n FROM testbed_probe WHERE note = ?', [note])
  return Number(rows[0]?.['n']) === 1
}

/** Polls until `check` is true; returns the elapsed milliseconds. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(20)
  }
}

function redisPing(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let data = ''
    socket.setTimeout(3_000, () => socket.destroy(new Error('redis PING timed out')))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      if (data.includes('\r\n')) {
        socket.end()
        resolve(data.trim())
      }
    })
    socket.on('error', reject)
  })
}

beforeAll(async () => {
  try {
    testbedCommand('status')
  } catch {
    testbedCommand('start')
  }
  await setPgDelay(0)
  await setMariaDbDelay(0)
  await pgQuery(tb.pg.primary, 'create table if not exists testbed_probe (id bigserial primary key, note text not null)')
  await myQuery(
    tb.mariadb.primary,
    'CREATE TABLE IF NOT EXISTS testbed_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NOT NULL)',
  )
  await waitForPgReplicas()
  await waitForMariaDbReplica()
}, 120_000)

afterAll(async () => {
  await setPgDelay(0)
  await setMariaDbDelay(0)
}, 60_000)

describe('testbed: PostgreSQL', () => {
  it('each node answers on its own port; replicas are in recovery', async () => {
    const nodes = [
      { node: tb.pg.primary, recovery: false },
      { node: replica0, recovery: true },
      { node: replica1, recovery: true },
    ]
    for (const { node, recovery } of nodes) {
      const rows = await pgQuery<{ port: number; rec: boolean; db: string }>(
        node,
        'select inet_server_port() as port, pg_is_in_recovery() as rec, current_database() as db',
      )
      expect(rows[0]).toEqual({ port: node.port, rec: recovery, db: 'pindb' })
    }
  })

  it('both replicas are streaming', async () => {
    const rows = await pgQuery<{ application_name: string; state: string }>(
      tb.pg.primary,
      'select application_name, state from pg_stat_replication order by application_name',
    )
    expect(rows).toEqual([
      { application_name: 'pg-replica-0', state: 'streaming' },
      { application_name: 'pg-replica-1', state: 'streaming' },
    ])
  })

  it('a row written on the primary appears on both replicas', async () => {
    const note = randomUUID()
    await pgQuery(tb.pg.primary, 'insert into testbed_probe (note) values ($1)', [note])
    await waitForPgReplicas()
    expect(await pgHasNote(replica0, note)).toBe(true)
    expect(await pgHasNote(replica1, note)).toBe(true)
  })

  it('replicas refuse writes', async () => {
    await expect(pgQuery(replica0, "insert into testbed_probe (note) values ('nope')")).rejects.toThrow(/read-only/)
  })

  it('recovery_min_apply_delay on replica 1 delays it, replica 0 is not delayed', async () => {
    await setPgDelay(1500)
    const rows = await pgQuery<{ setting: string }>(
      replica1,
      "select setting from pg_settings where name = 'recovery_min_apply_delay'",
    )
    expect(rows[0]?.setting).toBe('1500')

    const note = randomUUID()
    await pgQuery(tb.pg.primary, 'insert into testbed_probe (note) values ($1)', [note])
    const written = Date.now()
    await sleep(200)
    expect(await pgHasNote(replica1, note)).toBe(false)
    expect(await pgHasNote(replica0, note)).toBe(true)

    await eventually(() => pgHasNote(replica1, note), 3_000)
    expect(Date.now() - written).toBeGreaterThanOrEqual(1_300)

    await setPgDelay(0)
    const fast = randomUUID()
    await pgQuery(tb.pg.primary, 'insert into testbed_probe (note) values ($1)', [fast])
    const lag = await eventually(() => pgHasNote(replica1, fast), 1_000)
    expect(lag).toBeLessThan(1_000)
  })

  it('a stopped replica comes back streaming after startNode', async () => {
    await stopNode('pg-replica-0')
    await expect(pgQuery(replica0, 'select 1')).rejects.toThrow()
    const note = randomUUID()
    await pgQuery(tb.pg.primary, 'insert into testbed_probe (note) values ($1)', [note])

    await startNode('pg-replica-0')
    const rows = await pgQuery<{ state: string }>(
      tb.pg.primary,
      "select state from pg_stat_replication where application_name = 'pg-replica-0'",
    )
    expect(rows).toEqual([{ state: 'streaming' }])
    await waitForPgReplicas()
    expect(await pgHasNote(replica0, note)).toBe(true)
  })
})

describe('testbed: MariaDB', () => {
  it('each node answers on its own port; the replica is read-only', async () => {
    const p = await myQuery(tb.mariadb.primary, 'SELECT @@port AS port, @@read_only AS ro, DATABASE() AS db')
    expect(p[0]).toMatchObject({ port: tb.mariadb.primary.port, ro: 0, db: 'pindb' })
    const r = await myQuery(tb.mariadb.replica, 'SELECT @@port AS port, @@read_only AS ro, DATABASE() AS db')
    expect(r[0]).toMatchObject({ port: tb.mariadb.replica.port, ro: 1, db: 'pindb' })
  })

  it('root over TCP cannot write on the replica (READ_ONLY ADMIN revoked)', async () => {
    await expect(myQuery(tb.mariadb.replica, "INSERT INTO testbed_probe (note) VALUES ('nope')")).rejects.toThrow(
      /read-only/,
    )
  })

  it('a row written on the primary replicates', async () => {
    const note = randomUUID()
    await myQuery(tb.mariadb.primary, 'INSERT INTO testbed_probe (note) VALUES (?)', [note])
    await waitForMariaDbReplica()
    expect(await myHasNote(tb.mariadb.replica, note)).toBe(true)
  })

  it('MASTER_DELAY makes the replica lag', async () => {
    await setMariaDbDelay(2)
    const note = randomUUID()
    await myQuery(tb.mariadb.primary, 'INSERT INTO testbed_probe (note) VALUES (?)', [note])
    const written = Date.now()
    await sleep(300)
    expect(await myHasNote(tb.mariadb.replica, note)).toBe(false)
    await eventually(() => myHasNote(tb.mariadb.replica, note), 4_000)
    // MASTER_DELAY counts from the event's timestamp, which has one-second resolution
    expect(Date.now() - written).toBeGreaterThanOrEqual(900)

    await setMariaDbDelay(0)
    const fast = randomUUID()
    await myQuery(tb.mariadb.primary, 'INSERT INTO testbed_probe (note) VALUES (?)', [fast])
    await waitForMariaDbReplica(2_000)
    expect(await myHasNote(tb.mariadb.replica, fast)).toBe(true)
  })
})

describe('testbed: Redis', () => {
  it('answers PING', async () => {
    expect(await redisPing(tb.redis.host, tb.redis.port)).toBe('+PONG')
  })
})
