/**
 * The entry points of `pindb/pg`: {@link createPgPool} (a routed `pg.Pool`) and
 * {@link createPgModule} (a routed `pg` module for ORMs that load the driver themselves).
 *
 * @module
 */
import { warnUnmonitored } from '../config/warn-unmonitored.js'
import { PinDbConfigError } from '../errors.js'
import { seamOf } from '../adapter/seam.js'
import type { PinDb } from '../pindb.js'
import { definePgClasses, splitOptions, type PgAdapterOptions } from './routed-pool.js'
import { validatePgOptions } from './options.js'
import type { PgModuleLike } from './types.js'

/** Options of {@link createPgPool}: the `pg` module, pindb's options, and any `pg.Pool` config (`max`, `idleTimeoutMillis`, …). */
export type PgPoolOptions<M extends PgModuleLike = PgModuleLike> = PgAdapterOptions & {
  /** The `pg` module (`import pg from 'pg'`): the pool is a subclass of its `Pool`. */
  pg: M
} & Record<string, unknown>

/** Options of {@link createPgModule}. */
export type PgModuleOptions<M extends PgModuleLike = PgModuleLike> = PgPoolOptions<M>

function requirePg(options: { pg?: unknown } | undefined, call: string): PgModuleLike {
  const pg = options?.pg as PgModuleLike | undefined
  if (typeof pg !== 'object' && typeof pg !== 'function' || pg === null || typeof pg.Pool !== 'function' || typeof pg.Client !== 'function') {
    throw new PinDbConfigError('pg', `${call} needs the pg module: \`import pg from 'pg'\` then \`${call.replace('(', '(pindb, { pg }')}\`. ` +
      'pindb makes its pool a subclass of that module\'s Pool, so that code checking `instanceof pg.Pool` accepts it.')
  }
  return pg
}

/**
 * A routed `pg.Pool`: an instance of the `Pool` of the `pg` module you pass, typed as it. Use it
 * wherever you used a `pg.Pool` — Prisma's `PrismaPg`, Drizzle, Kysely's `PostgresDialect`, Knex's
 * `connectionPool`: reads go to replicas, writes and transactions to the primary, with pinning.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createPgPool } from 'pindb/pg'
 * const pool = createPgPool(pindb, { pg, max: 20 })
 * const { rows } = await pool.query<{ id: number }>('SELECT id FROM notes')
 * ```
 */
export function createPgPool<M extends PgModuleLike>(pindb: PinDb<object>, options: PgPoolOptions<M>): InstanceType<M['Pool']> {
  const pg = requirePg(options, 'createPgPool(pindb, options)')
  validatePgOptions(options, 'createPgPool(pindb, options)')
  const { adapter, config } = splitOptions(options)
  warnUnmonitored(seamOf(pindb).options, adapter.monitor, 'createPgPool')
  const { Pool } = definePgClasses(pindb, pg, adapter)
  return new Pool(config) as InstanceType<M['Pool']>
}

/**
 * A routed `pg` module for ORMs that load the driver themselves: everything of `pg`, with `Pool`
 * and `Client` replaced by routed subclasses. TypeORM: `{ type: 'postgres', driver }`;
 * Sequelize: `{ dialect: 'postgres', dialectModule }`; Knex < 3.3 and MikroORM 6: a client class
 * whose `_driver()` returns it. The ORM's host, port, user, password and database are ignored:
 * pindb's topology says which server each statement uses; its other settings (pool size,
 * timeouts, `statement_timeout`, …) apply.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { DataSource } from 'typeorm'
 * import { createPgModule } from 'pindb/pg'
 * const ds = new DataSource({ type: 'postgres', driver: createPgModule(pindb, { pg }), entities: [] })
 * ```
 */
export function createPgModule<M extends PgModuleLike>(pindb: PinDb<object>, options: PgModuleOptions<M>): M {
  const pg = requirePg(options, 'createPgModule(pindb, options)')
  validatePgOptions(options, 'createPgModule(pindb, options)')
  const { adapter, config } = splitOptions(options)
  warnUnmonitored(seamOf(pindb).options, adapter.monitor, 'createPgModule')
  const { Pool, Client } = definePgClasses(pindb, pg, adapter, config)
  const routed = Object.create(pg as object) as Record<string, unknown>
  for (const key of Object.keys(pg)) routed[key] = (pg as unknown as Record<string, unknown>)[key]
  routed['Pool'] = Pool
  routed['Client'] = Client
  routed['default'] = routed
  // pg's lazy `native` getter would hand ORMs (TypeORM uses `driver.native` when pg-native is
  // installed) an unrouted driver: a silent bypass. The routed module has no native flavour.
  Object.defineProperty(routed, 'native', { value: null, enumerable: false, configurable: true })
  return routed as unknown as M
}
