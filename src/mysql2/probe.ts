/**
 * MariaDB replication positions through the per-server pools, with the SQL shared by every
 * adapter and the CLI (`src/sql-positions/mysql.ts`): the primary's `@@gtid_binlog_pos` (read after
 * commit) and a replica's `@@gtid_slave_pos`. Causal waits poll the replica's position through the
 * shared position watcher (one poll loop per replica, no connection held while waiting).
 *
 * @module
 */
import type { PositionProbe } from '../monitor/replica-monitor.js'
import { MYSQL_PRIMARY_POSITION_SQL, MYSQL_REPLICA_POSITION_SQL, mysqlPositionOf } from '../sql-positions/mysql.js'
import type { MysqlPoolLike } from './types.js'

/** @internal */
export function mysqlProbe(poolFor: (alias: string) => Promise<MysqlPoolLike>): PositionProbe {
  const positionOf = async (alias: string, sql: string): Promise<string> => {
    const [rows] = await (await poolFor(alias)).query(sql)
    return mysqlPositionOf(rows as readonly unknown[])
  }
  return {
    primaryPosition: (set) => positionOf(set, MYSQL_PRIMARY_POSITION_SQL),
    replicaPosition: (alias) => positionOf(alias, MYSQL_REPLICA_POSITION_SQL),
  }
}
