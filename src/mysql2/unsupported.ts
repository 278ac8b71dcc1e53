/**
 * Call forms `pindb/mysql2` does not route, and mysql2's synchronous helpers. An unsupported form
 * throws a {@link PinDbError} at once, so that nothing waits for a callback that never comes.
 *
 * @module
 */
import { PinDbError } from '../errors.js'
import type { MysqlModuleLike } from './types.js'

/** Why each unsupported method cannot be routed, and what to do instead. */
const WHY: Readonly<Record<string, string>> = {
  prepare: 'a prepared statement lives on one server; use execute(sql, values), which prepares on the routed connection',
  unprepare: 'statements are prepared by execute() on the routed connection; there is nothing to unprepare',
  changeUser: 'pindb opens its connections with the configs of pindb.databases; change those instead',
  createBinlogStream: 'a binlog stream needs a direct connection to one server; use mysql2 directly',
  pause: 'the routed connection has no single socket; use query(...).stream(), which applies back-pressure',
  resume: 'the routed connection has no single socket; use query(...).stream(), which applies back-pressure',
  connect: 'routed connections connect on first use',
  reset: 'a routed connection spans several servers; release it and check out another',
  serverHandshake: 'pindb is not a server',
  createPoolCluster: "pindb routes between primaries and replicas itself: drop TypeORM's `replication` option (or the cluster) and use createPool",
}

/** A {@link PinDbError} for an unsupported mysql2 method. */
export function unsupported(method: string): PinDbError {
  return new PinDbError('PINDB_UNSUPPORTED', `[mysql2] ${method}() is not supported by pindb: ${WHY[method] ?? 'it cannot be routed'}.`)
}

/** Installs throwing stubs for the unsupported methods on a class prototype. */
export function installUnsupported(proto: object, methods: readonly string[]): void {
  for (const method of methods) {
    Object.defineProperty(proto, method, {
      configurable: true,
      writable: true,
      value: function unsupportedMethod(): never {
        throw unsupported(method)
      },
    })
  }
}

/** The connection methods that throw. */
export const UNSUPPORTED_CONNECTION_METHODS = ['prepare', 'unprepare', 'changeUser', 'createBinlogStream', 'pause', 'resume', 'connect', 'reset'] as const

/** mysql2's synchronous SQL helpers, taken from the mysql2 module. */
export class SqlHelpers {
  readonly #module: () => MysqlModuleLike | undefined

  constructor(module: () => MysqlModuleLike | undefined) {
    this.#module = module
  }

  #get<K extends 'format' | 'escape' | 'escapeId'>(name: K): NonNullable<MysqlModuleLike[K]> {
    const fn = this.#module()?.[name]
    if (typeof fn !== 'function') {
      throw new PinDbError('PINDB_DRIVER_MISSING', `[mysql2] ${name}() needs the mysql2 module up front: pass \`{ mysql }\` (import mysql from 'mysql2/promise') to the pindb factory.`)
    }
    return fn as NonNullable<MysqlModuleLike[K]>
  }

  /** mysql2's `format(sql, values)`. */
  format(sql: string, values?: unknown): string {
    return this.#get('format')(sql, values)
  }

  /** mysql2's `escape(value)`. */
  escape(value: unknown): string {
    return this.#get('escape')(value)
  }

  /** mysql2's `escapeId(value)`. */
  escapeId(value: unknown): string {
    return this.#get('escapeId')(value)
  }
}
