/**
 * Drizzle's `postgres-js` driver, unchanged, over `pindb/postgres` on the real test bed (replica 1
 * delayed): reads on the replica, writes and read-your-writes in `pindb.run`, `db.transaction()`
 * (nested ones are savepoints) wholly on one server, Drizzle's parser overrides on every server's
 * instance, and the pin cookie over HTTP.
 */
import { count, eq, sql as dsql } from 'drizzle-orm'
import { pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, type PinDb, type RouteEvent } from '../../src/index.js'
import { createPostgres } from '../../src/postgres/index.js'
import { startNotesApp } from '../orm/http-app.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const R1 = tb.pg.replicas[1].port
const notes = pgTable('pgjs_drizzle_notes', {
  id: serial('id').primaryKey(),
  body: text('body').notNull(),
  at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
})
type Db = Pick<PostgresJsDatabase, 'execute' | 'insert' | 'select'>

const events: RouteEvent[] = []
let pindb: PinDb
let client: postgres.Sql
let db: PostgresJsDatabase
let unique = 0
const bodyFor = (check: string) => `${check}-${process.pid}-${Date.now()}-${unique++}`
const port = async (d: Db) => Number((await d.execute<{ port: number }>(dsql`select inet_server_port() as port`))[0]!.port)
const countOf = async (d: Db, body: string) => (await d.select({ n: count() }).from(notes).where(eq(notes.body, body)))[0]!.n

beforeAll(async () => {
  const admin = postgres({ ...tb.pg.primary, max: 1, onnotice: () => {} })
  await setPgDelay(0)
  await admin`create table if not exists pgjs_drizzle_notes (id serial primary key, body text not null, at timestamptz not null default now())`
  await admin.end()
  await waitForPgReplicas()
  await setPgDelay(2000)
  pindb = createPinDb({
    primaries: { default: { ...tb.pg.primary, max: 4 } },
    replicas: { default: [{ port: tb.pg.replicas[0].port }, { port: R1 }] },
    replicaChoice: ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!),
    onRoute: (e) => events.push(e),
  })
  client = createPostgres(pindb, { postgres })
  db = drizzle({ client })
})
afterAll(async () => {
  await client?.end({ timeout: 5 })
  await setPgDelay(0)
})

describe('Drizzle postgres-js over pindb/postgres', () => {
  it('reads go to the (stale) replica; a write pins the unit of work to the primary', async () => {
    const body = bodyFor('ryw')
    const fresh = await pindb.run(async () => {
      const before = await port(db)
      await db.insert(notes).values({ body })
      return { before, pinned: pindb.isPinned('default'), n: await countOf(db, body), after: await port(db) }
    })
    expect(fresh).toEqual({ before: R1, pinned: true, n: 1, after: PRIMARY })
    expect(await pindb.run(async () => ({ n: await countOf(db, body), port: await port(db) }))).toEqual({ n: 0, port: R1 })
  })

  it('db.transaction() and its nested transactions (savepoints) run wholly on the primary', async () => {
    const body = bodyFor('tx')
    const from = events.length
    const result = await pindb.run(() => db.transaction(async (tx) => {
      const first = await port(tx)
      await tx.insert(notes).values({ body })
      const nested = await tx.transaction(async (sp) => [await port(sp), await countOf(sp, body)])
      await tx.transaction(async (sp) => {
        await sp.insert(notes).values({ body })
        sp.rollback()
      }).catch(() => {})
      return [first, ...nested, await countOf(tx, body)]
    }))
    expect(result).toEqual([PRIMARY, PRIMARY, 1, 1])
    const routed = events.slice(from)
    expect(routed.length).toBeGreaterThanOrEqual(6)
    expect(new Set(routed.map((e) => e.alias))).toEqual(new Set(['default']))
  })

  it("Drizzle's parser overrides (timestamps as strings) reach the replica's instance and the primary's", async () => {
    const body = bodyFor('parsers')
    const [primaryRow, replicaRow] = await pindb.run(async () => {
      await db.insert(notes).values({ body })
      const onPrimary = await db.execute<{ at: unknown; port: number }>(dsql`select now() as at, inet_server_port() as port`)
      return [onPrimary[0]!, (await pindb.withUnpinnedReplica('default', async () =>
        // `await` inside the scope: a Drizzle (and postgres.js) query runs — and is routed — when awaited.
        await db.execute<{ at: unknown; port: number }>(dsql`select now() as at, inet_server_port() as port`)))[0]!]
    })
    expect([primaryRow.port, typeof primaryRow.at, replicaRow.port, typeof replicaRow.at]).toEqual([PRIMARY, 'string', R1, 'string'])
  })

  it('over HTTP (pindb/express), the pin cookie reads the primary; no cookie reads the stale replica', async () => {
    const app = await startNotesApp(pindb, {
      rawPort: () => port(db),
      insert: async (body) => { await db.insert(notes).values({ body }) },
      count: (body) => countOf(db, body),
    })
    try {
      const body = bodyFor('http')
      const cookie = await app.create(body)
      expect(await app.read(body, cookie)).toEqual({ n: 1, port: PRIMARY })
      expect(await app.read(body)).toEqual({ n: 0, port: R1 })
    } finally {
      await app.close()
    }
  })
})
