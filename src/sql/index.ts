/**
 * SQL classification: decides whether a statement may be routed to a read replica.
 *
 * @module
 */
export { classifySql } from './classify.js'
export type {
  ClassifyOptions,
  SqlClassification,
  SqlDialect,
  SqlSessionKind,
  SqlTransactionKind,
} from './types.js'
