/**
 * `createPgPool`: a real `pg.Pool` — a subclass of the `Pool` of the `pg` module the user passes
 * in — whose clients are pindb's logical clients. Everything a caller of `connect()` can observe
 * (errors, `connectionTimeoutMillis`, `max`, `waitingCount`, `verify`, `maxUses`, events, `end()`)
 * is pg-pool's own code; the routing happens inside each client's statements.
 *
 * @module
 */
import { RoutedPoolCore, type RoutedPoolOptions } from '../adapter/routed-pool.js'
import { seamOf } from '../adapter/seam.js'
import { hideSecrets } from '../secrets.js'
import { PinDbConfigError } from '../errors.js'
import type { PinDb } from '../pindb.js'
import { BINDING, defineLogicalClient, type LogicalClientBinding } from './logical-client.js'
import { identityConfig, pgDriver } from './physical.js'
import { validatePgOptions } from './options.js'
import type { PgModuleLike, PgPoolLike } from './types.js'

/** pindb's options for `pindb/pg` (beside any `pg.Pool` / `pg.Client` config). */
export interface PgAdapterOptions extends RoutedPoolOptions {
  /** Builds the real (physical) pool of one alias. Default: `new pg.Pool(config)`. */
  createPool?: (alias: string, config: object) => PgPoolLike
}

const ADAPTER_KEYS = ['set', 'writeFunctions', 'monitor', 'liveness', 'createPool'] as const

/** Splits `{ pg, ...adapter options, ...pg config }`. */
export function splitOptions(options: Record<string, unknown>): { adapter: PgAdapterOptions; config: Record<string, unknown> } {
  const adapter: Record<string, unknown> = {}
  const config: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (key === 'pg') continue
    if ((ADAPTER_KEYS as readonly string[]).includes(key)) adapter[key] = value
    else config[key] = value
  }
  return { adapter: adapter as PgAdapterOptions, config }
}

/** The DB set a pool's clients connect to: its `set`, else `default`, else the first set. */
export function homeSetOf(pindb: PinDb<object>, set: string | undefined): string {
  if (set !== undefined) return set
  const sets = [...pindb.topology.sets.keys()]
  if (sets.includes('default')) return 'default'
  const first = sets[0]
  if (first === undefined) throw new PinDbConfigError('primaries', 'has no DB set; pindb/pg needs at least one primary.')
  return first
}

type Ctor = new (config?: any) => any

/** The classes of one binding of `pindb/pg` to a pindb instance and a pg module. */
export interface PgClasses {
  readonly Pool: Ctor
  readonly Client: Ctor
}

/**
 * Defines `Pool` and `Client` classes (subclasses of `pg.Pool` and `pg.Client`) routed by `pindb`.
 * Each `new Pool(config)` has its own routing core (its own per-server pools); standalone
 * `new Client(config)` share one core, created on first use.
 */
export function definePgClasses(pindb: PinDb<object>, pg: PgModuleLike, adapter: PgAdapterOptions, defaults: Record<string, unknown> = {}): PgClasses {
  const homeSet = homeSetOf(pindb, adapter.set)
  const seam = seamOf(pindb)
  const onIdleError = (alias: string): void => {
    if (seam.topology.replicaToSet.has(alias)) seam.reportFailure(alias)
  }
  let shared: LogicalClientBinding | undefined
  const Client = defineLogicalClient(pg, () => {
    shared ??= { core: new RoutedPoolCore(pindb, pgDriver(pg, defaults, adapter.createPool, onIdleError), adapter), homeSet }
    return shared
  })
  const Base = pg.Pool as Ctor

  /** A `pg.Pool` whose clients pindb routes. */
  class PinDbPgPool extends Base {
    constructor(config: Record<string, unknown> = {}) {
      validatePgOptions(config, 'pool config')
      const merged = { ...defaults, ...config }
      const core = new RoutedPoolCore(pindb, pgDriver(pg, merged, adapter.createPool, onIdleError), adapter)
      const binding: LogicalClientBinding = { core, homeSet }
      super({ ...merged, ...identityConfig((pindb.databases[homeSet] ?? {}) as Record<string, unknown>), Client, [BINDING]: binding })
      const options = (this as unknown as { options: Record<PropertyKey, unknown> }).options
      Object.defineProperty(options, BINDING, { value: binding, enumerable: false })
      hideSecrets(options)
      const self = this as unknown as { end(): Promise<void>; ending: boolean }
      core.seam.onClose(() => (self.ending ? undefined : self.end()))
      bindings.set(this, binding)
    }

    /** The pindb instance this pool routes for. */
    get pindb(): PinDb<object> {
      return pindb
    }

    /**
     * pg-pool's `connect`, with the callback bound to the caller's unit of work: pg-pool hands a
     * released client to the next waiter from inside the releasing caller's callback, so an
     * unbound callback (pg-pool's own `query` uses one) would run in — and route for — another
     * unit of work.
     */
    connect(callback?: (...args: unknown[]) => void): unknown {
      return super.connect(typeof callback === 'function' ? seam.bindToContext(callback) : callback)
    }

    /**
     * pg-pool's events, with one difference: an idle client's `error` (its server restarted) is
     * emitted only when someone listens — pg would crash the process with an unhandled `error`.
     */
    emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error' && this.listenerCount('error') === 0) return false
      return super.emit(event, ...args) as boolean
    }

    /**
     * pg-pool's `query`, after one check: in strict mode a write to an unpinned set throws before a
     * client is checked out, so nothing reaches a server.
     */
    query(...args: unknown[]): unknown {
      if (seam.options.mode === 'strict') {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: unknown } | null)?.text
        const core = bindings.get(this)?.core
        if (typeof text === 'string' && core !== undefined) {
          const statement = core.planner.plan(text)
          try {
            if (statement.plan.intent === 'write') seam.assertWritable(statement.hints, statement.options)
          } catch (err) {
            const callback = args.find((a) => typeof a === 'function') as ((e: unknown) => void) | undefined
            if (callback === undefined) return Promise.reject(err)
            process.nextTick(() => callback(err))
            return undefined
          }
        }
      }
      return super.query(...args)
    }

    end(callback?: (err?: Error) => void): Promise<void> | undefined {
      const ended = (super.end() as Promise<void>).then(() => bindings.get(this)?.core.end())
      if (callback === undefined) return ended
      ended.then(() => callback(), callback)
      return undefined
    }
  }
  return { Pool: PinDbPgPool, Client }
}

const bindings = new WeakMap<object, LogicalClientBinding>()

/** @internal The routing core of a pool made by {@link definePgClasses}. */
export function coreOf(pool: object): RoutedPoolCore<PgPoolLike> | undefined {
  return bindings.get(pool)?.core
}
