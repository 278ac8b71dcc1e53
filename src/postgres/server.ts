/**
 * The postgres.js instances of a routed `sql`, one per alias, built from `pindb.databases[alias]`
 * over the user's postgres.js options; and `sql.options`, whose `parsers` / `serializers` write
 * through to every instance — Drizzle's postgres-js driver sets its parsers there, and the
 * connections of each instance read their own instance's maps.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import { targetOf, type PgjsTarget } from './flight.js'
import type { PgjsInstance, PgjsOptions, PostgresModuleLike } from './types.js'

/** @internal One alias's postgres.js instance and where its queries run. */
export interface PgjsServer {
  readonly sql: PgjsInstance
  readonly target: PgjsTarget
}

/** Options that name a server: they come from pindb's `primaries` / `replicas`, never from the shared options. */
const TARGET_OPTIONS = ['host', 'hostname', 'port', 'path', 'url'] as const

/** @internal Throws at once for postgres.js options that would send every alias to one server. */
export function checkSharedOptions(options: Record<string, unknown>): void {
  for (const key of TARGET_OPTIONS) {
    if (options[key] !== undefined) {
      throw new PinDbConfigError(key, `[postgres] the server of each alias comes from pindb's \`primaries\` / \`replicas\`; remove \`${key}\` from the options of createPostgres() and put it in the pindb config.`)
    }
  }
}

/** @internal Builds the postgres.js instance of one alias (a `url` / pg `connectionString` in its config is honoured). */
export function createInstance(postgres: PostgresModuleLike, shared: Record<string, unknown>, config: object): PgjsInstance {
  const { url, connectionString, ...rest } = config as Record<string, unknown>
  const merged = { ...shared, ...rest }
  const target = typeof url === 'string' ? url : typeof connectionString === 'string' ? connectionString : undefined
  const make = postgres as unknown as (...args: unknown[]) => PgjsInstance
  return target === undefined ? make(merged) : make(target, merged)
}

type TypeMaps = 'parsers' | 'serializers'

/** @internal The instances of one routed `sql` and its write-through `options`. */
export class PgjsServers {
  readonly #instances: PgjsInstance[] = []
  readonly #written: Record<TypeMaps, Map<string, { value: unknown } | undefined>> = { parsers: new Map(), serializers: new Map() }
  readonly #typeArrayMap: Record<string, unknown>
  /** `sql.options`: the template instance's, with write-through `parsers` and `serializers`. */
  readonly options: PgjsOptions

  constructor(template: PgjsInstance) {
    this.#instances.push(template)
    this.#typeArrayMap = template.options.shared.typeArrayMap
    this.options = { ...template.options, parsers: this.#writeThrough(template, 'parsers'), serializers: this.#writeThrough(template, 'serializers') }
  }

  /** Every instance made so far. */
  get instances(): readonly PgjsInstance[] {
    return this.#instances
  }

  /** Adds an instance: it gets the parser / serializer writes made so far and the shared array-type map (`sql.array` reads it). */
  adopt(instance: PgjsInstance): PgjsServer {
    if (!this.#instances.includes(instance)) {
      instance.options.shared.typeArrayMap = this.#typeArrayMap
      for (const kind of ['parsers', 'serializers'] as const) {
        for (const [key, written] of this.#written[kind]) {
          if (written === undefined) delete instance.options[kind][key]
          else instance.options[kind][key] = written.value
        }
      }
      this.#instances.push(instance)
    }
    return { sql: instance, target: targetOf(instance) }
  }

  #writeThrough(template: PgjsInstance, kind: TypeMaps): Record<string, unknown> {
    const apply = (key: string, written: { value: unknown } | undefined): true => {
      this.#written[kind].set(key, written)
      for (const instance of this.#instances) {
        if (written === undefined) delete instance.options[kind][key]
        else instance.options[kind][key] = written.value
      }
      return true
    }
    return new Proxy(template.options[kind], {
      set: (target, key, value) => (typeof key === 'string' ? apply(key, { value }) : Reflect.set(target, key, value)),
      deleteProperty: (target, key) => (typeof key === 'string' ? apply(key, undefined) : Reflect.deleteProperty(target, key)),
    })
  }
}
