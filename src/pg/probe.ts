/**
 * PostgreSQL replication positions: the primary's insert LSN (read after commit, it covers the
 * commit record even with `synchronous_commit=off`), a standby's replay LSN, and waiting for a
 * standby to replay an LSN (PostgreSQL 15 has no server-side wait: poll).
 *
 * @module
 */
import type { PositionProbe } from '../monitor/replica-monitor.js'
import { parseLsn } from '../position.js'
import type { PgPoolLike, PgQueryResult } from './types.js'

async function lsnOf(pool: PgPoolLike, sql: string, values?: unknown[]): Promise<string> {
  const result = (await pool.query(sql, values)) as PgQueryResult
  const lsn = (result.rows[0] as { lsn?: unknown } | undefined)?.lsn
  if (typeof lsn !== 'string') throw new Error('[pindb] [pg] no replication position (is this server a standby?)')
  return lsn
}

/** @internal */
export function pgProbe(poolFor: (alias: string) => Promise<PgPoolLike>): PositionProbe {
  return {
    primaryPosition: async (set) => lsnOf(await poolFor(set), 'SELECT pg_current_wal_insert_lsn()::text AS lsn'),
    replicaPosition: async (alias) => lsnOf(await poolFor(alias), 'SELECT pg_last_wal_replay_lsn()::text AS lsn'),
    bytesBetween: (behind, ahead) => {
      const a = parseLsn(behind)
      const b = parseLsn(ahead)
      return a === undefined || b === undefined ? undefined : Math.max(0, Number(b - a))
    },
  }
}
