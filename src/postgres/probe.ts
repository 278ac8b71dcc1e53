/**
 * Replication positions for causal reads and the replica monitor: `pindb/pg`'s PostgreSQL probe
 * (its SQL is not repeated here) over a postgres.js instance shaped as the small part of a
 * `pg.Pool` it uses — `query(text, values)` giving `{ rows }`, and `connect()` giving a client
 * (a reserved connection) should it wait on one connection.
 *
 * @module
 */
import { pgProbe } from '../pg/probe.js'
import type { PgPoolLike, PgQueryResult } from '../pg/types.js'
import type { PgjsServer } from './server.js'
import type { PgjsSql } from './types.js'

const noop = (): undefined => undefined

function queryOn(sql: PgjsSql): (text: unknown, values?: unknown[]) => Promise<PgQueryResult> {
  return async (text, values) => ({ rows: [...((await sql.unsafe(String(text), values ?? [])) as unknown[])] })
}

function asPgPool(server: PgjsServer): PgPoolLike {
  const pool = {
    query: queryOn(server.sql),
    async connect() {
      const reserved = await server.sql.reserve()
      return { query: queryOn(reserved), release: () => reserved.release(), on: noop, removeListener: noop }
    },
    end: () => server.sql.end(),
    on: noop,
  }
  // The probe only queries (and may hold one connection); the rest of a pg.Pool is never used.
  return pool as unknown as PgPoolLike
}

/** @internal The position probe of a routed postgres.js `sql` (primary insert LSN, replica replay LSN). */
export function postgresProbe(serverFor: (alias: string) => Promise<PgjsServer>): ReturnType<typeof pgProbe> {
  return pgProbe(async (alias) => asPgPool(await serverFor(alias)))
}
