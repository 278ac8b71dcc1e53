/**
 * Loading the config module of `pindb doctor`: its default export (or export `pindb`) is a PinDb
 * instance or the options of `createPinDb`; its export `driver` says which driver to connect with.
 *
 * @internal
 * @module
 */
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isPinDbError } from '../errors.js'
import { createPinDb } from '../pindb.js'
import type { Topology } from '../topology.js'
import { CliError, EXIT, errorText, usageError, type DriverName } from './types.js'

/** The default config module names, tried in order in the current directory. */
export const DEFAULT_CONFIGS = ['pindb.config.mjs', 'pindb.config.js'] as const

/** A loaded config: what the doctor checks. */
export interface LoadedConfig {
  /** Absolute path of the module. */
  file: string
  topology: Topology<object>
  driver: DriverName
  /** Closes the module's PinDb instance (its monitors and pools), if it exported one. */
  close(): Promise<void>
}

const DRIVERS: Record<string, DriverName> = { pg: 'pg', mysql2: 'mysql2' }

interface PinDbLike {
  topology: Topology<object>
  close?: () => Promise<void>
}

function isPinDbLike(value: unknown): value is PinDbLike {
  if (typeof value !== 'object' || value === null) return false
  const t = (value as { topology?: unknown }).topology
  return typeof t === 'object' && t !== null && (t as Topology).sets instanceof Map && typeof (t as Topology).databases === 'object'
}

function findModule(cwd: string, given: string | undefined): string {
  if (given !== undefined) {
    const file = resolve(cwd, given)
    if (!existsSync(file) || !statSync(file).isFile()) throw usageError(`config module not found: ${file}`)
    return file
  }
  for (const name of DEFAULT_CONFIGS) {
    const file = resolve(cwd, name)
    if (existsSync(file)) return file
  }
  throw usageError(`no config module: looked for ./${DEFAULT_CONFIGS.join(' and ./')} in ${cwd}. Pass --config <module>.`)
}

const PG_KEYS = ['connectionString', 'connectionTimeoutMillis', 'idleTimeoutMillis', 'query_timeout', 'statement_timeout', 'application_name', 'keepAliveInitialDelayMillis']
const MYSQL_KEYS = ['uri', 'connectTimeout', 'multipleStatements', 'namedPlaceholders', 'connectionLimit', 'waitForConnections', 'charset', 'dateStrings', 'supportBigNumbers', 'timezone']

function votesOf(config: Record<string, unknown>): Set<DriverName> {
  const votes = new Set<DriverName>()
  for (const key of ['connectionString', 'uri', 'url']) {
    const v = config[key]
    if (typeof v !== 'string') continue
    if (/^postgres(ql)?:/i.test(v)) votes.add('pg')
    if (/^(mysql|mariadb):/i.test(v)) votes.add('mysql2')
  }
  const port = Number(config['port'])
  if (port === 5432) votes.add('pg')
  if (port === 3306) votes.add('mysql2')
  if (PG_KEYS.some((k) => k in config)) votes.add('pg')
  if (MYSQL_KEYS.some((k) => k in config)) votes.add('mysql2')
  return votes
}

/**
 * The driver, inferred only from unambiguous settings (URL schemes, the default ports 5432 / 3306,
 * driver-specific option names) that all agree; undefined otherwise.
 */
export function inferDriver(databases: Readonly<Record<string, object>>): DriverName | undefined {
  const votes = new Set<DriverName>()
  for (const config of Object.values(databases)) for (const v of votesOf(config as Record<string, unknown>)) votes.add(v)
  return votes.size === 1 ? [...votes][0] : undefined
}

function driverMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ERR_MODULE_NOT_FOUND' && /['"](pg|mysql2)(\/[^'"]*)?['"]/.test(errorText(err))
}

/**
 * Loads the config module (`given`, or the default names) from `cwd`.
 * @throws {@link CliError}: exit 2 when the module is missing or invalid (with the PinDbConfigError
 * message), exit 3 when it imports a driver that is not installed.
 */
export async function loadConfig(cwd: string, given: string | undefined, driverFlag: DriverName | undefined): Promise<LoadedConfig> {
  const file = findModule(cwd, given)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (err) {
    if (isPinDbError(err)) throw usageError(`${file}: ${err.message}`, err)
    if (driverMissing(err)) throw new CliError(EXIT.cannotCheck, `${file} imports a driver that is not installed: ${errorText(err)}`, { cause: err })
    throw usageError(`could not load config module ${file}: ${errorText(err)}`, err)
  }
  const exported = mod['default'] ?? mod['pindb']
  let instance: PinDbLike
  if (isPinDbLike(exported)) {
    instance = exported
  } else if (typeof exported === 'object' && exported !== null && !Array.isArray(exported)) {
    try {
      instance = createPinDb(exported as Parameters<typeof createPinDb>[0])
    } catch (err) {
      if (isPinDbError(err)) throw usageError(`${file}: ${err.message}`, err)
      throw usageError(`${file}: createPinDb failed: ${errorText(err)}`, err)
    }
  } else {
    throw usageError(`${file} must export (as default, or as "pindb") a PinDb instance from createPinDb(...) or the options object of createPinDb; ` +
      `it exports ${exported === undefined ? 'neither' : `a ${typeof exported}`}.`)
  }
  let driver = driverFlag
  if (driver === undefined && mod['driver'] !== undefined) {
    const named = typeof mod['driver'] === 'string' ? DRIVERS[mod['driver']] : undefined
    if (named === undefined) throw usageError(`${file}: export "driver" must be 'pg' or 'mysql2'; got ${JSON.stringify(mod['driver'])}.`)
    driver = named
  }
  driver ??= inferDriver(instance.topology.databases)
  if (driver === undefined) {
    throw usageError(`cannot tell whether ${file} configures PostgreSQL or MariaDB/MySQL. ` +
      `Add \`export const driver = 'pg'\` (or 'mysql2') to it, or pass --driver pg|mysql2.`)
  }
  return {
    file,
    topology: instance.topology,
    driver,
    close: async () => {
      if (instance !== exported || typeof instance.close !== 'function') return
      await instance.close()
    },
  }
}
