/**
 * `sql.reserve()`: a reserved connection routed statement by statement by the shared
 * {@link RoutedSession} rules, as `pindb/pg`'s checked-out client — at most one postgres.js
 * reserved connection per alias for its life; reads on the unit of work's replica, writes on the
 * primary; a transaction (`` await sql`begin` ``) or session state (`SET`, temporary tables,
 * `PREPARE`, advisory locks, `LISTEN`) anchors it to one server until `COMMIT` / `release()`.
 *
 * @module
 */
import type { RoutedPoolCore } from '../adapter/routed-pool.js'
import { RoutedSession } from '../adapter/routed-session.js'
import { PinDbError } from '../errors.js'
import { Flight, targetOf, type PgjsTarget } from './flight.js'
import type { PgjsServer } from './server.js'
import { makeSql, type ScopeSql } from './sql-function.js'
import { statementText, type PgjsKit } from './statement-text.js'
import type { PgjsReserved } from './types.js'

/** @internal A reserved routed connection's `sql`. */
export interface ReservedSql extends ScopeSql {
  release(): void
  /** The alias the connection is anchored to (open transaction or session state), if any. */
  readonly anchoredTo: string | undefined
}

interface Reserved {
  readonly sql: PgjsReserved
  readonly target: PgjsTarget
}

/** @internal `sql.reserve()` of a routed pool. Reserves nothing until the first statement. */
export async function reserveRouted(core: RoutedPoolCore<PgjsServer>, kit: PgjsKit): Promise<ReservedSql> {
  if (core.ended) throw core.closedError()
  const session = new RoutedSession<Reserved>({
    pindb: core.pindb,
    planner: core.planner,
    route: (statement, extra) => core.route(statement, extra),
    waitForPosition: core.waitForPosition,
    acquire: async (alias) => {
      const reserved = await (core.readyPool(alias) ?? (await core.poolFor(alias))).sql.reserve()
      return { sql: reserved, target: targetOf(reserved) }
    },
    giveBack: (conn) => conn.sql.release(),
  })
  const sql = makeSql(kit, (query) => {
    if (query.cancelled === true) return
    const flight = Flight.of(query)
    if (session.released) {
      return flight.fail(new PinDbError('PINDB_CLOSED', '[postgres] this reserved connection has been released; reserve another with sql.reserve().'))
    }
    let text: string
    try {
      text = statementText(kit, query)
    } catch (err) {
      return flight.fail(err)
    }
    flight.land(session.run(text, (conn) => flight.run(conn.target)))
  }) as ScopeSql as ReservedSql & { release(): void }
  sql.release = () => {
    if (!session.released) session.release()
  }
  Object.defineProperty(sql, 'anchoredTo', { get: () => session.anchoredTo })
  return sql
}
