/**
 * DB sets and aliases: {@link populateReplicas} (django-pindb's `populate_replicas`) and the
 * validated, frozen {@link Topology} every other part of pindb routes against.
 *
 * @module
 */
import { PinDbConfigError } from './errors.js'
import { hideSecrets } from './secrets.js'

/** Per-set list of replica overrides: replica `i` is the primary's config shallow-merged with `overrides[i]`. */
export type ReplicaOverrides<C extends object> = Readonly<Record<string, readonly Partial<C>[]>>

/** Options of {@link populateReplicas}. */
export interface PopulateOptions {
  /**
   * Allow the primaries to lack a `default` set. Then `default` (the alias used when no delegate
   * answers) must be an unmanaged database, or every delegate must always answer.
   */
  unmanagedDefault?: boolean
}

/** The alias of replica `index` of `primary`: `` `${primary}-${index}` ``, counting from 0. */
export function replicaAlias(primary: string, index: number): string {
  return `${primary}-${index}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Expands primaries and replica overrides into the flat `{ alias: config }` map: each primary as
 * given (the same object), then replica `i` of primary `p` as alias `` `${p}-${i}` `` — a shallow
 * merge of the primary's config and that replica's override. The inputs are never mutated.
 *
 * @example
 * ```ts
 * populateReplicas(
 *   { default: { host: '10.0.1.0', port: 5432, database: 'app' } },
 *   { default: [{ host: '10.0.1.1' }, { host: '10.0.1.2', port: 5433 }] },
 * )
 * // { default: {…}, 'default-0': { host: '10.0.1.1', port: 5432, database: 'app' },
 * //   'default-1': { host: '10.0.1.2', port: 5433, database: 'app' } }
 * ```
 * @throws {@link PinDbConfigError} for no `default` primary (unless `unmanagedDefault`), a primary
 * without a replica list, a replica list without a primary, a config or override that is not an
 * object, or a generated alias that collides with another primary.
 */
export function populateReplicas<C extends object>(
  primaries: Readonly<Record<string, C>>,
  replicas: ReplicaOverrides<C>,
  options: PopulateOptions = {},
): Record<string, C> {
  if (!isPlainObject(primaries)) {
    throw new PinDbConfigError('primaries', 'must be an object mapping each primary alias to its connection config.')
  }
  if (!isPlainObject(replicas)) {
    throw new PinDbConfigError('replicas', 'must be an object mapping each primary alias to a list of replica overrides (`[]` for none).')
  }
  if (!Object.hasOwn(primaries, 'default') && options.unmanagedDefault !== true) {
    throw new PinDbConfigError(
      'primaries',
      'declare a primary named "default" (used when no delegate chooses a set), or pass `unmanagedDefault: true` and define "default" as an unmanaged database.',
    )
  }
  for (const set of Object.keys(replicas)) {
    if (!Object.hasOwn(primaries, set)) {
      throw new PinDbConfigError(`replicas.${set}`, `lists replicas for "${set}", which is not a primary. Add "${set}" to \`primaries\` or remove this entry.`)
    }
  }
  const out: Record<string, C> = {}
  for (const [set, config] of Object.entries(primaries)) {
    if (!isPlainObject(config)) {
      throw new PinDbConfigError(`primaries.${set}`, 'must be a connection config object.')
    }
    out[set] = config
  }
  for (const [set, config] of Object.entries(primaries)) {
    const overrides = replicas[set]
    if (overrides === undefined) {
      throw new PinDbConfigError(`replicas.${set}`, `is missing: give "${set}" a list of replica overrides, or \`[]\` if it has no replicas.`)
    }
    if (!Array.isArray(overrides)) {
      throw new PinDbConfigError(`replicas.${set}`, 'must be an array of replica override objects (`[]` for none).')
    }
    overrides.forEach((override: unknown, index) => {
      const alias = replicaAlias(set, index)
      if (!isPlainObject(override)) {
        throw new PinDbConfigError(`replicas.${set}[${index}]`, 'must be an object of settings that differ from the primary (for example `{ host: "replica-1" }`).')
      }
      if (Object.hasOwn(out, alias)) {
        throw new PinDbConfigError(
          `replicas.${set}[${index}]`,
          `its alias "${alias}" collides with the primary "${alias}". Rename that primary: replica aliases are \`<primary>-<index>\`.`,
        )
      }
      out[alias] = { ...config, ...override }
    })
  }
  return out
}

/** The role of an alias in a {@link Topology}. */
export type AliasRole = 'primary' | 'replica' | 'unmanaged'

/**
 * A copy of `configs` merged left to right with every own property — non-enumerable ones and
 * accessors included (a spread would drop a non-enumerable `password`) — whose `util.inspect` and
 * `JSON.stringify` redact secrets ({@link hideSecrets}).
 */
function protectedCopy(...configs: readonly object[]): object {
  const descriptors: PropertyDescriptorMap = {}
  for (const config of configs) Object.assign(descriptors, Object.getOwnPropertyDescriptors(config))
  for (const key of ['toJSON', Symbol.for('nodejs.util.inspect.custom'), Symbol.for('pindb:secrets-hidden')]) delete descriptors[key as string]
  return hideSecrets(Object.create(Object.getPrototypeOf(configs[0] ?? {}) as object | null, descriptors) as object)
}

/** The validated shape of a deployment: DB sets, their replicas, and unmanaged aliases. */
export interface Topology<C extends object = object> {
  /**
   * Every alias's connection config: primaries, replicas and unmanaged databases. Each is pindb's
   * own copy (a replica's is its primary's config with its override applied); `console.log`,
   * `util.inspect` and `JSON.stringify` show secrets (passwords, SSL keys, a connection string's
   * password) as `'[redacted]'`, while reading a property gives the real value.
   */
  readonly databases: Readonly<Record<string, C>>
  /** DB set (primary alias) → its replica aliases, in index order. */
  readonly sets: ReadonlyMap<string, readonly string[]>
  /** Replica alias → its DB set. */
  readonly replicaToSet: ReadonlyMap<string, string>
  /** Aliases pindb passes through untouched. */
  readonly unmanaged: ReadonlySet<string>
}

/** @internal Builds the frozen topology from validated options. */
export function buildTopology<C extends object>(
  primaries: Readonly<Record<string, C>>,
  replicas: ReplicaOverrides<C>,
  unmanaged: Readonly<Record<string, C>>,
  options: PopulateOptions,
): Topology<C> {
  if (!isPlainObject(unmanaged)) {
    throw new PinDbConfigError('unmanaged', 'must be an object mapping alias to connection config.')
  }
  const populated = populateReplicas(primaries, replicas, options)
  for (const [set, config] of Object.entries(primaries)) {
    populated[set] = protectedCopy(config) as C
    ;(replicas[set] ?? []).forEach((override, i) => {
      populated[replicaAlias(set, i)] = protectedCopy(config, override) as C
    })
  }
  const sets = new Map<string, string[]>()
  const replicaToSet = new Map<string, string>()
  for (const set of Object.keys(primaries)) {
    const aliases = (replicas[set] ?? []).map((_, i) => replicaAlias(set, i))
    sets.set(set, aliases)
    for (const alias of aliases) replicaToSet.set(alias, set)
  }
  for (const [alias, config] of Object.entries(unmanaged)) {
    if (Object.hasOwn(populated, alias)) {
      throw new PinDbConfigError(`unmanaged.${alias}`, `"${alias}" is already a ${sets.has(alias) ? 'primary' : 'replica'} alias. Give the unmanaged database another name.`)
    }
    if (!isPlainObject(config)) throw new PinDbConfigError(`unmanaged.${alias}`, 'must be a connection config object.')
    populated[alias] = protectedCopy(config) as C
  }
  return Object.freeze({
    databases: Object.freeze(populated),
    sets,
    replicaToSet,
    unmanaged: new Set(Object.keys(unmanaged)),
  })
}

/** @internal Role of an alias, or undefined when pindb does not know it. */
export function roleOf(topology: Topology, alias: string): AliasRole | undefined {
  if (topology.sets.has(alias)) return 'primary'
  if (topology.replicaToSet.has(alias)) return 'replica'
  if (topology.unmanaged.has(alias)) return 'unmanaged'
  return undefined
}
