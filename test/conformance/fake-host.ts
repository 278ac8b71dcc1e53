/**
 * The in-process half of the adapter kit: a fake `SessionHost` (see `src/adapter/routed-session.ts`)
 * over a real pindb instance whose servers are fake connections. It records which alias every
 * statement ran on, lets a test make a statement or a connect fail (connection error, read-only
 * refusal, cancel), keeps one idle pool per alias (so a connection is reused, as a real pool does)
 * and counts borrowed connections, so that "given back, never held unless anchored" is checkable.
 */
import { createPinDb, type PinDb, type PinDbOptions, type ReplicaChooser } from '../../src/index.js'
import { routePlanned, RoutedSession, type SessionHost } from '../../src/adapter/routed-session.js'
import type { SettingsApplier } from '../../src/adapter/session-settings.js'
import { StatementPlanner, type PlannedStatement } from '../../src/adapter/statement-plan.js'
import type { RouteOptions } from '../../src/router.js'

/** One fake server connection. */
export interface FakeConn {
  readonly id: number
  readonly alias: string
  destroyed: boolean
}

/** A statement as a fake server saw it. */
export interface Ran {
  readonly alias: string
  readonly conn: number
  readonly sql: string
}

/** Decides whether a statement fails: returns the error to throw, or undefined. */
export type Fault = (alias: string, sql: string) => unknown

/** Errors as the drivers raise them. */
export const errors = {
  connection: (): Error => Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' }),
  readOnly: (): Error => Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }),
  cancelled: (): Error => Object.assign(new Error('canceling statement due to user request'), { code: '57014' }),
}

/** Always picks `alias` when it is a candidate: a deterministic replica choice. */
export const prefer = (alias: string): ReplicaChooser => ({ candidates }) => (candidates.includes(alias) ? alias : candidates[0]!)

/** A pindb over fake configs (primary `default`, replicas `default-0`, `default-1`), with a settable clock. */
export function fakePinDb(options: Partial<PinDbOptions> = {}): { pindb: PinDb; clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const pindb = createPinDb({
    primaries: { default: { host: 'primary.invalid' } },
    replicas: { default: [{ host: 'replica0.invalid' }, { host: 'replica1.invalid' }] },
    replicaChoice: prefer('default-0'),
    unscopedWrites: 'ignore',
    backoff: { baseMs: 1000, maxMs: 60_000 },
    clock: () => clock.now,
    ...options,
  })
  return { pindb, clock }
}

/** The fake host. */
export class FakeHost implements SessionHost<FakeConn> {
  readonly pindb: PinDb<object>
  readonly planner = new StatementPlanner('postgres')
  readonly settings: SettingsApplier<FakeConn> | undefined
  /** Every statement a fake server ran (including replayed settings), in order. */
  readonly ran: Ran[] = []
  /** Statement faults, consulted in order. */
  readonly faults: Fault[] = []
  /** Aliases whose connects fail. */
  readonly unreachable = new Set<string>()
  borrowed = 0
  givenBack = 0
  destroyed = 0
  resets = 0
  readonly #idle = new Map<string, FakeConn[]>()
  #ids = 0

  constructor(pindb: PinDb<object>, options: { settings?: boolean } = {}) {
    this.pindb = pindb
    this.settings = options.settings === false ? undefined : {
      exec: async (conn, statements) => {
        for (const sql of statements) this.ran.push({ alias: conn.alias, conn: conn.id, sql })
      },
      reset: async (conn) => {
        this.resets++
        this.ran.push({ alias: conn.alias, conn: conn.id, sql: 'RESET ALL' })
      },
    }
  }

  /** Borrowed connections not given back yet. */
  get held(): number {
    return this.borrowed - this.givenBack
  }

  route(statement: PlannedStatement, extra?: RouteOptions) {
    return routePlanned(this.pindb, statement, extra)
  }

  async acquire(alias: string): Promise<FakeConn> {
    await Promise.resolve()
    if (this.unreachable.has(alias)) throw Object.assign(new Error(`connect ECONNREFUSED ${alias}`), { code: 'ECONNREFUSED' })
    this.borrowed++
    return this.#idle.get(alias)?.pop() ?? { id: ++this.#ids, alias, destroyed: false }
  }

  giveBack(conn: FakeConn, err?: unknown): void {
    this.givenBack++
    if (err !== undefined) {
      conn.destroyed = true
      this.destroyed++
      return
    }
    const idle = this.#idle.get(conn.alias) ?? []
    idle.push(conn)
    this.#idle.set(conn.alias, idle)
  }

  /** A statement on a fake connection: recorded, then failed by the first matching fault. */
  async execute(conn: FakeConn, sql: string): Promise<Ran> {
    await Promise.resolve()
    const ran = { alias: conn.alias, conn: conn.id, sql }
    this.ran.push(ran)
    for (const fault of this.faults) {
      const err = fault(conn.alias, sql)
      if (err !== undefined) throw err
    }
    return ran
  }

  /** A session over this host. */
  session(): RoutedSession<FakeConn> & { query(sql: string): Promise<Ran> } {
    const session = new RoutedSession<FakeConn>(this)
    return Object.assign(session, { query: (sql: string) => session.run(sql, (conn) => this.execute(conn, sql)) })
  }
}
