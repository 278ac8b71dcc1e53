/**
 * `createMysqlModule`: a stand-in for the `mysql2` module with pindb's routing inside, for ORMs that
 * load the driver themselves — TypeORM's `driver` option and Sequelize's `dialectModule`:
 *
 * ```ts
 * new DataSource({ type: 'mysql', driver: createMysqlModule(pindb, { mysql }), … })
 * new Sequelize({ dialect: 'mysql', dialectModule: createMysqlModule(pindb, { mysql }), … })
 * ```
 *
 * Where to connect comes from pindb (`primaries` / `replicas`); the other connection options the
 * ORM passes (`typeCast`, `supportBigNumbers`, `timezone`, …) apply to every server.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import type { PinDb } from '../pindb.js'
import { createLogicalConnection, type PinDbMysqlLogicalConnection } from './logical-connection.js'
import { validateMysqlPoolOptions } from './options.js'
import { PinDbMysqlPool, type MysqlPoolOptions, type PinDbMysqlCallbackPool } from './pool.js'
import type { MysqlModuleLike } from './types.js'
import { unsupported } from './unsupported.js'

/** Options of {@link createMysqlModule}: those of `createMysqlPool`, with `mysql` required. */
export interface MysqlModuleOptions extends Omit<MysqlPoolOptions, 'config' | 'mysql'> {
  /** The `mysql2` or `mysql2/promise` module (its `createConnection`, `format`, `escape`, `Types` … are used). */
  mysql: MysqlModuleLike
}

/** What {@link createMysqlModule} returns: the parts of the `mysql2` module that ORMs load. */
export interface PinDbMysqlModule {
  /** A routed pool with mysql2's callback API (`.promise()` for the promise API). */
  createPool(config?: object): PinDbMysqlCallbackPool
  /** A routed logical connection with mysql2's callback API; emits `connect`. */
  createConnection(config?: object): PinDbMysqlLogicalConnection
  /** Throws: pindb routes between primary and replicas itself (drop TypeORM's `replication` option). */
  createPoolCluster(config?: object): never
  /** mysql2's `format(sql, values)`. */
  format(sql: string, values?: unknown): string
  /** mysql2's `escape(value)`. */
  escape(value: unknown): string
  /** mysql2's `escapeId(value)`. */
  escapeId(value: unknown): string
  /** mysql2's `raw(sql)`. */
  raw(sql: string): unknown
  /** mysql2's column type constants. */
  readonly Types: unknown
}

/**
 * Creates a routed stand-in for the `mysql2` module.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise'
 * import { createMysqlModule } from 'pindb/mysql2'
 * const sequelize = new Sequelize({ dialect: 'mysql', dialectModule: createMysqlModule(pindb, { mysql }) })
 * ```
 */
export function createMysqlModule(pindb: PinDb<object>, options: MysqlModuleOptions): PinDbMysqlModule {
  validateMysqlPoolOptions(options, 'createMysqlModule(pindb, options)')
  const mysql = options.mysql
  if (mysql === undefined || typeof mysql.createPool !== 'function') {
    throw new PinDbConfigError('mysql', "createMysqlModule needs the mysql2 module: pass `{ mysql }` (import mysql from 'mysql2/promise').")
  }
  // Logical connections route with one shared pool core (planning, monitor, positions); their
  // real connections are their own.
  let shared: PinDbMysqlPool | undefined
  const sharedPool = (): PinDbMysqlPool => {
    if (shared === undefined || shared.core.ended) shared = new PinDbMysqlPool(pindb, options)
    return shared
  }
  const helper = <K extends 'format' | 'escape' | 'escapeId'>(name: K): NonNullable<MysqlModuleLike[K]> => {
    const fn = mysql[name]
    if (typeof fn !== 'function') throw new PinDbConfigError('mysql', `the module passed as \`mysql\` has no ${name}(); pass mysql2 or mysql2/promise.`)
    return fn as NonNullable<MysqlModuleLike[K]>
  }
  return {
    createPool: (config) => new PinDbMysqlPool(pindb, config === undefined ? options : { ...options, config }).pool,
    createConnection: (config) => createLogicalConnection(sharedPool(), mysql, config ?? {}),
    createPoolCluster: () => { throw unsupported('createPoolCluster') },
    format: (sql, values) => helper('format')(sql, values),
    escape: (value) => helper('escape')(value),
    escapeId: (value) => helper('escapeId')(value),
    raw: (sql) => {
      if (typeof mysql.raw !== 'function') throw new PinDbConfigError('mysql', 'the module passed as `mysql` has no raw(); pass mysql2 or mysql2/promise.')
      return mysql.raw(sql)
    },
    get Types() { return mysql.Types },
  }
}
