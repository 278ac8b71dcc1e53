/**
 * `pindb/mysql2` under faults, on the real MariaDB test bed: a hung (SIGSTOPped) replica, a query
 * killed by a DBA, a function that writes called by SELECT. Named after the defects they guard.
 */
import mysql from 'mysql2/promise'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, type PinDb, type PinDbOptions } from '../../src/index.js'
import { createMysqlPool, type PinDbMysqlPool } from '../../src/mysql2/index.js'
import { pauseNode, resumeNode, setMariaDbDelay, testbed, waitForMariaDbReplica } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.mariadb.primary.port
const REPLICA = tb.mariadb.replica.port
const base = { host: '127.0.0.1', user: 'root', password: '', database: 'pindb', connectionLimit: 4 }
const LIVENESS = { connectTimeoutMs: 500, probeAfterMs: 300, probeTimeoutMs: 300, recoverEveryMs: 200 }

const pools: PinDbMysqlPool[] = []
function setup(options: Partial<PinDbOptions> = {}): { pindb: PinDb; pool: PinDbMysqlPool } {
  const pindb = createPinDb({ primaries: { default: { ...base, port: PRIMARY } }, replicas: { default: [{ port: REPLICA }] }, unscopedWrites: 'ignore', ...options })
  const pool = createMysqlPool(pindb, { mysql, liveness: LIVENESS })
  pools.push(pool)
  return { pindb, pool }
}
const admin = mysql.createPool({ ...base, port: PRIMARY })
const portOf = async (pool: PinDbMysqlPool): Promise<number> => Number(((await pool.query('SELECT @@port AS port'))[0] as { port: unknown }[])[0]!.port)

beforeAll(async () => {
  await setMariaDbDelay(0)
  await admin.query('CREATE TABLE IF NOT EXISTS my_fault_notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)')
  // A function that writes, without DETERMINISTIC: both servers must accept it (the replica applies it from the binlog).
  for (const port of [PRIMARY, REPLICA]) {
    const root = await mysql.createConnection({ ...base, port })
    await root.query('SET GLOBAL log_bin_trust_function_creators = 1')
    await root.end()
  }
  await admin.query('DROP FUNCTION IF EXISTS make_my_note')
  await admin.query("CREATE FUNCTION make_my_note(b VARCHAR(200)) RETURNS INT NOT DETERMINISTIC MODIFIES SQL DATA BEGIN INSERT INTO my_fault_notes (body) VALUES (b); RETURN LAST_INSERT_ID(); END")
  await waitForMariaDbReplica()
})
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => {})))
})
afterAll(async () => {
  await admin.end()
})

describe('regression: a hung server hung every caller (MariaDB)', () => {
  it('8 callers reading from a SIGSTOPped replica move to the primary within the liveness bound; none fails', async () => {
    const { pindb, pool } = setup()
    expect(await pindb.run(() => portOf(pool))).toBe(REPLICA)
    await pauseNode('mariadb-replica')
    try {
      const results = await Promise.all(Array.from({ length: 8 }, async () => {
        const t0 = performance.now()
        const port = await pindb.run(() => portOf(pool)).catch((e: unknown) => e)
        return { port, ms: performance.now() - t0 }
      }))
      for (const r of results) expect(r.port).toBe(PRIMARY)
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(3_000)
    } finally {
      await resumeNode('mariadb-replica')
    }
  }, 30_000)
})

describe('regression: a query killed by a DBA was treated as a dead server (MariaDB)', () => {
  it('KILL QUERY on the replica reaches the caller (ER_QUERY_INTERRUPTED) and is not re-run on the primary', async () => {
    const { pindb, pool } = setup()
    const running = pindb.run(() => pool.query("SELECT SLEEP(5), 'pindb-kill-me' AS tag")).then(() => undefined, (e: unknown) => e)
    const replica = await mysql.createConnection({ ...base, port: REPLICA })
    try {
      for (let i = 0; i < 100; i++) {
        const [list] = await replica.query("SELECT id FROM information_schema.processlist WHERE info LIKE '%pindb-kill-me%' AND info NOT LIKE '%processlist%'")
        const id = (list as { id: number }[])[0]?.id
        if (id !== undefined) {
          await replica.query(`KILL QUERY ${Number(id)}`)
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 30))
      }
    } finally {
      await replica.end()
    }
    const err = await running
    // MariaDB ends a killed SLEEP() quietly (it returns 1) or with ER_QUERY_INTERRUPTED; either way it is not retried.
    if (err !== undefined) expect((err as { code?: string }).code).toBe('ER_QUERY_INTERRUPTED')
    expect(pindb.stats()['default']!.counters.reads).toBe(0)
    expect(pindb.stats()['default-0']!.counters.failovers).toBe(0)
  })
})

describe('regression: a function that writes, called by SELECT, failed on the replica (MariaDB 1290)', () => {
  it('greedy: the refused read moves to the primary, succeeds and pins the set', async () => {
    const { pindb, pool } = setup()
    const body = `my-fn-${Date.now()}`
    await pindb.run(async () => {
      await pool.query('SELECT make_my_note(?) AS id', [body])
      expect(pindb.isPinned('default')).toBe(true)
    })
    const [seen] = await admin.query('SELECT count(*) AS n FROM my_fault_notes WHERE body = ?', [body])
    expect(Number((seen as { n: unknown }[])[0]!.n)).toBe(1)
  })
})
