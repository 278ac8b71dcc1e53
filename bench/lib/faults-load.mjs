/**
 * The load of the fault benchmark (bench/faults.bench.mjs): `callers` concurrent loops, each
 * running units of work (`pindb.run`) through one routed pool — mostly a read unit (two point
 * reads), sometimes a write unit (an INSERT with a unique tag, then its read-back, which pinning
 * sends to the primary), each statement through `pool.connect()` + `client.query` (Kysely's way) or
 * `pool.query`. Every statement is recorded with its start and end time (the caller's
 * wait, queueing included), the server that answered (`inet_server_port()`), or its error.
 */
import { rng } from './phase.mjs'

export const NOTES_TABLE = 'faults_bench_notes'
export const WRITES_TABLE = 'faults_bench_writes'
export const NOTES = 1000

const READ_SQL = `SELECT inet_server_port() AS port, body FROM ${NOTES_TABLE} WHERE id = $1`
const INSERT_SQL = `INSERT INTO ${WRITES_TABLE} (tag) VALUES ($1)`
const READ_BACK_SQL = `SELECT inet_server_port() AS port, EXISTS (SELECT 1 FROM ${WRITES_TABLE} WHERE tag = $1) AS seen`

/** Creates the tables on the primary (idempotent); replicas get them by replication. */
export async function prepareFaultTables(client) {
  await client.query(`CREATE TABLE IF NOT EXISTS ${NOTES_TABLE} (id int PRIMARY KEY, body text NOT NULL)`)
  await client.query(`CREATE TABLE IF NOT EXISTS ${WRITES_TABLE} (tag text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`)
  const { rows: [{ n }] } = await client.query(`SELECT count(*)::int AS n FROM ${NOTES_TABLE}`)
  if (n !== NOTES) {
    await client.query(`TRUNCATE ${NOTES_TABLE}`)
    await client.query(`INSERT INTO ${NOTES_TABLE} SELECT g, 'note ' || g FROM generate_series(1, ${NOTES}) g`)
  }
}

/** What a failed statement said: `{ name, code, mayHaveRun }`. */
function describeError(err) {
  return {
    name: typeof err?.name === 'string' ? err.name : typeof err,
    code: typeof err?.code === 'string' ? err.code : undefined,
    mayHaveRun: typeof err?.mayHaveRun === 'boolean' ? err.mayHaveRun : undefined,
    message: String(err?.message ?? err).slice(0, 200),
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Starts the load. Returns `{ records, stop() }`: `records` grows while it runs
 * (`{ kind: 'read'|'write'|'read-back', t0, acquired?, t1, port?, seen?, tag?, error? }`, `acquired`: when `pool.connect()` gave a client, times from
 * `performance.now()`); `stop()` resolves once every caller has finished its current unit.
 * A caller whose unit failed pauses `pauseAfterErrorMs` before its next unit (a real caller would
 * not spin on a dead server either).
 */
export function startLoad({ pindb, pool, callers, writeP, seed, tagPrefix, api = 'connect', pauseAfterErrorMs = 10 }) {
  const records = []
  // 'connect': check a client out per statement, as Kysely's PostgresDialect does (`await
  // pool.connect()`, `client.query`, `client.release()`); 'query': `pool.query`.
  const query = api === 'query'
    ? (sql, values) => pool.query(sql, values)
    : async (sql, values, rec) => {
      const client = await pool.connect()
      rec.acquired = performance.now()
      try {
        return await client.query(sql, values)
      } finally {
        client.release()
      }
    }
  let stopping = false
  const timed = async (kind, run, tag) => {
    const rec = { kind, t0: performance.now(), t1: 0 }
    if (tag !== undefined) rec.tag = tag
    try {
      const res = await run(rec)
      rec.t1 = performance.now()
      const row = res.rows?.[0]
      if (row?.port !== undefined) rec.port = Number(row.port)
      if (row?.seen !== undefined) rec.seen = row.seen
      records.push(rec)
      return true
    } catch (err) {
      rec.t1 = performance.now()
      rec.error = describeError(err)
      records.push(rec)
      return false
    }
  }
  const workers = Array.from({ length: callers }, async (_, w) => {
    const random = rng(seed * 1000 + w + 1)
    let n = 0
    while (!stopping) {
      const write = random() < writeP
      const ok = await pindb.run(async () => {
        if (write) {
          const tag = `${tagPrefix}-${w}-${n++}`
          if (!(await timed('write', (rec) => query(INSERT_SQL, [tag], rec), tag))) return false
          return timed('read-back', (rec) => query(READ_BACK_SQL, [tag], rec))
        }
        const a = await timed('read', (rec) => query(READ_SQL, [1 + Math.floor(random() * NOTES)], rec))
        const b = await timed('read', (rec) => query(READ_SQL, [1 + Math.floor(random() * NOTES)], rec))
        return a && b
      })
      if (!ok) await sleep(pauseAfterErrorMs)
    }
  })
  return {
    records,
    async stop() {
      stopping = true
      await Promise.all(workers)
    },
  }
}

/**
 * Checks the writes against the primary: `{ acked, lost, mayHaveRun, mayHaveRunPresent,
 * notRun, notRunPresent, otherFailed, otherPresent }`. An acknowledged write missing afterwards is
 * lost; a write whose error said it was not sent (`mayHaveRun: false`) must be absent.
 */
export async function checkWrites(client, records) {
  const writes = records.filter((r) => r.kind === 'write')
  const present = async (tags) => {
    if (tags.length === 0) return 0
    const { rows: [{ n }] } = await client.query(`SELECT count(*)::int AS n FROM ${WRITES_TABLE} WHERE tag = ANY($1::text[])`, [tags])
    return n
  }
  const acked = writes.filter((r) => r.error === undefined).map((r) => r.tag)
  const mayHaveRun = writes.filter((r) => r.error?.mayHaveRun === true).map((r) => r.tag)
  const notRun = writes.filter((r) => r.error?.mayHaveRun === false).map((r) => r.tag)
  const other = writes.filter((r) => r.error !== undefined && r.error.mayHaveRun === undefined).map((r) => r.tag)
  return {
    acked: acked.length,
    lost: acked.length - (await present(acked)),
    mayHaveRun: mayHaveRun.length,
    mayHaveRunPresent: await present(mayHaveRun),
    notRun: notRun.length,
    notRunPresent: await present(notRun),
    otherFailed: other.length,
    otherPresent: await present(other),
  }
}
