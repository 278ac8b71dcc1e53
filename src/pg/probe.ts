/**
 * PostgreSQL replication positions through the per-server pools, with the SQL shared by every
 * adapter and the CLI (`src/sql-positions/postgres.ts`).
 *
 * @module
 */
import type { PositionProbe } from '../monitor/replica-monitor.js'
import { PG_PRIMARY_POSITION_SQL, PG_REPLICA_POSITION_SQL, pgBytesBetween, pgPositionOf } from '../sql-positions/postgres.js'
import type { PgPoolLike, PgQueryResult } from './types.js'

/** @internal */
export function pgProbe(poolFor: (alias: string) => Promise<PgPoolLike>): PositionProbe {
  const positionOf = async (alias: string, sql: string): Promise<string> =>
    pgPositionOf(((await (await poolFor(alias)).query(sql)) as PgQueryResult).rows)
  return {
    primaryPosition: (set) => positionOf(set, PG_PRIMARY_POSITION_SQL),
    replicaPosition: (alias) => positionOf(alias, PG_REPLICA_POSITION_SQL),
    bytesBetween: pgBytesBetween,
  }
}
