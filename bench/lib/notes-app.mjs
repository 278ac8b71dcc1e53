/**
 * A small, realistic web app — a notes API on Express 5 + Kysely over pindb's routed `pg` pool —
 * started on 127.0.0.1:0 in one of the pinning modes of ./simulation.mjs.
 *
 *   POST /notes?user=U&body=B  inserts a note, then (same request) counts U's notes → 201 { id, count, … }
 *   GET  /notes/:id            one note (or null)                                   → { note, … }
 *   GET  /notes?user=U         U's 10 newest notes                                  → { notes, … }
 *
 * Every read also returns, from the SAME statement, `inet_server_port()` (the ground truth of
 * which server answered) and that server's WAL position (replay LSN on a standby, insert LSN on
 * the primary), plus pindb's routing reason, the position carried by the request's pin and the
 * replica position pindb's monitor knew when it routed — what is needed to explain a stale read.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import express from 'express'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import pg from 'pg'
import { importDist } from './build.mjs'
import { PG, TABLE } from './testbed.mjs'

/** The server's position, read in the same statement as the data. */
const POSITION = sql`(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text`

/**
 * Starts the app. `mode` is a mode object of ./simulation.mjs (`pin`: 'none' | 'request' |
 * 'cookie', `pinSeconds`, `causal`). `replicaPorts`: the DB set's replicas, in alias order.
 * Resolves `{ url, pindb, close }`.
 */
export async function startNotesApp({ mode, replicaPorts, monitorMs = 100 }) {
  const { createPinDb } = await importDist('index.js')
  const { createPgPool } = await importDist('pg/index.js')
  const { pinDbExpress } = await importDist('express/index.js')

  // Per request: the routing decisions of its statements (onRoute runs in the statement's async context).
  const requestLog = new AsyncLocalStorage()
  const pindb = createPinDb({
    primaries: { default: { host: PG.host, port: PG.primaryPort, user: PG.user, database: PG.database, max: 10 } },
    replicas: { default: replicaPorts.map((port) => ({ port })) },
    pinSeconds: mode.pinSeconds ?? 15,
    causal: mode.causal === true,
    onRoute(event) {
      const log = requestLog.getStore()
      if (log === undefined) return
      const known = event.role === 'replica' ? pindb.servers.get(event.alias).position : undefined
      log.push({ reason: event.reason, alias: event.alias, intent: event.intent, known })
    },
  })
  const pool = createPgPool(pindb, { pg, ...(mode.causal ? { monitor: { intervalMs: monitorMs } } : {}) })
  pool.on('error', () => {}) // an idle replica connection dropping must not crash the app
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) })

  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.use((req, res, next) => requestLog.run([], next))
  if (mode.pin === 'request') app.use((req, res, next) => pindb.run(next))
  if (mode.pin === 'cookie') app.use(pinDbExpress(pindb, { secrets: [randomBytes(32).toString('base64url')], header: false }))

  /** Diagnostics of the last read of this request: where pindb sent it and why. */
  const diagnostics = () => {
    const reads = (requestLog.getStore() ?? []).filter((e) => e.intent === 'read')
    const last = reads[reads.length - 1]
    const pin = pindb.inContext ? pindb.capturePins().find((p) => p.set === 'default') : undefined
    return { reason: last?.reason, alias: last?.alias, knownPosition: last?.known, pinPosition: pin?.position, pinned: pin !== undefined }
  }
  const wrap = (handler) => async (req, res) => {
    try {
      await handler(req, res)
    } catch (err) {
      res.status(500).json({ error: String(err?.message ?? err) })
    }
  }

  app.post('/notes', wrap(async (req, res) => {
    const user = String(req.query.user ?? '')
    const { id } = await db.insertInto(TABLE).values({ user_id: user, body: String(req.query.body ?? '') })
      .returning('id').executeTakeFirstOrThrow()
    // A read in the same request, right after the write ("you now have N notes").
    const row = await db.selectNoFrom((eb) => [
      sql`inet_server_port()`.as('port'),
      POSITION.as('lsn'),
      eb.selectFrom(TABLE).select((e) => e.fn.countAll().as('n')).where('user_id', '=', user).as('count'),
    ]).executeTakeFirstOrThrow()
    res.status(201).json({ id, count: Number(row.count), port: row.port, lsn: row.lsn, ...diagnostics() })
  }))

  app.get('/notes/:id', wrap(async (req, res) => {
    const row = await db.selectNoFrom((eb) => [
      sql`inet_server_port()`.as('port'),
      POSITION.as('lsn'),
      jsonObjectFrom(eb.selectFrom(TABLE).select(['id', 'user_id', 'body']).where('id', '=', Number(req.params.id))).as('note'),
    ]).executeTakeFirstOrThrow()
    res.json({ note: row.note, port: row.port, lsn: row.lsn, ...diagnostics() })
  }))

  app.get('/notes', wrap(async (req, res) => {
    const user = String(req.query.user ?? '')
    const row = await db.selectNoFrom((eb) => [
      sql`inet_server_port()`.as('port'),
      POSITION.as('lsn'),
      jsonArrayFrom(eb.selectFrom(TABLE).select(['id', 'body']).where('user_id', '=', user).orderBy('id', 'desc').limit(10)).as('notes'),
    ]).executeTakeFirstOrThrow()
    res.json({ notes: row.notes, port: row.port, lsn: row.lsn, ...diagnostics() })
  }))

  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)))
  })
  server.keepAliveTimeout = 30_000
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    pindb,
    async close() {
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(() => resolve()))
      await db.destroy().catch(() => {})
      await pindb.close().catch(() => {})
    },
  }
}
