/**
 * `createPostgres()`: a postgres.js `sql` routed by pindb over one real postgres.js instance per
 * alias. A query is classified from its text when it runs — the template strings with `$n`
 * parameters plus the text of its fragments and helpers — then runs on the routed instance,
 * with failover for reads, exactly as `pindb/pg` routes `pool.query`.
 *
 * @module
 */
import { RoutedPoolCore, type RoutedPoolOptions } from '../adapter/routed-pool.js'
import { runPooled } from '../adapter/routed-session.js'
import { PinDbConfigError, PinDbError } from '../errors.js'
import type { PinDb } from '../pindb.js'
import { Flight } from './flight.js'
import { postgresProbe } from './probe.js'
import { reserveRouted } from './reserved.js'
import { PgjsServers, checkSharedOptions, createInstance, type PgjsServer } from './server.js'
import { makeSql } from './sql-function.js'
import { kitOf, statementText } from './statement-text.js'
import { makeBegin } from './transaction.js'
import type { PgjsHandler, PostgresModuleLike } from './types.js'

/** Options of {@link createPostgres}: pindb's routed-pool options, the module, and postgres.js options for every alias. */
export interface PostgresOptions<M extends PostgresModuleLike> extends RoutedPoolOptions {
  /** The `postgres` module's default export (`import postgres from 'postgres'`). Required: the `sql` helpers are synchronous. */
  postgres: M
  /** Any other postgres.js option (`max`, `types`, `transform`, `prepare`, `onnotice`, …), shallow-merged under each alias's config. */
  readonly [option: string]: unknown
}

/** The routed `sql`: postgres.js's own `Sql` type (from the module you pass). */
export type RoutedPostgres<S> = S

const unsupported = (what: string, instead: string) => (): never => {
  throw new PinDbError('PINDB_UNSUPPORTED', `[postgres] ${what} is not routed by pindb; ${instead}`)
}

/**
 * Creates a postgres.js `sql` routed by pindb: reads on the unit of work's replica, writes (and
 * their unit of work's later reads) on the primary, `sql.begin` wholly on one server,
 * `sql.reserve()` anchored by transactions and session state, `listen` on the primary. Code
 * written for postgres.js — and Drizzle's `postgres-js` driver — uses it unchanged.
 *
 * @example
 * ```ts
 * import postgres from 'postgres'
 * import { createPostgres } from 'pindb/postgres'
 * const sql = createPostgres(pindb, { postgres, max: 10 })
 * await pindb.run(async () => {
 *   await sql`insert into notes ${sql({ body: 'hi' })}`    // the primary; pins "default"
 *   return sql`select * from notes order by id desc`       // the primary too: read-your-writes
 * })
 * ```
 */
export function createPostgres<M extends PostgresModuleLike>(pindb: PinDb<object>, options: PostgresOptions<M>): RoutedPostgres<ReturnType<M>> {
  const { postgres, set, writeFunctions, monitor, ...shared } = options
  if (typeof postgres !== 'function') {
    throw new PinDbConfigError('postgres', "[postgres] pass the postgres.js module: `import postgres from 'postgres'`, then `createPostgres(pindb, { postgres })`.")
  }
  checkSharedOptions(shared)
  const sets = [...pindb.topology.sets.keys()]
  const home = set ?? (sets.includes('default') ? 'default' : sets[0])
  if (home === undefined) throw new PinDbConfigError('primaries', '[postgres] no DB set to route to.')
  const template = createInstance(postgres, shared, pindb.databases[home] ?? {})
  const servers = new PgjsServers(template)
  const kit = kitOf(template)
  let endOptions: { timeout?: number | null } | undefined
  const core = new RoutedPoolCore<PgjsServer>(pindb, {
    name: 'postgres',
    dialect: 'postgres',
    create: async (alias, config) => servers.adopt(alias === home ? template : createInstance(postgres, shared, config)),
    end: (server) => server.sql.end(endOptions),
    probe: postgresProbe,
  }, { ...(set === undefined ? {} : { set }), ...(writeFunctions === undefined ? {} : { writeFunctions }), ...(monitor === undefined ? {} : { monitor }) })

  const runOn = (alias: string, flight: Flight): Promise<unknown> => {
    const ready = core.readyPool(alias)
    return ready !== undefined ? flight.run(ready.target) : core.poolFor(alias).then((server) => flight.run(server.target))
  }
  const handler: PgjsHandler = (query) => {
    if (query.cancelled === true) return
    const flight = Flight.of(query)
    let outcome: Promise<unknown>
    try {
      outcome = runPooled(core, statementText(kit, query), (alias) => runOn(alias, flight))
    } catch (err) {
      outcome = Promise.reject(err)
    }
    flight.land(outcome)
  }

  const sql = makeSql(kit, handler) as unknown as Record<string, unknown>
  Object.defineProperty(sql, 'parameters', { get: () => template.parameters })
  Object.assign(sql, {
    options: servers.options,
    CLOSE: template.CLOSE,
    END: template.END,
    PostgresError: template.PostgresError,
    begin: makeBegin(core, kit),
    reserve: () => reserveRouted(core, kit),
    async listen(channel: string, fn: (payload: string) => void, onlisten?: () => void): Promise<unknown> {
      const decision = core.route(core.planner.plan(`listen "${String(channel).replace(/"/g, '""')}"`))
      return (await core.poolFor(decision.alias)).sql.listen(channel, fn, onlisten)
    },
    async end(end: { timeout?: number | null } = {}): Promise<void> {
      endOptions = end
      await core.end()
      await Promise.all(servers.instances.map((instance) => instance.end(end)))
    },
    async close(): Promise<void> {
      await Promise.all(servers.instances.map((instance) => instance.close()))
    },
    subscribe: unsupported('sql.subscribe (logical replication)', 'subscribe with postgres(pindb.databases[set]) on the primary.'),
    largeObject: unsupported('sql.largeObject', 'use it on postgres(pindb.databases[set]) on the primary, inside its sql.begin().'),
  })
  return sql as RoutedPostgres<ReturnType<M>>
}
