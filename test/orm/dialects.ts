/**
 * The two test-bed clusters the ORM matrix runs on, behind one shape: the pindb options that
 * point at them (reads always chosen from the lagging replica), an admin connection to the
 * primary that bypasses pindb, the replica delay switch, and the `orm_notes` table every ORM maps.
 */
import mysql from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'
import pg from 'pg'
import type { PinDbOptions } from '../../src/index.js'
import { setMariaDbDelay, setPgDelay, testbed, waitForMariaDbReplica, waitForPgReplicas } from '../support/testbed.js'

/** The table every ORM harness maps (one per cluster). */
export const NOTES_TABLE = 'orm_notes'

/** A cluster of the test bed, as the matrix uses it. */
export interface Dialect {
  readonly name: 'postgres' | 'mysql'
  /** Port of the primary. */
  readonly primaryPort: number
  /** Port of the lagging replica, the one pindb is told to read from. */
  readonly delayedPort: number
  /** The pindb alias of that replica. */
  readonly delayedAlias: string
  /** The SQL that returns the answering server's port as `port`. */
  readonly portSql: string
  /** pindb options for this cluster (callers add `onRoute`). */
  pindbOptions(): PinDbOptions
  /** Creates the notes table and waits until every replica has it (delay off). */
  prepare(): Promise<void>
  /** Turns the replica delay on (`true`) or off. */
  lag(on: boolean): Promise<void>
  /** Inserts a note on the primary directly (no pindb). */
  insertOnPrimary(body: string): Promise<void>
  /** Counts notes with `body` on the primary directly. */
  countOnPrimary(body: string): Promise<number>
  /** Ends the admin connection. */
  close(): Promise<void>
}

const tb = testbed()
/** PostgreSQL replica 1 delay. Long enough that a write is never visible there within one check. */
const PG_DELAY_MS = 2500
/** MariaDB `MASTER_DELAY` (whole seconds; an event may be applied up to 1 s early). */
const MARIADB_DELAY_S = 3

/** PostgreSQL: primary + replica 0 + replica 1 (delayed); pindb always reads `default-1`. */
export function postgresDialect(): Dialect {
  const admin = new pg.Pool({ ...tb.pg.primary, max: 2 })
  return {
    name: 'postgres',
    primaryPort: tb.pg.primary.port,
    delayedPort: tb.pg.replicas[1].port,
    delayedAlias: 'default-1',
    portSql: 'SELECT inet_server_port() AS port',
    pindbOptions: () => ({
      primaries: { default: { ...tb.pg.primary, max: 5 } },
      replicas: { default: [{ port: tb.pg.replicas[0].port }, { port: tb.pg.replicas[1].port }] },
      replicaChoice: ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!),
    }),
    async prepare() {
      await setPgDelay(0)
      await admin.query(`CREATE TABLE IF NOT EXISTS ${NOTES_TABLE} (id serial PRIMARY KEY, body text NOT NULL)`)
      await waitForPgReplicas()
    },
    lag: (on) => setPgDelay(on ? PG_DELAY_MS : 0),
    async insertOnPrimary(body) {
      await admin.query(`INSERT INTO ${NOTES_TABLE} (body) VALUES ($1)`, [body])
    },
    async countOnPrimary(body) {
      const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${NOTES_TABLE} WHERE body = $1`, [body])
      return rows[0]!.n
    },
    close: () => admin.end(),
  }
}

/** MariaDB: primary + one GTID replica (delayed); pindb reads `default-0`. */
export function mysqlDialect(): Dialect {
  const admin = mysql.createPool({ ...tb.mariadb.primary, connectionLimit: 2 })
  return {
    name: 'mysql',
    primaryPort: tb.mariadb.primary.port,
    delayedPort: tb.mariadb.replica.port,
    delayedAlias: 'default-0',
    portSql: 'SELECT @@port AS port',
    pindbOptions: () => ({
      primaries: { default: { ...tb.mariadb.primary, connectionLimit: 5 } },
      replicas: { default: [{ port: tb.mariadb.replica.port }] },
    }),
    async prepare() {
      await setMariaDbDelay(0)
      await admin.query(`CREATE TABLE IF NOT EXISTS ${NOTES_TABLE} (id int AUTO_INCREMENT PRIMARY KEY, body varchar(200) NOT NULL)`)
      await waitForMariaDbReplica()
    },
    lag: (on) => setMariaDbDelay(on ? MARIADB_DELAY_S : 0),
    async insertOnPrimary(body) {
      await admin.query(`INSERT INTO ${NOTES_TABLE} (body) VALUES (?)`, [body])
    },
    async countOnPrimary(body) {
      const [rows] = await admin.query<RowDataPacket[]>(`SELECT count(*) AS n FROM ${NOTES_TABLE} WHERE body = ?`, [body])
      return Number(rows[0]!['n'])
    },
    close: () => admin.end(),
  }
}
