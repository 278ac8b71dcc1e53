/**
 * pindb: route database queries between primaries and read replicas, with pinning — once a unit
 * of work writes to a DB set (or declares that it will), its reads go to that set's primary, so it
 * never reads its own writes back stale.
 *
 * Adapters and middleware live in subpath exports: `pindb/pg`, `pindb/mysql2`, `pindb/express`,
 * `pindb/fastify`, `pindb/fetch`, `pindb/bullmq`.
 *
 * @module
 */
export { createPinDb, PinDb, type RunOptions } from './pindb.js'
export { populateReplicas, replicaAlias, type PopulateOptions, type ReplicaOverrides, type Topology, type AliasRole } from './topology.js'
export type { PinDbOptions, Delegate, RouteHints } from './options.js'
export type { ReplicaChoice, ReplicaChooser, ReplicaChoiceInput } from './replica-choice.js'
export type { RouteOptions } from './router.js'
export { ROUTE_CHANNEL, type RouteDecision, type RouteEvent, type RouteReason } from './route-event.js'
export type { PinRecord } from './pin-record.js'
export { ServerRegistry, type ServerState, type ServerCounters, type BackoffOptions } from './server-state.js'
export { positionReached, laterPosition, parseLsn, parseGtidList, isPosition } from './position.js'
export {
  PinDbError,
  PinDbConfigError,
  UnpinnedWriteError,
  NoReplicaAvailableError,
  ServerUnavailableError,
  isPinDbError,
  type PinDbErrorCode,
} from './errors.js'
export { classifySql, type ClassifyOptions, type SqlClassification, type SqlDialect, type SqlSessionKind, type SqlTransactionKind } from './sql/index.js'
export { StatementPlanner, planFor, type StatementPlan } from './adapter/statement-plan.js'
export { ReplicaMonitor, type MonitorOptions, type PositionProbe } from './monitor/replica-monitor.js'
export {
  createPinTokenCodec,
  PIN_TOKEN_VERSION,
  type DecodeResult,
  type PinTokenCodec,
  type PinTokenCodecOptions,
  type PinTokenRejection,
} from './token/index.js'
export {
  createPinCodec,
  captureJobPins,
  runWithJobPins,
  TOKEN_CHANNEL,
  type PinCodecOptions,
  type JobPinOptions,
  type TokenRejectedEvent,
  type TokenRejectedHandler,
} from './jobs.js'
export { redact, hideSecrets, redactConnectionString, isSecretKey, REDACTED } from './secrets.js'
export { validateOptions, validateField, type Schema, type FieldSpec } from './config/validate.js'
export { ROUTED_POOL_OPTIONS_SCHEMA, MONITOR_OPTIONS_SCHEMA } from './config/schemas.js'
export { UNSCOPED_WRITE_CHANNEL, type UnscopedWrites, type UnscopedWriteEvent } from './unscoped-write.js'
export type { LivenessOptions } from './adapter/liveness.js'
