/**
 * Public types of pindb's SQL classifier.
 *
 * @module
 */

/** SQL dialect of the statement text: PostgreSQL, or MySQL/MariaDB. */
export type SqlDialect = 'postgres' | 'mysql'

/** Options of {@link classifySql}. */
export interface ClassifyOptions {
  /** Lexical and grammatical rules to apply. */
  dialect: SqlDialect
  /**
   * Extra function names (lower-case, optionally schema-qualified, e.g. `audit.log_event`)
   * whose call makes a statement a write. A bare name matches a call with any qualification;
   * a qualified name matches the same qualified call and the unqualified call (which
   * `search_path` may resolve to it). Quoted identifiers in the SQL are compared
   * case-insensitively, which can only add writes, never reads.
   *
   * Keep the same array instance between calls: its compiled form is cached per instance.
   */
  writeFunctions?: readonly string[]
}

/** Transaction-control statement kinds reported in {@link SqlClassification.transaction}. */
export type SqlTransactionKind =
  | 'begin'
  | 'begin-read-only'
  | 'commit'
  | 'rollback'
  | 'savepoint'
  | 'release'
  | 'rollback-to'
  | 'prepare-transaction'
  | 'set-transaction'

/** Kinds of server-session state reported in {@link SqlClassification.session}. */
export type SqlSessionKind =
  | 'set'
  | 'prepare'
  | 'cursor'
  | 'listen'
  | 'temp-table'
  | 'advisory-lock'
  | 'lock'
  | 'use'
  | 'user-variable'
  | 'other'
  | 'read'

/** Result of {@link classifySql}. */
export interface SqlClassification {
  /**
   * `'read'` only when the classifier is certain the statement neither writes nor takes
   * locks nor depends on session state; everything else, including anything unknown or
   * unparseable, is `'write'`.
   */
  kind: 'read' | 'write'
  /**
   * Short machine-readable reason.
   *
   * Reads: `'select'` (SELECT / WITH / VALUES / TABLE), `'show'`, `'explain'`, `'describe'`
   * (MySQL), `'help'` (MySQL), `'copy-to'` (PostgreSQL `COPY … TO STDOUT`), `'transaction'`
   * (read-only `BEGIN`), `'hint'` (a hint comment changed the routing of a read).
   *
   * Writes: `'dml'`, `'writable-cte'`, `'locking-read'`, `'select-into'`,
   * `'write-function:<name>'`, `'session-function:<name>'` (currval, lastval, FOUND_ROWS…),
   * `'session-variable:<name>'` (MySQL `@@identity`, `@@last_insert_id`…),
   * `'user-variable'`, `'ddl'`, `'dcl'`, `'transaction'`, `'set'`, `'prepare'`, `'execute'`,
   * `'cursor'`, `'lock'`, `'listen'`, `'notify'`, `'call'`, `'do'`, `'maintenance'`, `'admin'`,
   * `'discard'`, `'use'`, `'handler'`, `'diagnostics'`, `'load'`, `'xa'`, `'copy-from'`,
   * `'copy-to-file'`, `'explain-analyze'`, `'explain-write'`, `'show-session'`,
   * `'multi-statement'`, `'empty'`, `'unknown'`, `'unparseable'`, `'ambiguous'` (the text is a
   * read only under some server settings).
   */
  reason: string
  /**
   * A hint comment forced a target. `pindb:primary` always wins (on any statement; `kind` still
   * describes the statement itself); `pindb:replica` is reported only on a read — a write is
   * never sent to a replica. When a hint changes a read's routing, `reason` is `'hint'`.
   */
  hint?: 'primary' | 'replica'
  /** Transaction control, if the statement is one. */
  transaction?: SqlTransactionKind
  /**
   * The statement creates or depends on state that lives in the server session and must not
   * be split across servers. Whenever this is set, `kind` is `'write'`.
   *
   * `'read'`: a single statement that only reads per-connection state an earlier statement
   * left, and changes nothing — `LAST_INSERT_ID()`, `ROW_COUNT()`, `FOUND_ROWS()`,
   * `CONNECTION_ID()`, `@@identity` / `@@last_insert_id` / `@@warning_count` …, `SHOW WARNINGS`
   * (MySQL); `lastval()`, `currval()`, `pg_backend_pid()` (PostgreSQL). It must run on the
   * connection whose state it reads (where the session's last statement ran; the primary for a
   * pool's own query), but it neither pins nor anchors. Mixed with any other finding, or among
   * several statements, such a read is reported as `'other'` instead.
   */
  session?: SqlSessionKind
}
