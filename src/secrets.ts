/**
 * Keeping credentials out of logs. Connection configs carry passwords, SSL keys and connection
 * strings with a password part; pindb must hand the real values to the driver yet never print
 * them. {@link hideSecrets} makes `util.inspect` (hence `console.log`) and `JSON.stringify` of a
 * config show `'[redacted]'` for every secret, without changing what the driver reads (the
 * properties stay as they are, so `{ ...config }` and `config.password` still work);
 * {@link redact} returns such a copy for messages and reports.
 *
 * A secret is any field whose name looks like one — `password`, `passphrase`, `secret`, `token`,
 * `key`, `pfx`, `credentials`, `privateKey`, `apiKey`, … at any depth (`ssl.key`, `ssl.pfx`) —
 * and the password part of a connection string (`postgres://user:pw@host/db`, `?password=pw`).
 *
 * @module
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]'

const SECRET_KEY = /^(?:.*pass(?:word|wd|phrase)?.*|.*secret.*|.*token.*|.*credential.*|.*private_?key.*|.*api_?key.*|key|pfx|auth|authorization|sslkey|sslpassword)$/i
const URL_LIKE_KEY = /^(?:connectionstring|uri|url|dsn|connection_?url|database_?url)$/i
const INSPECT = Symbol.for('nodejs.util.inspect.custom')
const HIDDEN = Symbol.for('pindb:secrets-hidden')
const MAX_DEPTH = 8

/** True when a field of this name holds a secret (`password`, `ssl.key`'s `key`, `passphrase`, `token`, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/**
 * A connection string (or any text) with the password parts replaced: `scheme://user:pw@` →
 * `scheme://user:[redacted]@`, `password=pw` (URL query or libpq `key=value` form) → `password=[redacted]`.
 *
 * @example
 * ```ts
 * redactConnectionString('postgres://app:hunter2@db/app?sslpassword=x') // 'postgres://app:[redacted]@db/app?sslpassword=[redacted]'
 * ```
 */
export function redactConnectionString(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s@/]*@/gi, `$1${REDACTED}@`)
    .replace(/(\b(?:ssl)?pass(?:word|wd|phrase)?\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;]*)/gi, `$1${REDACTED}`)
}

function redactValue(value: unknown, key: string | undefined, depth: number, seen: WeakSet<object>): unknown {
  if (key !== undefined && isSecretKey(key) && value !== undefined && value !== null && value !== '') return REDACTED
  if (typeof value === 'string') return key !== undefined && URL_LIKE_KEY.test(key) ? redactConnectionString(value) : value
  if (typeof value !== 'object' || value === null) return value
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]'
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined, depth + 1, seen))
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto !== Object.prototype && proto !== null) return value
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, k, depth + 1, seen)
    return out
  } finally {
    seen.delete(value)
  }
}

/**
 * A deep copy of `value` (plain objects and arrays) with every secret replaced by `'[redacted]'`
 * and the password part of connection strings removed. Class instances, buffers and functions are
 * kept as they are (a function under a secret name is redacted). Use it for logs, reports and
 * error messages; never pass the result to a driver.
 *
 * @example
 * ```ts
 * redact({ host: 'db', password: 'hunter2', ssl: { key: '-----BEGIN…', ca: '…' } })
 * // { host: 'db', password: '[redacted]', ssl: { key: '[redacted]', ca: '…' } }
 * ```
 */
export function redact<T>(value: T): T {
  return redactValue(value, undefined, 0, new WeakSet()) as T
}

/**
 * Makes `util.inspect`, `console.log` and `JSON.stringify` of `obj` print its {@link redact}ed
 * form, by adding two non-enumerable members (`[util.inspect.custom]` and `toJSON`) to `obj`
 * itself. Every property stays readable and enumerable: drivers, `{ ...obj }` and
 * `Object.entries(obj)` still see the real values (a spread copy is not protected). Returns `obj`.
 * Objects that already define `toJSON` or are frozen are left alone (use {@link redact}).
 *
 * @example
 * ```ts
 * const config = hideSecrets({ host: 'db', password: 'hunter2' })
 * console.log(config)            // { host: 'db', password: '[redacted]' }
 * config.password                // 'hunter2'
 * ```
 */
export function hideSecrets<T extends object>(obj: T): T {
  const target = obj as Record<PropertyKey, unknown>
  if (target[HIDDEN] === true || !Object.isExtensible(obj) || 'toJSON' in obj) return obj
  const hidden = { configurable: true, enumerable: false, writable: true }
  Object.defineProperty(obj, HIDDEN, { ...hidden, value: true })
  Object.defineProperty(obj, 'toJSON', { ...hidden, value: function toJSON(this: object) { return redact({ ...this }) } })
  Object.defineProperty(obj, INSPECT, {
    ...hidden,
    value: function inspect(this: object, depth: number, options: object, inspectFn?: (v: unknown, o: object) => string) {
      const view = redact({ ...this })
      // Node passes `inspect` itself as the third argument (Node ≥ 16.14); without it, return the plain view.
      return typeof inspectFn === 'function' ? inspectFn(view, { ...options, depth }) : view
    },
  })
  return obj
}
