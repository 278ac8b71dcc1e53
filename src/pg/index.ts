/**
 * `pindb/pg`: node-postgres, routed. {@link createPgPool} is a real `pg.Pool` (a subclass of the
 * `Pool` of the `pg` module you pass); {@link createPgModule} is a routed `pg` module for ORMs that
 * load the driver themselves (TypeORM `driver`, Sequelize `dialectModule`, Knex < 3.3, MikroORM 6).
 *
 * @module
 */
export { createPgPool, createPgModule, type PgPoolOptions, type PgModuleOptions } from './create.js'
export type { PgAdapterOptions } from './routed-pool.js'
export type { LivenessOptions } from '../adapter/liveness.js'
export type { PgModuleLike } from './types.js'
