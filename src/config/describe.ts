/**
 * How a rejected option value is described in an error message: its type, and the value itself
 * only when it cannot be a secret (numbers, booleans). A string's content is never printed.
 *
 * @internal
 * @module
 */

/** `a string (2 characters)`, `a number (-5)`, `NaN`, `null`, `an array (3 items)`, `an object`, … */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return value === '' ? 'an empty string' : `a string (${value.length} character${value.length === 1 ? '' : 's'})`
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN'
    return Number.isFinite(value) ? `a number (${value})` : `a number (${value > 0 ? 'Infinity' : '-Infinity'})`
  }
  if (typeof value === 'boolean') return `a boolean (${value})`
  if (typeof value === 'bigint') return 'a bigint'
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return `an array (${value.length} item${value.length === 1 ? '' : 's'})`
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name
  return typeof name === 'string' && name !== 'Object' && name !== '' ? `a ${name}` : 'an object'
}
