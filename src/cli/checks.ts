/**
 * What the doctor's per-driver checks (PostgreSQL, MariaDB/MySQL) share: the probed state of an
 * alias, the driver check interface, and how to tell which alias a replica replicates from.
 *
 * @internal
 * @module
 */
import { addressesOf, endpointMatches, formatEndpoint, type Endpoint } from './net.js'
import type { ActualRole, AliasReport, Session } from './types.js'

/** One alias after phase 1 (connect and probe). `facts` is set when the probe succeeded. */
export interface Probed<F> {
  alias: string
  report: AliasReport
  /** The endpoint from its config. */
  endpoint: Endpoint
  session?: Session
  facts?: F
  /** Other aliases that are the very same server. */
  sameAs: string[]
}

/** Settings of the checks. */
export interface CheckOptions {
  /** How long to watch a replica that is behind to measure its lag (ms). */
  lagLimitMs: number
}

/** A driver's checks. */
export interface DriverChecks<F> {
  /** Phase 1: everything about one server that needs no other server. */
  probe(session: Session): Promise<F>
  role(facts: F): ActualRole
  version(facts: F): string
  /** Endpoints the server reports for itself (besides its config's). */
  selfEndpoints(facts: F): Endpoint[]
  /** Identifies the server: two aliases with the same fingerprint are the same server. */
  fingerprint(facts: F): string | undefined
  /** Problems of an alias configured as a primary. */
  checkPrimary(primary: Probed<F>): void
  /** Problems, lag and `follows` of an alias configured as a replica of `primary`. */
  checkReplica(replica: Probed<F>, primary: Probed<F>, all: readonly Probed<F>[], set: ReadonlyMap<string, string>, options: CheckOptions): Promise<void>
}

/** Every endpoint an alias is known by: its config's, and what its server reports. */
export function endpointsOf<F>(p: Probed<F>, checks: DriverChecks<F>): Endpoint[] {
  return [p.endpoint, ...(p.facts === undefined ? [] : checks.selfEndpoints(p.facts))]
}

/** Where a replica's upstream points, relative to its configured primary. */
export type SenderVerdict =
  | { kind: 'primary' }
  | { kind: 'alias'; alias: string }
  | { kind: 'other-port' }
  | { kind: 'unknown' }

/**
 * Classifies the endpoint a replica replicates from (`sender`): its own primary; another alias of
 * the config; the primary's host on another port (certainly another server); or unknown (a name or
 * address that matches no alias, e.g. behind a proxy).
 */
export async function judgeSender<F>(
  sender: Endpoint, primary: Probed<F>, all: readonly Probed<F>[], checks: DriverChecks<F>,
): Promise<SenderVerdict> {
  if (await endpointMatches(sender, endpointsOf(primary, checks))) return { kind: 'primary' }
  for (const other of all) {
    if (other === primary || other.alias === primary.alias) continue
    if (await endpointMatches(sender, endpointsOf(other, checks))) return { kind: 'alias', alias: other.alias }
  }
  const senderAddresses = await addressesOf(sender.host)
  for (const e of endpointsOf(primary, checks)) {
    for (const a of await addressesOf(e.host)) if (senderAddresses.has(a) && e.port !== sender.port) return { kind: 'other-port' }
  }
  return { kind: 'unknown' }
}

/**
 * Records the verdict on a replica's report: `follows`, its detail, and a problem or warning.
 * `confirmed` is extra evidence for an unknown endpoint (the primary lists this replica).
 */
export function applySender<F>(
  replica: Probed<F>, primary: Probed<F>, sender: Endpoint, verdict: SenderVerdict, set: ReadonlyMap<string, string>, confirmed: boolean | undefined,
): void {
  const r = replica.report
  const from = formatEndpoint(sender)
  switch (verdict.kind) {
    case 'primary':
      r.follows = true
      r.followsDetail = `replicates from ${from} = "${primary.alias}"`
      return
    case 'alias':
      if (set.get(verdict.alias) === primary.alias && verdict.alias !== replica.alias) {
        r.follows = true
        r.followsDetail = `cascades from "${verdict.alias}" (${from}), a replica of "${primary.alias}"`
        r.warnings.push(`replicates from "${verdict.alias}" (${from}), not directly from "${primary.alias}" (cascading replication)`)
        return
      }
      r.follows = false
      r.followsDetail = `replicates from "${verdict.alias}" (${from})`
      r.problems.push(`follows "${verdict.alias}" (${from}), not its primary "${primary.alias}" (${formatEndpoint(primary.endpoint)})`)
      return
    case 'other-port':
      r.follows = false
      r.followsDetail = `replicates from ${from}`
      r.problems.push(`follows another server (${from}), not its primary "${primary.alias}" (${formatEndpoint(primary.endpoint)})`)
      return
    case 'unknown':
      if (confirmed === true) {
        r.follows = true
        r.followsDetail = `replicates from ${from}, listed as a standby by "${primary.alias}"`
        return
      }
      if (confirmed === false) {
        r.follows = false
        r.followsDetail = `replicates from ${from}`
        r.problems.push(`follows ${from}, and its primary "${primary.alias}" (${formatEndpoint(primary.endpoint)}) does not list it as a standby`)
        return
      }
      r.follows = null
      r.followsDetail = `replicates from ${from}, which is no known address of "${primary.alias}"`
      r.warnings.push(`replicates from ${from}, which the doctor cannot match to "${primary.alias}" (${formatEndpoint(primary.endpoint)}); check it is the same server`)
  }
}

/** ` — the same server as "x"` when `p` has twins, else ''. */
export function sameServerNote<F>(p: Probed<F>, among?: string): string {
  const twins = among === undefined ? p.sameAs : p.sameAs.filter((a) => a === among)
  return twins.length === 0 ? '' : ` — it is the same server as ${twins.map((a) => `"${a}"`).join(', ')}`
}

/** A number from a driver value (number, bigint or numeric string), or null. */
export function num(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** A non-empty string from a driver value, or null. */
export function text(value: unknown): string | null {
  if (value === null || value === undefined) return null
  const s = Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
  return s === '' ? null : s
}

/** Runs a query, answering undefined instead of failing (missing privileges, older servers). */
export async function maybe<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn()
  } catch {
    return undefined
  }
}
