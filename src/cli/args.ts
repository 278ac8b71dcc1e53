/**
 * Argument parsing for the `pindb` CLI, on `node:util` `parseArgs` (no dependencies): unknown flags,
 * missing values and malformed numbers become usage errors (exit code 2).
 *
 * @internal
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { usageError } from './types.js'

type Options = NonNullable<ParseArgsConfig['options']>

/** Parsed flags (`string | boolean | undefined` by name) and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/**
 * Parses `args` against `options` strictly. `command` names the command in error messages.
 * @throws {@link CliError} (exit 2) for an unknown flag, a flag missing its value, or too many positionals.
 */
export function parse(command: string, args: readonly string[], options: Options, maxPositionals: number): Parsed {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw usageError(`${command}: ${message.replace(/\. To specify a positional argument.*$/s, '.')} See \`pindb ${command} --help\`.`)
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values['help'] !== true && parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals).map((p) => JSON.stringify(p)).join(' ')
    throw usageError(`${command}: unexpected argument${parsed.positionals.length - maxPositionals > 1 ? 's' : ''} ${extra}.` +
      (command === 'explain' ? ' Quote the SQL as one argument, or pass - and pipe it in.' : ` See \`pindb ${command} --help\`.`))
  }
  return { values, positionals: parsed.positionals }
}

/** A string flag's value, or undefined. */
export function str(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name]
  return typeof v === 'string' ? v : undefined
}

/**
 * A non-negative integer flag (milliseconds, bytes), or `fallback` when absent.
 * @throws {@link CliError} (exit 2) when it is not a non-negative integer (or a positive one, with `positive`).
 */
export function int(parsed: Parsed, name: string, fallback: number, positive = false): number {
  const raw = str(parsed, name)
  if (raw === undefined) return fallback
  const n = Number(raw.replace(/_/g, ''))
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < 0 || (positive && n === 0)) {
    throw usageError(`--${name} must be ${positive ? 'a positive' : 'a non-negative'} integer; got ${JSON.stringify(raw)}.`)
  }
  return n
}

/**
 * A flag restricted to some values (after mapping aliases), or `fallback` when absent.
 * @throws {@link CliError} (exit 2) for any other value.
 */
export function oneOf<T extends string>(parsed: Parsed, name: string, accepted: Readonly<Record<string, T>>, fallback: T): T
/** {@inheritDoc oneOf} Undefined when absent and no fallback is given. */
export function oneOf<T extends string>(parsed: Parsed, name: string, accepted: Readonly<Record<string, T>>, fallback?: undefined): T | undefined
export function oneOf<T extends string>(parsed: Parsed, name: string, accepted: Readonly<Record<string, T>>, fallback?: T): T | undefined {
  const raw = str(parsed, name)
  if (raw === undefined) return fallback
  const value = Object.hasOwn(accepted, raw.toLowerCase()) ? accepted[raw.toLowerCase()] : undefined
  if (value === undefined) {
    const names = [...new Set(Object.values(accepted))].join(' | ')
    throw usageError(`--${name} must be ${names}; got ${JSON.stringify(raw)}.`)
  }
  return value
}
