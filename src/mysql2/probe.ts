/**
 * MariaDB replication positions: the primary's `@@gtid_binlog_pos` (read after commit), a
 * replica's `@@gtid_slave_pos`, and `MASTER_GTID_WAIT` to wait for a replica to apply a position.
 *
 * @module
 */
import type { PositionProbe } from '../monitor/replica-monitor.js'
import type { MysqlPoolLike } from './types.js'

async function gtidOf(pool: MysqlPoolLike, sql: string): Promise<string> {
  const [rows] = await pool.query(sql)
  const pos = (rows as { pos?: unknown }[])[0]?.pos
  if (typeof pos !== 'string') throw new Error('[pindb] [mysql2] no GTID position (is GTID replication on?)')
  return pos
}

/** @internal */
export function mysqlProbe(poolFor: (alias: string) => Promise<MysqlPoolLike>): PositionProbe & {
  waitForPosition(alias: string, position: string, timeoutMs: number): Promise<boolean>
} {
  return {
    primaryPosition: async (set) => gtidOf(await poolFor(set), 'SELECT @@gtid_binlog_pos AS pos'),
    replicaPosition: async (alias) => gtidOf(await poolFor(alias), 'SELECT @@gtid_slave_pos AS pos'),
    async waitForPosition(alias, position, timeoutMs) {
      const [rows] = await (await poolFor(alias)).query('SELECT MASTER_GTID_WAIT(?, ?) AS r', [position, timeoutMs / 1000])
      return Number((rows as { r?: unknown }[])[0]?.r) === 0
    },
  }
}
