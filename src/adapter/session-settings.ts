/**
 * Connection-setup settings that a routed connection re-applies wherever its statements run,
 * instead of anchoring on the server where they were first issued. ORMs send them when they open
 * a connection (Sequelize: `SET client_min_messages TO warning; SET TIME ZONE '+00:00'`, Knex:
 * `set search_path to …`, TypeORM/Sequelize on MySQL: `SET time_zone = …`, `SET NAMES …`). Only
 * settings that change how the session talks — never what data it sees or may write — qualify;
 * anything else (`SET ROLE`, user variables, `SET LOCAL`, `autocommit`) is session state and still
 * anchors the connection.
 *
 * @module
 */
import type { SqlDialect } from '../sql/index.js'

const POSTGRES_SETTINGS = new Set([
  'client_min_messages', 'timezone', 'standard_conforming_strings', 'search_path', 'application_name',
  'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'datestyle', 'intervalstyle',
  'extra_float_digits', 'client_encoding', 'bytea_output', 'default_transaction_isolation', 'jit', 'work_mem',
  'idle_session_timeout', 'transaction_timeout', 'bytea_output', 'xmloption', 'timezone_abbreviations',
])

const MYSQL_SETTINGS = new Set([
  'time_zone', 'sql_mode', 'names', 'character_set_client', 'character_set_results', 'character_set_connection',
  'collation_connection', 'transaction_isolation', 'tx_isolation', 'group_concat_max_len', 'max_execution_time',
  'sql_select_limit', 'div_precision_increment', 'lc_time_names', 'sql_big_selects',
])

/** One replayable setting: its normalized name and the statement that sets it. */
export interface SessionSetting {
  readonly key: string
  readonly sql: string
}

/**
 * Splits `sql` into statements at top-level semicolons (ignoring quoted text and comments). Returns
 * undefined for text this simple scanner does not understand (dollar quotes, unterminated quotes).
 */
function splitStatements(sql: string): string[] | undefined {
  const out: string[] = []
  let start = 0
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]
    if (c === "'" || c === '"' || c === '`') {
      const end = sql.indexOf(c, i + 1)
      if (end < 0) return undefined
      i = end
    } else if (c === '$' || (c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '*') || c === '#') {
      return undefined
    } else if (c === ';') {
      out.push(sql.slice(start, i))
      start = i + 1
    }
  }
  out.push(sql.slice(start))
  return out.map((s) => s.trim()).filter((s) => s.length > 0)
}

const PG_FORMS: readonly [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^set\s+(?:session\s+)?time\s+zone\s+\S/i, () => 'timezone'],
  [/^set\s+(?:session\s+)?names\s+\S/i, () => 'client_encoding'],
  [/^set\s+(?:session\s+)?([a-z_][a-z0-9_]*)\s*(?:=|\s+to\s+|\s+to$)/i, (m) => m[1]!.toLowerCase()],
  [/^reset\s+([a-z_][a-z0-9_]*)$/i, (m) => m[1]!.toLowerCase()],
]

const MYSQL_FORMS: readonly [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^set\s+(?:names|character\s+set)\s+\S/i, () => 'names'],
  [/^set\s+(?:session\s+|@@session\.|@@)transaction\s+isolation\s+level\s+/i, () => 'transaction_isolation'],
  [/^set\s+(?:session\s+|local\s+|@@session\.|@@local\.|@@)?([a-z_][a-z0-9_]*)\s*:?=\s*[^,]+$/i, (m) => m[1]!.toLowerCase()],
]

/**
 * The settings `sql` makes, when every statement in it is a replayable setting (else undefined).
 *
 * @example
 * ```ts
 * replayableSettings("SET client_min_messages TO warning; SET TIME ZONE '+00:00'", 'postgres')
 * // [{ key: 'client_min_messages', sql: 'SET client_min_messages TO warning' }, { key: 'timezone', … }]
 * ```
 */
export function replayableSettings(sql: string, dialect: SqlDialect): SessionSetting[] | undefined {
  if (sql.length > 2000 || !/^\s*(set|reset)\s/i.test(sql)) return undefined
  const statements = splitStatements(sql)
  if (statements === undefined || statements.length === 0) return undefined
  const forms = dialect === 'postgres' ? PG_FORMS : MYSQL_FORMS
  const allowed = dialect === 'postgres' ? POSTGRES_SETTINGS : MYSQL_SETTINGS
  const out: SessionSetting[] = []
  for (const statement of statements) {
    // User variables and anything computed from them are session state, not settings.
    if (statement.includes('@') && !/^set\s+(?:@@session\.|@@local\.|@@)[a-z_]+\s*:?=\s*[^@]*$/i.test(statement)) return undefined
    let key: string | undefined
    for (const [form, name] of forms) {
      const m = statement.match(form)
      if (m !== null) {
        key = name(m)
        break
      }
    }
    if (key === undefined || !allowed.has(key)) return undefined
    out.push({ key, sql: statement })
  }
  return out
}

/** The settings a session has made, in the order they must be replayed. */
export class SessionSettings {
  readonly #byKey = new Map<string, string>()
  #signature = ''

  /** True when no setting was made. */
  get empty(): boolean {
    return this.#byKey.size === 0
  }

  /** A string that is equal for equal settings: what a connection has applied. */
  get signature(): string {
    return this.#signature
  }

  /** The statements to replay, oldest first. */
  statements(): string[] {
    return [...this.#byKey.values()]
  }

  /** Records settings (a later one for the same key replaces the earlier). */
  record(settings: readonly SessionSetting[]): void {
    for (const { key, sql } of settings) {
      this.#byKey.delete(key)
      this.#byKey.set(key, sql)
    }
    this.#signature = this.statements().join(';\n')
  }
}

/** The settings signature each physical connection has applied ('' or absent: the server's defaults). */
const applied = new WeakMap<object, string>()

/** What a driver must do to bring a connection to a session's settings. */
export interface SettingsApplier<Conn> {
  /** Runs setup statements on a connection, in order. */
  exec(conn: Conn, statements: readonly string[]): Promise<void>
  /** Resets a connection's settings to its defaults (PostgreSQL: `RESET ALL`). */
  reset(conn: Conn): Promise<void>
}

/** Brings `conn` to `settings` (a no-op when it already has them: the usual case). */
export function applySettings<Conn extends object>(conn: Conn, settings: SessionSettings, driver: SettingsApplier<Conn>): Promise<void> | undefined {
  // The usual case — the connection already has the session's settings — costs no promise (this
  // runs before every routed statement).
  if ((applied.get(conn) ?? '') === settings.signature) return undefined
  return replay(conn, settings, driver)
}

async function replay<Conn extends object>(conn: Conn, settings: SessionSettings, driver: SettingsApplier<Conn>): Promise<void> {
  if ((applied.get(conn) ?? '') !== '') await driver.reset(conn)
  applied.set(conn, '')
  if (!settings.empty) await driver.exec(conn, settings.statements())
  applied.set(conn, settings.signature)
}

/** Records that `conn` now has `settings` (the setting statement itself just ran on it). */
export function markApplied(conn: object, settings: SessionSettings): void {
  applied.set(conn, settings.signature)
}
