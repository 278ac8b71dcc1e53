/**
 * The doctor's database connections: imports `pg` or `mysql2/promise` (from the project in the
 * current directory first, then from pindb's own location) and opens one short-lived connection
 * per alias, with connect and query timeouts.
 *
 * @internal
 * @module
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CliError, EXIT, errorText, type DriverName, type Session } from './types.js'

/** Connects one alias. */
export type Connector = (config: object, timeoutMs: number) => Promise<Session>

interface PgClient {
  connect(): Promise<unknown>
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  end(): Promise<void>
  on(event: 'error', listener: (err: unknown) => void): unknown
}
type PgModule = { Client: new (config: object) => PgClient }

interface MyConnection {
  query(options: { sql: string; timeout: number }, values?: unknown[]): Promise<[unknown, unknown]>
  end(): Promise<void>
  destroy(): void
  on(event: 'error', listener: (err: unknown) => void): unknown
}
type MyModule = { createConnection(config: object): Promise<MyConnection> }

/** Rejects with a timeout error when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function importFromProject(specifier: string, cwd: string): Promise<unknown> {
  try {
    const resolved = createRequire(join(cwd, 'package.json')).resolve(specifier)
    return await import(pathToFileURL(resolved).href)
  } catch {
    return import(specifier)
  }
}

function unwrap<T>(mod: unknown, key: string): T | undefined {
  const m = mod as Record<string, unknown>
  if (typeof m[key] === 'function') return m as T
  const d = m['default'] as Record<string, unknown> | undefined
  return d !== undefined && typeof d[key] === 'function' ? (d as T) : undefined
}

const POOL_ONLY_MYSQL = new Set(['connectionLimit', 'waitForConnections', 'queueLimit', 'maxIdle', 'idleTimeout'])

function pgConnector(pg: PgModule): Connector {
  return async (config, timeoutMs) => {
    const settings = config as Record<string, unknown>
    const client = new pg.Client({
      ...settings,
      application_name: settings['application_name'] ?? 'pindb-doctor',
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
    })
    client.on('error', () => {}) // a server going away must not crash the doctor
    const close = async (): Promise<void> => {
      await withTimeout(client.end(), timeoutMs, 'disconnect').catch(() => {})
    }
    try {
      await withTimeout(client.connect(), timeoutMs + 500, 'connect')
    } catch (err) {
      void close()
      throw err
    }
    return {
      query: async (sql, params) => (await withTimeout(client.query(sql, params === undefined ? undefined : [...params]), timeoutMs + 500, 'query')).rows,
      close,
    }
  }
}

function mysqlConnector(mysql: MyModule): Connector {
  return async (config, timeoutMs) => {
    const settings = Object.fromEntries(Object.entries(config).filter(([k]) => !POOL_ONLY_MYSQL.has(k)))
    const conn = await withTimeout(mysql.createConnection({ ...settings, connectTimeout: timeoutMs }), timeoutMs + 500, 'connect')
    conn.on('error', () => {})
    return {
      query: async (sql, params) => {
        const [rows] = await withTimeout(conn.query({ sql, timeout: timeoutMs }, params === undefined ? undefined : [...params]), timeoutMs + 500, 'query')
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []
      },
      close: async () => {
        await withTimeout(conn.end(), timeoutMs, 'disconnect').catch(() => conn.destroy())
      },
    }
  }
}

/**
 * Imports the driver and returns its connector.
 * @throws {@link CliError} with exit code 3 when the driver is not installed.
 */
export async function loadDriver(driver: DriverName, cwd: string): Promise<Connector> {
  const specifier = driver === 'pg' ? 'pg' : 'mysql2/promise'
  let mod: unknown
  try {
    mod = await importFromProject(specifier, cwd)
  } catch (err) {
    throw new CliError(EXIT.cannotCheck,
      `cannot import "${specifier}" (${errorText(err)}). Install it in your project: npm install ${driver}`, { cause: err })
  }
  if (driver === 'pg') {
    const pg = unwrap<PgModule>(mod, 'Client')
    if (pg === undefined) throw new CliError(EXIT.cannotCheck, '"pg" was imported but has no Client class. Is it node-postgres (pg ≥ 8)?')
    return pgConnector(pg)
  }
  const mysql = unwrap<MyModule>(mod, 'createConnection')
  if (mysql === undefined) throw new CliError(EXIT.cannotCheck, '"mysql2/promise" was imported but has no createConnection. Is it mysql2 ≥ 3?')
  return mysqlConnector(mysql)
}
