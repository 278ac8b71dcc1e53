/**
 * Regression: "credentials in logs" — with the real drivers on the test bed. pindb's stored configs
 * print `[redacted]` for passwords and connection-string passwords, yet the drivers still receive
 * the real values: a custom `createPool` sees them, a `connectionString` with a password still
 * connects (PostgreSQL; the bed uses trust auth, so the spy is what proves the value arrives), and
 * a MariaDB user with a real password authenticates through the routed mysql2 pool, from a
 * `password` field and from a `uri` (a wrong password fails, so the password is really checked).
 */
import { inspect } from 'node:util'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { createMysqlPool } from '../../src/mysql2/index.js'
import { createPgPool } from '../../src/pg/index.js'
import { testbed, waitForMariaDbReplica } from '../support/testbed.js'

const tb = testbed()
const PG_PW = 'Pg-Secret-Pw-42'
const MY_USER = 'pindb_hard_pw'
const MY_PW = 'Maria-Secret-Pw-42'

describe('regression: credentials in logs (PostgreSQL, pg)', () => {
  it('a password in the config reaches createPool (the replica\'s copy included), and is never printed', async () => {
    const { host, user, database } = tb.pg.primary
    const pindb = createPinDb({
      primaries: { default: { host, user, database, port: tb.pg.primary.port, password: PG_PW } },
      replicas: { default: [{ port: tb.pg.replicas[0].port }] },
    })
    const seen = new Map<string, unknown>()
    const pool = createPgPool(pindb, {
      pg,
      createPool: (alias, config) => {
        seen.set(alias, (config as { password?: unknown }).password)
        return new pg.Pool(config) as never
      },
    })
    try {
      const read = await pindb.run(() => pool.query<{ port: number }>('SELECT inet_server_port() AS port'))
      expect(read.rows[0]!.port).toBe(tb.pg.replicas[0].port)
      const write = await pindb.run(() => pool.query<{ port: number }>('SELECT inet_server_port() AS port, pg_advisory_xact_lock(1)'))
      expect(write.rows[0]!.port).toBe(tb.pg.primary.port)
      // Every real pool pindb had built got the real password (the replica's at least).
      expect(seen.get('default-0')).toBe(PG_PW)
      expect([...seen.values()].every((pw) => pw === PG_PW)).toBe(true)
      for (const text of [inspect(pindb.databases, { depth: 10 }), inspect(pindb, { depth: 5 }), JSON.stringify(pindb.databases)]) {
        expect(text).not.toContain(PG_PW)
        expect(text).toContain('[redacted]')
      }
    } finally {
      await pool.end()
      await pindb.close()
    }
  })

  it('a connectionString with a password still connects, to the right servers, and prints redacted', async () => {
    const url = (port: number): string => `postgres://postgres:${PG_PW}@127.0.0.1:${port}/pindb`
    const pindb = createPinDb({
      primaries: { default: { connectionString: url(tb.pg.primary.port) } },
      replicas: { default: [{ connectionString: url(tb.pg.replicas[0].port) }] },
    })
    const pool = createPgPool(pindb, { pg })
    try {
      const read = await pindb.run(() => pool.query<{ port: number }>('SELECT inet_server_port() AS port'))
      expect(read.rows[0]!.port).toBe(tb.pg.replicas[0].port)
      const text = inspect(pindb.databases)
      expect(text).not.toContain(PG_PW)
      expect(text).toContain(`postgres://postgres:[redacted]@127.0.0.1:${tb.pg.replicas[0].port}/pindb`)
      expect(JSON.stringify(pindb.databases)).not.toContain(PG_PW)
    } finally {
      await pool.end()
      await pindb.close()
    }
  })
})

describe('regression: credentials in logs (MariaDB, mysql2, a user with a real password)', () => {
  const root = (): Promise<mysql.Connection> => mysql.createConnection({ ...tb.mariadb.primary })

  beforeAll(async () => {
    const c = await root()
    try {
      await c.query(`DROP USER IF EXISTS '${MY_USER}'@'%'`)
      await c.query(`CREATE USER '${MY_USER}'@'%' IDENTIFIED BY '${MY_PW}'`)
      await c.query(`GRANT SELECT ON pindb.* TO '${MY_USER}'@'%'`)
    } finally {
      await c.end()
    }
    await waitForMariaDbReplica()
  }, 30_000)

  afterAll(async () => {
    const c = await root()
    await c.query(`DROP USER IF EXISTS '${MY_USER}'@'%'`).finally(() => c.end())
  })

  const myBase = { host: '127.0.0.1', user: MY_USER, database: 'pindb', port: tb.mariadb.primary.port }

  it('the password field authenticates through the routed pool (a wrong one does not), and is never printed', async () => {
    for (const [password, ok] of [[MY_PW, true], ['wrong-password', false]] as const) {
      const pindb = createPinDb({ primaries: { default: { ...myBase, password } }, replicas: { default: [{ port: tb.mariadb.replica.port }] } })
      const pool = createMysqlPool(pindb, { mysql })
      try {
        const read = pindb.run(() => pool.query('SELECT @@port AS port'))
        if (ok) {
          const [rows] = await read
          expect((rows as { port: number }[])[0]!.port).toBe(tb.mariadb.replica.port)
        } else {
          await expect(read).rejects.toThrow(/Access denied/)
        }
        const text = inspect(pindb, { depth: 5 }) + JSON.stringify(pindb.databases)
        expect(text).not.toContain(password)
      } finally {
        await pool.end()
        await pindb.close()
      }
    }
  })

  it('a uri with the password authenticates and prints redacted', async () => {
    const uri = (port: number): string => `mysql://${MY_USER}:${MY_PW}@127.0.0.1:${port}/pindb`
    const pindb = createPinDb({ primaries: { default: { uri: uri(tb.mariadb.primary.port) } }, replicas: { default: [{ uri: uri(tb.mariadb.replica.port) }] } })
    const pool = createMysqlPool(pindb, { mysql })
    try {
      const [rows] = await pindb.run(() => pool.query('SELECT @@port AS port'))
      expect((rows as { port: number }[])[0]!.port).toBe(tb.mariadb.replica.port)
      expect(inspect(pindb.databases)).toContain(`mysql://${MY_USER}:[redacted]@127.0.0.1:${tb.mariadb.replica.port}/pindb`)
      expect(inspect(pindb.databases) + JSON.stringify(pindb.databases)).not.toContain(MY_PW)
    } finally {
      await pool.end()
      await pindb.close()
    }
  })
})
