/**
 * The two engines of the test bed as the conformance checks see them: connection configs for
 * pindb, the SQL that differs between dialects, and the test bed's delay and catch-up helpers.
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import { setMariaDbDelay, setPgDelay, testbed, waitForMariaDbReplica, waitForPgReplicas, type TestbedNodeName } from '../support/testbed.js'
import type { EngineName, Row } from './harness.js'

/** What the checks need to know about one engine. */
export interface Engine {
  readonly name: EngineName
  /** The primary's pindb config (host, port, user, database, pool size). */
  readonly primary: Record<string, unknown>
  /** Replica overrides (ports), in alias order: `default-0`, `default-1`, … */
  readonly replicas: readonly { port: number }[]
  readonly primaryPort: number
  /** The replica the test bed can delay, and its alias. */
  readonly delayed: { alias: string; port: number; node: TestbedNodeName }
  /** A replica the failover check stops, and its alias. */
  readonly stoppable: { alias: string; port: number; node: TestbedNodeName }
  /** The expression naming the server that ran a statement. */
  readonly portExpr: string
  /** Placeholder `i` (1-based). */
  param(i: number): string
  readonly beginReadOnly: string
  readonly createTemp: string
  readonly createNotes: string
  /** A connection-setup setting (re-applied wherever the connection's next statement runs, never anchoring), the read of it, and its value. */
  readonly setting: { readonly set: string; readonly read: string; readonly value: string }
  /** Sets the delayed replica's delay (0: none). pg: milliseconds; MariaDB: whole seconds (rounded up). */
  setDelay(ms: number): Promise<void>
  /** Waits until every replica has replayed everything committed so far. */
  waitReplicas(): Promise<void>
  /** Runs one statement directly on a server (no pindb), for setup and for proving staleness. */
  direct(port: number, sql: string, params?: readonly unknown[]): Promise<Row[]>
}

const tb = testbed()

export const PG: Engine = {
  name: 'pg',
  primary: { ...tb.pg.primary, max: 4 },
  replicas: tb.pg.replicas.map((r) => ({ port: r.port })),
  primaryPort: tb.pg.primary.port,
  delayed: { alias: 'default-1', port: tb.pg.replicas[1].port, node: 'pg-replica-1' },
  stoppable: { alias: 'default-0', port: tb.pg.replicas[0].port, node: 'pg-replica-0' },
  portExpr: 'inet_server_port()',
  param: (i) => `$${i}`,
  beginReadOnly: 'BEGIN READ ONLY',
  createTemp: 'CREATE TEMP TABLE conf_scratch (x int)',
  createNotes: 'CREATE TABLE IF NOT EXISTS conf_notes (id serial PRIMARY KEY, body text NOT NULL)',
  setting: { set: "SET application_name = 'pindb-conf'", read: "current_setting('application_name')", value: 'pindb-conf' },
  setDelay: (ms) => setPgDelay(ms),
  waitReplicas: () => waitForPgReplicas(),
  async direct(port, sql, params = []) {
    const client = new pg.Client({ ...tb.pg.primary, port, connectionTimeoutMillis: 5000 })
    client.on('error', () => {})
    await client.connect()
    try {
      return (await client.query(sql, [...params])).rows as Row[]
    } finally {
      await client.end()
    }
  },
}

export const MARIADB: Engine = {
  name: 'mariadb',
  primary: { ...tb.mariadb.primary, connectionLimit: 4 },
  replicas: [{ port: tb.mariadb.replica.port }],
  primaryPort: tb.mariadb.primary.port,
  delayed: { alias: 'default-0', port: tb.mariadb.replica.port, node: 'mariadb-replica' },
  stoppable: { alias: 'default-0', port: tb.mariadb.replica.port, node: 'mariadb-replica' },
  portExpr: '@@port',
  param: () => '?',
  beginReadOnly: 'START TRANSACTION READ ONLY',
  createTemp: 'CREATE TEMPORARY TABLE conf_scratch (x int)',
  createNotes: 'CREATE TABLE IF NOT EXISTS conf_notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)',
  setting: { set: "SET time_zone = '+03:00'", read: '@@session.time_zone', value: '+03:00' },
  setDelay: (ms) => setMariaDbDelay(Math.ceil(ms / 1000)),
  waitReplicas: () => waitForMariaDbReplica(),
  async direct(port, sql, params = []) {
    const conn = await mysql.createConnection({ ...tb.mariadb.primary, port, connectTimeout: 5000 })
    conn.on('error', () => {})
    try {
      return (await conn.query(sql, [...params]))[0] as Row[]
    } finally {
      await conn.end()
    }
  },
}

/** The engines by name. */
export const ENGINES: Record<EngineName, Engine> = { pg: PG, mariadb: MARIADB }
