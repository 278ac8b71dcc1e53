/**
 * The real connections under `pindb/pg`: one plain `pg.Pool` per alias for the connections a
 * logical client borrows, fresh `pg.Client`s for home connections and liveness pings, and how a
 * user's (or an ORM's) pg config splits into what identifies a server — which pindb's topology
 * decides — and what shapes a session or a pool.
 *
 * @module
 */
import type { PoolDriver } from '../adapter/routed-pool.js'
import type { SettingsApplier } from '../adapter/session-settings.js'
import { pgProbe } from './probe.js'
import type { PgClientLike, PgModuleLike, PgPoolLike } from './types.js'

/** Keys that say which server to connect to, as whom: pindb's topology decides them per alias. */
const IDENTITY_KEYS = new Set(['host', 'hostaddr', 'port', 'user', 'password', 'database', 'connectionString'])

/** Keys of a pg pool (not of a connection). */
export const POOL_KEYS = new Set([
  'max', 'min', 'idleTimeoutMillis', 'connectionTimeoutMillis', 'maxUses', 'maxLifetimeSeconds', 'allowExitOnIdle',
  'verify', 'log', 'Client', 'Promise', 'onConnect', 'poolSize',
])

/** Keys of a pg connection config (`ClientConfig` of node-postgres and its environment-backed defaults). */
export const CLIENT_KEYS = new Set([
  ...IDENTITY_KEYS, 'ssl', 'sslmode', 'sslnegotiation', 'types', 'statement_timeout', 'query_timeout', 'lock_timeout',
  'idle_in_transaction_session_timeout', 'application_name', 'fallback_application_name', 'options', 'keepAlive',
  'keepAliveInitialDelayMillis', 'stream', 'connection', 'binary', 'client_encoding', 'replication', 'enableChannelBinding',
  'scramMaxIterations', 'pipeline', 'parseInputDatesAsUTC', 'rows', 'ssl_cert', 'ssl_key', 'ssl_root_cert', 'gssencmode',
  'dateStrings', 'connectionTimeoutMillis',
])

/** The part of a user's config that shapes sessions, whichever server they run on. */
export function sessionConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(config)) {
    if (!IDENTITY_KEYS.has(key) && !POOL_KEYS.has(key)) out[key] = config[key]
  }
  return out
}

/** The identity part of an alias's config (what `pool.options` shows as the server). */
export function identityConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(config)) if (IDENTITY_KEYS.has(key)) out[key] = config[key]
  return out
}

/** The connection timeout of real connections: the user's, bounded by the liveness bound. */
export function boundedConnectTimeout(user: unknown, bound: number): number {
  return typeof user === 'number' && user > 0 ? Math.min(user, bound) : bound
}

/** What the shared routing core needs from pg. */
export function pgDriver(
  pg: PgModuleLike,
  userConfig: Record<string, unknown>,
  createPool: ((alias: string, config: object) => PgPoolLike) | undefined,
  onIdleError: (alias: string, err: unknown) => void,
): PoolDriver<PgPoolLike, PgClientLike> {
  const session = sessionConfig(userConfig)
  const max = typeof userConfig['max'] === 'number' ? userConfig['max'] : 10
  return {
    name: 'pg',
    dialect: 'postgres',
    async create(alias, config, connectTimeoutMs) {
      const pool = createPool !== undefined ? createPool(alias, config) : newPool(alias, config, connectTimeoutMs)
      // An idle connection's error (a server restarting) must not crash the process, as an
      // unhandled 'error' event would; it starts the server's back-off.
      pool.on('error', (err: unknown) => onIdleError(alias, err))
      return pool
    },
    end: (pool) => pool.end(),
    probe: pgProbe,
    async ping(_alias, config, timeoutMs) {
      const client = new pg.Client({ ...session, ...config, connectionTimeoutMillis: timeoutMs }) as PgClientLike
      client.on('error', () => {})
      const kill = setTimeout(() => client.connection?.stream?.destroy(), timeoutMs)
      try {
        await client.connect()
        await client.query('SELECT 1')
      } finally {
        clearTimeout(kill)
        client.end().catch(() => {})
      }
    },
    abort(conn) {
      conn.connection?.stream?.destroy()
    },
  }

  function newPool(_alias: string, config: object, connectTimeoutMs: number): PgPoolLike {
    // Each logical client holds at most one connection per server, and there are at most `max`
    // logical clients: a per-server pool of `max` can always serve them (no deadlock).
    return new pg.Pool({
      ...session,
      ...config,
      max,
      connectionTimeoutMillis: boundedConnectTimeout(userConfig['connectionTimeoutMillis'], connectTimeoutMs),
      ...(userConfig['idleTimeoutMillis'] === undefined ? {} : { idleTimeoutMillis: userConfig['idleTimeoutMillis'] }),
      ...(userConfig['allowExitOnIdle'] === undefined ? {} : { allowExitOnIdle: userConfig['allowExitOnIdle'] }),
    }) as PgPoolLike
  }
}

/** Replays connection-setup settings on a pg connection. */
export const pgSettings: SettingsApplier<PgClientLike> = {
  async exec(conn, statements) {
    await conn.query(statements.join(';\n'))
  },
  async reset(conn) {
    await conn.query('RESET ALL')
  },
}
