/**
 * Constructors of classification results.
 *
 * @internal
 * @module
 */
import type { SqlClassification, SqlSessionKind, SqlTransactionKind } from './types.js'

/** A write verdict (optional fields only when defined, for `exactOptionalPropertyTypes`). */
export function write(reason: string, session?: SqlSessionKind, transaction?: SqlTransactionKind): SqlClassification {
  const r: SqlClassification = { kind: 'write', reason }
  if (session !== undefined) r.session = session
  if (transaction !== undefined) r.transaction = transaction
  return r
}

/** A read verdict. */
export function read(reason: string): SqlClassification {
  return { kind: 'read', reason }
}
