/**
 * One validator for every options object pindb accepts: `createPinDb` and the routed pools of each
 * adapter. A small schema says, per key, which types are allowed and the bounds of a number; the
 * validator throws {@link PinDbConfigError} naming the full option path, what was expected, what
 * was given (its type — never a string's content, which may be a secret) and the fix, including
 * "did you mean …?" for a misspelt key or value.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import { closest } from './closest.js'
import { describeValue } from './describe.js'

/** A type a field may have. `object`: a plain object (not null, not an array). */
export type FieldType = 'string' | 'number' | 'boolean' | 'function' | 'object' | 'array'

/** How one option is checked. */
export interface FieldSpec {
  /** The allowed type(s). With `enum`, a string or number is checked against it. */
  readonly type: FieldType | readonly FieldType[]
  /** Numbers: the smallest allowed value (inclusive). Numbers must be finite whatever the bounds. */
  readonly min?: number
  /** Numbers: values must be strictly greater than `min`. */
  readonly exclusiveMin?: boolean
  /** Numbers: the largest allowed value (inclusive). */
  readonly max?: number
  /** Numbers: must be an integer. */
  readonly integer?: boolean
  /** Strings: must not be empty (after trimming). */
  readonly nonEmpty?: boolean
  /** The allowed string values (other types listed in `type` are accepted as they are). */
  readonly enum?: readonly string[]
  /** Objects: the schema of their keys (unknown keys rejected unless `openObject`). */
  readonly nested?: Schema
  /** Objects: accept keys the nested schema does not list (their values are not checked). */
  readonly openObject?: boolean
  /** Objects: at least one of these keys must be set (a safety bound must never be silently off). */
  readonly requireOneOf?: readonly string[]
  /** Objects: every value is checked against this spec (a map such as `{ alias: weight }`). */
  readonly values?: FieldSpec
  /** Arrays: every item is checked against this spec. */
  readonly items?: FieldSpec
  /** The option must be given. */
  readonly required?: boolean
  /** Replaces the generated "expected …" text. */
  readonly expected?: string
  /** An example of a valid value, quoted in the fix. */
  readonly example?: string
  /** A last check once the type is right: return a message (the fix included) to reject the value. */
  readonly check?: (value: unknown) => string | undefined
}

/** The keys of an options object and how each is checked. */
export type Schema = Readonly<Record<string, FieldSpec>>

/** Options of {@link validateOptions}. */
export interface ValidateContext {
  /** Prefix of every option path, e.g. `'monitor'` (default: none, the keys are top-level). */
  readonly path?: string
  /** Who takes these options, named in the message for an unknown key, e.g. `'createPgPool(pindb, options)'`. */
  readonly where?: string
  /** Accept top-level keys the schema does not list (default false: they throw). */
  readonly allowUnknown?: boolean
}

const TYPE_NAMES: Record<FieldType, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  function: 'a function',
  object: 'an object',
  array: 'an array',
}

function typesOf(spec: FieldSpec): readonly FieldType[] {
  return typeof spec.type === 'string' ? [spec.type] : spec.type
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function matchesType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'object': return isPlainObject(value)
    case 'array': return Array.isArray(value)
    default: return typeof value === type
  }
}

function numberRange(spec: FieldSpec): string {
  const parts: string[] = []
  if (spec.min !== undefined) parts.push(`${spec.exclusiveMin === true ? '>' : '≥'} ${spec.min}`)
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`)
  return `${spec.integer === true ? 'an integer' : 'a finite number'}${parts.length > 0 ? ` ${parts.join(' and ')}` : ''}`
}

/** The "expected …" text of a spec. */
export function expectedText(spec: FieldSpec): string {
  if (spec.expected !== undefined) return spec.expected
  const alternatives = typesOf(spec).map((type) => {
    if (type === 'number') return numberRange(spec)
    if (type === 'string' && spec.enum !== undefined) return spec.enum.map((v) => `'${v}'`).join(' | ')
    if (type === 'string' && spec.nonEmpty === true) return 'a non-empty string'
    if (type === 'object' && spec.nested !== undefined) return `an object { ${Object.keys(spec.nested).join(', ')} }`
    if (type === 'array' && spec.items !== undefined) return `an array whose items are each ${expectedText(spec.items)}`
    return TYPE_NAMES[type]
  })
  return alternatives.join(' or ')
}

class Validator {
  constructor(readonly where: string | undefined) {}

  fail(path: string, message: string): never {
    throw new PinDbConfigError(path, message)
  }

  wrongValue(path: string, spec: FieldSpec, value: unknown, extra = ''): never {
    const example = spec.example === undefined ? '' : ` For example \`${path.replace(/^.*\./, '')}: ${spec.example}\`.`
    this.fail(path, `expected ${expectedText(spec)}; got ${describeValue(value)}.${extra}${example}`)
  }

  field(path: string, spec: FieldSpec, value: unknown): void {
    const type = typesOf(spec).find((t) => matchesType(value, t))
    if (type === undefined) this.wrongValue(path, spec, value)
    if (type === 'number') this.number(path, spec, value as number)
    if (type === 'string') this.string(path, spec, value as string)
    if (type === 'object') this.object(path, spec, value as Record<string, unknown>)
    if (type === 'array' && spec.items !== undefined) {
      ;(value as unknown[]).forEach((item, i) => this.field(`${path}[${i}]`, spec.items!, item))
    }
    const problem = spec.check?.(value)
    if (problem !== undefined) this.fail(path, problem)
  }

  number(path: string, spec: FieldSpec, n: number): void {
    const tooLow = spec.min !== undefined && (spec.exclusiveMin === true ? !(n > spec.min) : !(n >= spec.min))
    const tooHigh = spec.max !== undefined && !(n <= spec.max)
    if (!Number.isFinite(n) || tooLow || tooHigh || (spec.integer === true && !Number.isInteger(n))) this.wrongValue(path, spec, n)
  }

  string(path: string, spec: FieldSpec, s: string): void {
    if (spec.enum !== undefined && !spec.enum.includes(s)) {
      const guess = closest(s, spec.enum)
      this.wrongValue(path, spec, s, guess === undefined ? '' : ` Did you mean '${guess}'?`)
    }
    if (spec.nonEmpty === true && s.trim() === '') this.wrongValue(path, spec, s)
  }

  object(path: string, spec: FieldSpec, obj: Record<string, unknown>): void {
    if (spec.nested !== undefined) this.keys(path, spec.nested, obj, spec.openObject === true)
    if (spec.values !== undefined) for (const [k, v] of Object.entries(obj)) this.field(`${path}.${k}`, spec.values, v)
    if (spec.requireOneOf !== undefined && !spec.requireOneOf.some((k) => obj[k] !== undefined)) {
      this.fail(path, `set at least one of ${spec.requireOneOf.map((k) => `\`${k}\``).join(', ')}; an empty \`${path}\` would turn this bound off. ` +
        `Remove \`${path}\` if you want no bound.`)
    }
  }

  keys(prefix: string, schema: Schema, obj: Record<string, unknown>, allowUnknown: boolean): void {
    const join = (key: string): string => (prefix === '' ? key : `${prefix}.${key}`)
    if (!allowUnknown) {
      const known = Object.keys(schema)
      for (const key of Object.keys(obj)) {
        if (Object.hasOwn(schema, key)) continue
        const guess = closest(key, known)
        const owner = prefix === '' ? (this.where ?? 'these options') : `\`${prefix}\``
        this.fail(join(key), `is not an option of ${owner}.${guess === undefined ? '' : ` Did you mean \`${guess}\`?`} ` +
          `Valid keys: ${known.map((k) => `\`${k}\``).join(', ')}.`)
      }
    }
    for (const [key, spec] of Object.entries(schema)) {
      const value = obj[key]
      if (value === undefined) {
        if (spec.required === true) this.fail(join(key), `is required: ${expectedText(spec)}.${spec.example === undefined ? '' : ` For example \`${key}: ${spec.example}\`.`}`)
        continue
      }
      this.field(join(key), spec, value)
    }
  }
}

/**
 * Checks an options object against a schema; returns it unchanged when valid. An undefined value
 * counts as absent. Adapters use it for their own options (see `ROUTED_POOL_OPTIONS_SCHEMA`).
 *
 * @example
 * ```ts
 * validateOptions({ intervalMs: { type: 'number', min: 0, exclusiveMin: true } }, { intervalMs: -5 }, { path: 'monitor' })
 * // throws PinDbConfigError: [pindb] `monitor.intervalMs`: expected a finite number > 0; got a number (-5).
 * ```
 * @throws {@link PinDbConfigError} for an unknown key (with the closest valid key), a wrong type, a
 * number out of range, a value outside an enum or a missing required key.
 */
export function validateOptions<T>(schema: Schema, value: T, context: ValidateContext = {}): T {
  const v = new Validator(context.where)
  const path = context.path ?? ''
  if (!isPlainObject(value)) {
    v.fail(path === '' ? 'options' : path, `expected an options object { ${Object.keys(schema).join(', ')} }; got ${describeValue(value)}.`)
  }
  v.keys(path, schema, value as Record<string, unknown>, context.allowUnknown === true)
  return value
}

/**
 * Checks one value against one field spec (for an option that is not an object, such as `monitor: true`).
 * @throws {@link PinDbConfigError} as {@link validateOptions} does.
 */
export function validateField(spec: FieldSpec, value: unknown, path: string, where?: string): void {
  new Validator(where).field(path, spec, value)
}
