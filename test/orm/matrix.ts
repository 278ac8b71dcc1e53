/**
 * The ORM matrix: the same five checks for every ORM, each ORM built over pindb with its default
 * options and the one line `docs/orms.md` documents. A new ORM is a new file that calls
 * {@link ormMatrix} with an {@link OrmHarness}.
 *
 * (a) reads land on the lagging replica: the answering port through the ORM's raw-SQL API, and a
 *     model / query-builder read that is stale;
 * (b) a write then a read in one unit of work (`pindb.run`) reads fresh from the primary;
 * (c) the ORM's own transaction API runs wholly on one server (every routed statement of the
 *     transaction has the same alias, and a rollback undoes its write);
 * (d) over HTTP (`pindb/express`), a request with the pin cookie reads from the primary, one
 *     without reads the stale replica;
 * (e) a write outside any unit of work (a script) leaves no pin or anchored connection behind.
 *
 * Every check also asserts that pindb routed the ORM's statements (its `onRoute` events): an ORM
 * that silently bypasses pindb passes naive "reads work" tests while never reading a replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb, type PinDb, type RouteEvent } from '../../src/index.js'
import type { Dialect } from './dialects.js'
import { startNotesApp, type NotesApp } from './http-app.js'

/** The operations every check uses, through the ORM's own APIs. */
export interface OrmOps {
  /** The port of the server that answered `dialect.portSql`, through the ORM's raw-SQL API. */
  rawPort(): Promise<number>
  /** Inserts a note through the ORM's model / query-builder API. */
  insert(body: string): Promise<void>
  /** Counts notes with this body through the ORM's model / query-builder API. */
  count(body: string): Promise<number>
}

/** An ORM built over pindb. */
export interface OrmSession extends OrmOps {
  /** Runs `work` in the ORM's own (interactive, where it has one) transaction; `tx` is bound to it. */
  transaction<T>(work: (tx: OrmOps) => Promise<T>): Promise<T>
  /** Closes the ORM (and with it the routed pool it was given). */
  close(): Promise<void>
}

/** One ORM, as the matrix runs it. */
export interface OrmHarness {
  /** Shown in the test names, e.g. `Kysely (PostgresDialect)`. */
  readonly name: string
  /** The cluster it runs on. */
  readonly dialect: () => Dialect
  /** One-time work before the ORM is built (e.g. code generation); bounded by {@link SETUP_TIMEOUT_MS}, not by a call's bound. */
  prepare?(): Promise<void>
  /** Builds the ORM over `pindb` with the one documented line (and otherwise default options). */
  open(pindb: PinDb, dialect: Dialect): Promise<OrmSession>
}

/** Upper bound of one ORM call: an ORM waiting on an API the routed pool lacks hangs rather than fails. */
const CALL_TIMEOUT_MS = 10_000

/** Upper bound of the whole set-up of one file (cluster, code generation, ORM). */
const SETUP_TIMEOUT_MS = 120_000

/** Rejects when `promise` has not settled within {@link CALL_TIMEOUT_MS}. */
function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The same operations, each bounded. */
function boundedOps(name: string, ops: OrmOps): OrmOps {
  return {
    rawPort: () => bounded(`${name}: raw port query`, ops.rawPort()),
    insert: (body) => bounded(`${name}: insert`, ops.insert(body)),
    count: (body) => bounded(`${name}: count`, ops.count(body)),
  }
}

/** The session with every call bounded, so that a hang fails the check instead of the whole file. */
function boundedSession(name: string, session: OrmSession): OrmSession {
  return {
    ...boundedOps(name, session),
    transaction: (work) => bounded(`${name}: transaction`, session.transaction((tx) => work(boundedOps(name, tx)))),
    close: () => bounded(`${name}: close`, session.close()),
  }
}

let unique = 0
/** A note body no other check (or earlier run) wrote. */
const bodyFor = (check: string): string => `${check}-${process.pid}-${Date.now()}-${unique++}`

/** Defines the four checks for one ORM. Call it once per test file. */
export function ormMatrix(harness: OrmHarness): void {
  describe(`${harness.name} over pindb`, () => {
    const dialect = harness.dialect()
    const events: RouteEvent[] = []
    let pindb: PinDb
    let orm: OrmSession
    let app: NotesApp | undefined

    /** Runs `fn` and returns its result with the route events it caused. */
    async function routed<T>(fn: () => Promise<T>): Promise<{ result: T; routes: RouteEvent[] }> {
      const from = events.length
      const result = await fn()
      return { result, routes: events.slice(from) }
    }
    const aliases = (routes: readonly RouteEvent[]): string[] => [...new Set(routes.map((e) => e.alias))]
    /** The routes, one line each, for assertion messages. */
    const trace = (routes: readonly RouteEvent[]): string => routes.map((e) => `${e.alias} ${e.reason} ${e.intent}: ${e.sql?.slice(0, 80) ?? ''}`).join('\n')

    beforeAll(async () => {
      await harness.prepare?.()
      await dialect.prepare()
      await dialect.lag(true)
      pindb = createPinDb({ ...dialect.pindbOptions(), onRoute: (e) => events.push(e) })
      orm = boundedSession(harness.name, await bounded(`${harness.name}: open`, harness.open(pindb, dialect)))
      // Warm-up (connections, type maps, Prisma's query compiler), so that no check's first call is
      // slow enough to outlast the replica delay its stale-read assertion depends on.
      await orm.rawPort()
      await orm.count('warm-up')
    }, SETUP_TIMEOUT_MS)

    afterAll(async () => {
      // Clean up everything even when a step fails (a hung close must not leave the replica lagging), then report it.
      const failures: unknown[] = []
      for (const step of [() => app?.close(), () => orm?.close(), () => pindb?.close(), () => dialect.lag(false), () => dialect.close()]) {
        await Promise.resolve().then(step).catch((err: unknown) => failures.push(err))
      }
      if (failures.length > 0) throw failures[0]
    })

    it('(a) reads land on the lagging replica: raw SQL answers from it and a model read is stale', async () => {
      const body = bodyFor('a')
      await dialect.insertOnPrimary(body)
      const { result, routes } = await routed(() => pindb.run(async () => ({ port: await orm.rawPort(), n: await orm.count(body) })))
      expect(result).toEqual({ port: dialect.delayedPort, n: 0 })
      expect(routes.length, 'pindb routed none of the ORM statements (bypassed)').toBeGreaterThan(0)
      expect(aliases(routes), trace(routes)).toEqual([dialect.delayedAlias])
      // Outside any unit of work, reads go to the replica as well.
      expect(await orm.rawPort()).toBe(dialect.delayedPort)
      expect(await dialect.countOnPrimary(body)).toBe(1)
    })

    it('(b) a write then a read in one unit of work reads fresh from the primary', async () => {
      const body = bodyFor('b')
      const { result, routes } = await routed(() => pindb.run(async () => {
        await orm.insert(body)
        return { pinned: pindb.isPinned('default'), n: await orm.count(body), port: await orm.rawPort() }
      }))
      expect(result).toEqual({ pinned: true, n: 1, port: dialect.primaryPort })
      expect(routes.filter((e) => e.intent === 'write').map((e) => e.alias), 'routed writes').toContain('default')
      // Control: a new unit of work, not pinned, reads the replica, which does not have the row yet.
      expect(await pindb.run(async () => ({ n: await orm.count(body), port: await orm.rawPort() }))).toEqual({ n: 0, port: dialect.delayedPort })
    })

    it('(c) a transaction through the ORM runs wholly on one server, reads included, and rolls back as one', async () => {
      const body = bodyFor('c')
      const { result, routes } = await routed(() => pindb.run(() => orm.transaction(async (tx) => {
        const first = await tx.rawPort() // a read first: the transaction must not start on a replica
        await tx.insert(body)
        return { first, n: await tx.count(body), last: await tx.rawPort() }
      })))
      expect(result).toEqual({ first: dialect.primaryPort, n: 1, last: dialect.primaryPort })
      expect(routes.length, 'pindb routed none of the transaction statements (bypassed)').toBeGreaterThanOrEqual(4)
      expect(aliases(routes), trace(routes)).toEqual(['default'])

      const rolledBack = bodyFor('c-rollback')
      const failed = await routed(() => pindb.run(() => orm.transaction(async (tx) => {
        await tx.insert(rolledBack)
        expect(await tx.count(rolledBack)).toBe(1)
        throw new Error('roll back')
      })).catch((err: unknown) => err))
      expect(failed.result).toMatchObject({ message: 'roll back' })
      expect(aliases(failed.routes), trace(failed.routes)).toEqual(['default'])
      expect(await dialect.countOnPrimary(rolledBack)).toBe(0)
      // Outside a unit of work too (scripts, cron): one server.
      const outside = await routed(() => orm.transaction(async (tx) => [await tx.rawPort(), await tx.count(body), await tx.rawPort()]))
      expect(outside.result).toEqual([dialect.primaryPort, 1, dialect.primaryPort])
      expect(aliases(outside.routes), trace(outside.routes)).toEqual(['default'])
    })

    it('(e) a write outside any unit of work leaves nothing behind: later units of work read the replica', async () => {
      const body = bodyFor('e')
      await orm.insert(body) // a script or a cron job: no pindb.run
      expect(await dialect.countOnPrimary(body)).toBe(1)
      for (let i = 0; i < 3; i++) {
        expect(await pindb.run(async () => ({ n: await orm.count(body), port: await orm.rawPort() })), `read ${i}`).toEqual({ n: 0, port: dialect.delayedPort })
      }
    })

    it('(d) over HTTP (pindb/express), the pin cookie reads the primary; no cookie reads the stale replica', async () => {
      app = await startNotesApp(pindb, orm)
      const body = bodyFor('d')
      const cookie = await app.create(body)
      expect(await app.read(body, cookie)).toEqual({ n: 1, port: dialect.primaryPort })
      expect(await app.read(body)).toEqual({ n: 0, port: dialect.delayedPort })
    })
  })
}
