/**
 * MariaDB replication positions (GTID lists, `'0-1-42,1-2-7'`): the SQL that reads them, waits
 * for them and parses them — once, for the mysql2 adapter's probe (`src/mysql2/probe.ts`), the
 * replica monitor and `pindb doctor`.
 *
 * Why not `Seconds_Behind_Master`: it is 0 while the SQL thread has applied all it has received,
 * even when the IO thread is behind; NULL while the SQL thread is stopped; and it is measured
 * from the timestamp of the event being applied (a long transaction's BEGIN). Comparing the
 * replica's `@@gtid_slave_pos` with the primary's `@@gtid_binlog_pos` says exactly whether it is
 * caught up, idle or not.
 *
 * @module
 */
import { parseGtidList, positionReached } from '../position.js'

/** The primary's position: every transaction in its binary log. Column `pos`. */
export const MYSQL_PRIMARY_POSITION_SQL = 'SELECT @@gtid_binlog_pos AS pos'

/** A replica's applied position. Column `pos`. */
export const MYSQL_REPLICA_POSITION_SQL = 'SELECT @@gtid_slave_pos AS pos'

/** Waits on a replica for a position: `?` = the GTID list, `?` = timeout in seconds. Column `r`: 0 reached, -1 timed out. */
export const MYSQL_WAIT_SQL = 'SELECT MASTER_GTID_WAIT(?, ?) AS r'

/**
 * The GTID list in column `pos` of the first row (`''` for an empty binary log).
 * @throws Error when there is none (GTID replication off, MySQL).
 */
export function mysqlPositionOf(rows: readonly unknown[]): string {
  const raw = (rows[0] as { pos?: unknown } | undefined)?.pos
  const pos = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw
  if (typeof pos !== 'string' || parseGtidList(pos) === undefined) throw new Error('[pindb] [mysql2] no GTID position (is GTID replication on?)')
  return pos
}

/** Whether the first row of {@link MYSQL_WAIT_SQL} says the position was reached. */
export function mysqlWaitReachedOf(rows: readonly unknown[]): boolean {
  return Number((rows[0] as { r?: unknown } | undefined)?.r) === 0
}

/** Transactions the replica still has to apply to reach `primary`, summed over GTID domains; undefined when malformed. */
export function mysqlTransactionsBehind(replica: string, primary: string): number | undefined {
  const have = parseGtidList(replica)
  const need = parseGtidList(primary)
  if (have === undefined || need === undefined) return undefined
  let behind = 0n
  for (const [domain, seq] of need) {
    const got = have.get(domain) ?? 0n
    if (seq > got) behind += seq - got
  }
  return Number(behind)
}

/** Whether a replica at `replica` has applied everything in `primary` (per GTID domain). */
export function mysqlReached(replica: string, primary: string): boolean {
  return positionReached(replica, primary)
}
