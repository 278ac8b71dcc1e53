/**
 * PostgreSQL replication positions: the SQL that reads them and how a result row is parsed —
 * once, for the adapters' probe (`src/pg/probe.ts`), the replica monitor and `pindb doctor`.
 * A position is an LSN as text (`'16/B374D848'`).
 *
 * @module
 */
import { parseLsn } from '../position.js'

/**
 * The primary's current position: the WAL insert LSN. Read after a commit, it covers the commit
 * record even with `synchronous_commit = off`. Column `lsn`.
 */
export const PG_PRIMARY_POSITION_SQL = 'SELECT pg_current_wal_insert_lsn()::text AS lsn'

/** A standby's replay position (NULL on a primary). Column `lsn`. */
export const PG_REPLICA_POSITION_SQL = 'SELECT pg_last_wal_replay_lsn()::text AS lsn'

/** Whether a standby has replayed `$1` (an LSN). Column `ok`. Poll it: PostgreSQL ≤ 17 has no server-side wait. */
export const PG_REACHED_SQL = 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok'

/**
 * A standby's replay state in one round trip: replay and receive LSNs, and the age of the last
 * replayed transaction (`now() - pg_last_xact_replay_timestamp()`, ms). That age is NOT the lag:
 * on an idle primary it grows without bound while the standby is fully caught up. It is only an
 * upper bound of the lag while the standby is behind. Columns `replay_lsn`, `receive_lsn`, `replay_age_ms`.
 */
export const PG_REPLICA_STATE_SQL = `SELECT pg_last_wal_replay_lsn()::text AS replay_lsn, pg_last_wal_receive_lsn()::text AS receive_lsn,
  (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_age_ms`

/**
 * The LSN in column `lsn` of the first row.
 * @throws Error when the row has none (a `pg_last_wal_replay_lsn()` read on a primary is NULL).
 */
export function pgPositionOf(rows: readonly unknown[]): string {
  const lsn = (rows[0] as { lsn?: unknown } | undefined)?.lsn
  if (typeof lsn !== 'string' || parseLsn(lsn) === undefined) throw new Error('[pindb] [pg] no replication position (is this server a standby?)')
  return lsn
}

/** Whether the first row of {@link PG_REACHED_SQL} says the position was reached. */
export function pgReachedOf(rows: readonly unknown[]): boolean {
  return (rows[0] as { ok?: unknown } | undefined)?.ok === true
}

/** WAL bytes from `behind` to `ahead` (0 when `behind` is not behind); undefined for a malformed LSN. */
export function pgBytesBetween(behind: string, ahead: string): number | undefined {
  const a = parseLsn(behind)
  const b = parseLsn(ahead)
  return a === undefined || b === undefined ? undefined : Math.max(0, Number(b - a))
}
