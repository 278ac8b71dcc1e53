/**
 * Keyword table of the SQL classifier: every word the classifier reacts to (statement heads,
 * clause keywords, write functions) gets a small integer id. The tokenizer looks each word up
 * here by a cheap key (length and three characters) and confirms by comparing characters, so
 * recognising a keyword allocates nothing.
 *
 * @internal
 * @module
 */

/** Every word the classifier knows, lower-case. A word's id is its index + 1. */
const WORDS = [
  // statement heads
  'select', 'with', 'values', 'table', 'show', 'explain', 'describe', 'desc', 'insert', 'update',
  'delete', 'merge', 'replace', 'upsert', 'create', 'alter', 'drop', 'truncate', 'comment',
  'rename', 'grant', 'revoke', 'lock', 'unlock', 'listen', 'unlisten', 'notify', 'call', 'do',
  'vacuum', 'analyze', 'analyse', 'refresh', 'cluster', 'reindex', 'checkpoint', 'set', 'reset',
  'discard', 'prepare', 'execute', 'deallocate', 'declare', 'fetch', 'move', 'close', 'use',
  'handler', 'load', 'xa', 'flush', 'kill', 'purge', 'install', 'uninstall', 'shutdown', 'restart',
  'optimize', 'repair', 'check', 'checksum', 'cache', 'import', 'security', 'reassign', 'begin',
  'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'copy', 'help', 'binlog',
  'change', 'stop', 'get', 'signal', 'resignal', 'clone',
  // clause words
  'from', 'to', 'into', 'for', 'share', 'key', 'no', 'in', 'as', 'not', 'transaction', 'work',
  'read', 'only', 'write', 'isolation', 'level', 'serializable', 'repeatable', 'committed',
  'uncommitted', 'deferrable', 'consistent', 'snapshot', 'session', 'characteristics', 'temp',
  'temporary', 'prepared', 'stdout', 'next', 'value', 'warnings', 'errors', 'count', 'profile',
  'profiles', 'verbose', 'format', 'extended', 'partitions', 'connection', 'sql_calc_found_rows',
  'global', 'local', 'or', 'previous',
  // functions that write or depend on session state
  'nextval', 'setval', 'currval', 'lastval', 'pg_notify', 'set_config', 'txid_current',
  'pg_current_xact_id', 'pg_switch_wal', 'pg_switch_xlog', 'pg_create_restore_point',
  'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup',
  'pg_create_physical_replication_slot', 'pg_create_logical_replication_slot',
  'pg_drop_replication_slot', 'pg_replication_slot_advance', 'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot', 'pg_logical_slot_get_changes',
  'pg_logical_slot_get_binary_changes', 'pg_logical_emit_message', 'pg_terminate_backend',
  'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_promote', 'pg_wal_replay_pause',
  'pg_wal_replay_resume', 'pg_stat_reset', 'pg_stat_reset_shared',
  'pg_stat_reset_single_table_counters', 'pg_stat_reset_single_function_counters',
  'pg_stat_reset_slru', 'pg_stat_reset_replication_slot', 'pg_stat_reset_subscription_stats',
  'pg_export_snapshot', 'pg_import_system_collations', 'pg_replication_origin_create',
  'pg_replication_origin_drop', 'pg_replication_origin_session_setup',
  'pg_replication_origin_advance', 'pg_replication_origin_xact_setup', 'pg_file_write',
  'pg_file_unlink', 'pg_file_rename', 'pg_file_sync', 'lowrite', 'loread', 'dblink_exec',
  'get_lock', 'release_lock', 'release_all_locks', 'last_insert_id', 'found_rows', 'row_count',
  'master_pos_wait', 'source_pos_wait', 'connection_id', 'pg_backend_pid', 'pg_my_temp_schema',
  'txid_current_if_assigned', 'pg_current_xact_id_if_assigned',
] as const

/** A word of the keyword table. */
export type Word = (typeof WORDS)[number]

/** Session state a write function touches, or `undefined` for none. */
type FnSession = 'advisory-lock' | 'set' | 'other' | 'read' | undefined

/** Functions whose call makes a statement a write, with the session state they touch. */
const WRITE_FUNCTIONS: ReadonlyArray<readonly [Word, FnSession]> = [
  ['nextval', undefined], ['setval', undefined], ['currval', 'read'], ['lastval', 'read'],
  ['pg_notify', undefined], ['set_config', 'set'], ['txid_current', undefined],
  ['pg_current_xact_id', undefined], ['pg_switch_wal', undefined], ['pg_switch_xlog', undefined],
  ['pg_create_restore_point', undefined], ['pg_backup_start', 'other'], ['pg_backup_stop', 'other'],
  ['pg_start_backup', 'other'], ['pg_stop_backup', 'other'],
  ['pg_create_physical_replication_slot', undefined], ['pg_create_logical_replication_slot', undefined],
  ['pg_drop_replication_slot', undefined], ['pg_replication_slot_advance', undefined],
  ['pg_copy_physical_replication_slot', undefined], ['pg_copy_logical_replication_slot', undefined],
  ['pg_logical_slot_get_changes', undefined], ['pg_logical_slot_get_binary_changes', undefined],
  ['pg_logical_emit_message', undefined], ['pg_terminate_backend', undefined],
  ['pg_cancel_backend', undefined], ['pg_reload_conf', undefined], ['pg_rotate_logfile', undefined],
  ['pg_promote', undefined], ['pg_wal_replay_pause', undefined], ['pg_wal_replay_resume', undefined],
  ['pg_stat_reset', undefined], ['pg_stat_reset_shared', undefined],
  ['pg_stat_reset_single_table_counters', undefined], ['pg_stat_reset_single_function_counters', undefined],
  ['pg_stat_reset_slru', undefined], ['pg_stat_reset_replication_slot', undefined],
  ['pg_stat_reset_subscription_stats', undefined], ['pg_export_snapshot', 'other'],
  ['pg_import_system_collations', undefined], ['pg_replication_origin_create', undefined],
  ['pg_replication_origin_drop', undefined], ['pg_replication_origin_session_setup', 'other'],
  ['pg_replication_origin_advance', undefined], ['pg_replication_origin_xact_setup', 'other'],
  ['pg_file_write', undefined], ['pg_file_unlink', undefined], ['pg_file_rename', undefined],
  ['pg_file_sync', undefined], ['lowrite', 'other'], ['loread', 'other'], ['dblink_exec', undefined],
  ['get_lock', 'advisory-lock'], ['release_lock', 'advisory-lock'],
  ['release_all_locks', 'advisory-lock'], ['last_insert_id', 'other'], ['found_rows', 'read'],
  ['row_count', 'read'], ['master_pos_wait', undefined], ['source_pos_wait', undefined],
  ['connection_id', 'read'], ['pg_backend_pid', 'read'], ['pg_my_temp_schema', 'read'],
  ['txid_current_if_assigned', 'read'], ['pg_current_xact_id_if_assigned', 'read'],
]

/**
 * Functions that only read, but read state that an earlier statement left in the session
 * (a sequence's value in this session, the last statement's row count…), so they must run
 * where that statement ran.
 */
const SESSION_READS: ReadonlySet<Word> = new Set<Word>([
  'currval', 'lastval', 'found_rows', 'row_count', 'pg_export_snapshot', 'connection_id', 'pg_backend_pid',
  'pg_my_temp_schema', 'txid_current_if_assigned', 'pg_current_xact_id_if_assigned',
])

/** A function call that makes a statement a write. */
export interface WriteFunction {
  /** `'write-function:<name>'`, or `'session-function:<name>'` for session-dependent reads. */
  readonly reason: string
  /** Session state the call creates or depends on. */
  readonly session: FnSession
}

/** FNV-1a offset basis (name hashes of {@link ./functions.ts}). */
export const HASH_SEED = 0x811c9dc5 | 0
/** FNV-1a prime. */
export const HASH_PRIME = 0x01000193

const TABLE_BITS = 11
const TABLE_MASK = (1 << TABLE_BITS) - 1
/** Open-addressing hash table: slot → word id (0 = empty). */
const slotId = new Int32Array(1 << TABLE_BITS)
/** Slot → the word's key, checked before the characters are compared. */
const slotKey = new Int32Array(1 << TABLE_BITS)
/**
 * Quick filter: non-zero when some known word has this length (< 64) and these first and last
 * characters (low five bits). Most identifiers of a statement fail it and skip the lookup.
 */
const maybeWord = new Uint8Array(64 << 10)
/** Word id → word, case-folded with `| 0x20` like the input. */
const foldedWords: string[] = ['']
/** Word id → write-function descriptor. */
const writeFunctions: Array<WriteFunction | undefined> = []

/**
 * Cheap key of a word: its length and its first, second and last characters, folded with
 * `| 0x20` (identifier characters fold exactly to lower case). Computing it costs no per-character
 * work while the tokenizer scans the word; equal keys are confirmed by comparing characters.
 */
function wordKey(sql: string, start: number, end: number): number {
  const len = end - start
  const c0 = sql.charCodeAt(start) | 0x20
  const c1 = len > 1 ? sql.charCodeAt(start + 1) | 0x20 : 0
  const cl = sql.charCodeAt(end - 1) | 0x20
  return (((len & 0xff) << 24) ^ ((c0 & 0xff) << 16) ^ ((c1 & 0xff) << 8) ^ (cl & 0xffff)) | 0
}

/** Index into {@link maybeWord} (case-insensitive for letters). */
function filterIndex(first: number, last: number, len: number): number {
  return (len << 10) | ((first & 31) << 5) | (last & 31)
}

/** Table slot of a key. */
function slotOf(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - TABLE_BITS)
}

for (let i = 0; i < WORDS.length; i++) {
  const word = WORDS[i] as Word
  const id = i + 1
  let folded = ''
  for (let k = 0; k < word.length; k++) folded += String.fromCharCode(word.charCodeAt(k) | 0x20)
  foldedWords.push(folded)
  maybeWord[filterIndex(word.charCodeAt(0), word.charCodeAt(word.length - 1), word.length)] = 1
  const key = wordKey(word, 0, word.length)
  let slot = slotOf(key)
  while (slotId[slot] !== 0) slot = (slot + 1) & TABLE_MASK
  slotId[slot] = id
  slotKey[slot] = key
}
for (const [name, session] of WRITE_FUNCTIONS) {
  const reason = SESSION_READS.has(name) ? `session-function:${name}` : `write-function:${name}`
  writeFunctions[kw(name)] = { reason, session }
}

/** Id of a known word; throws at module load for a typo. */
export function kw(word: Word): number {
  const id = WORDS.indexOf(word) + 1
  if (id === 0) throw new Error(`unknown keyword ${word}`)
  return id
}

/**
 * Id of the word `sql.slice(start, end)` (case-insensitive), or 0 if it is not a known word.
 */
export function lookupWord(sql: string, start: number, end: number): number {
  const len = end - start
  if (len >= 64 || maybeWord[filterIndex(sql.charCodeAt(start), sql.charCodeAt(end - 1), len)] === 0) return 0
  const key = wordKey(sql, start, end)
  let slot = slotOf(key)
  for (;;) {
    const id = slotId[slot] as number
    if (id === 0) return 0
    if (slotKey[slot] === key) {
      const word = foldedWords[id] as string
      if (word.length === end - start) {
        let k = 0
        while (k < word.length && (sql.charCodeAt(start + k) | 0x20) === word.charCodeAt(k)) k++
        if (k === word.length) return id
      }
    }
    slot = (slot + 1) & TABLE_MASK
  }
}

/** Word ids the query scan reacts to (see {@link isAttentionWord}). */
const attentionWords = new Uint8Array(WORDS.length + 1)
for (const w of ['insert', 'update', 'delete', 'merge', 'into', 'for', 'lock', 'next', 'previous', 'sql_calc_found_rows'] as const) {
  attentionWords[kw(w)] = 1
}

/** Whether the query scan must look at this word (a data-modifying, locking, `INTO`… word). */
export function isAttentionWord(id: number): boolean {
  return attentionWords[id] === 1
}

/** Whether the word id names a built-in write function. */
export function isWriteFunctionWord(id: number): boolean {
  return writeFunctions[id] !== undefined
}

/** Write-function descriptor of a word id, if calling it writes. */
export function writeFunctionOf(id: number): WriteFunction | undefined {
  return writeFunctions[id]
}
