/**
 * Replication positions, compared without a server round trip: PostgreSQL LSNs (`'16/B374D848'`)
 * and MariaDB GTID lists (`'0-1-42,1-2-7'`, domain-server-sequence).
 *
 * @module
 */

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/
const GTID = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/

/** Parses a PostgreSQL LSN into a bigint, or undefined when it is not one. */
export function parseLsn(lsn: string): bigint | undefined {
  const m = LSN.exec(lsn)
  if (m === null) return undefined
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`)
}

/** Parses a MariaDB GTID list into domain → highest sequence number, or undefined when malformed. */
export function parseGtidList(list: string): Map<number, bigint> | undefined {
  const out = new Map<number, bigint>()
  if (list.trim() === '') return out
  for (const part of list.split(',')) {
    const m = GTID.exec(part.trim())
    if (m === null) return undefined
    const domain = Number(m[1])
    const seq = BigInt(m[3]!)
    const prev = out.get(domain)
    if (prev === undefined || seq > prev) out.set(domain, seq)
  }
  return out
}

/** True when `position` is a well-formed LSN or GTID list. */
export function isPosition(position: string): boolean {
  return parseLsn(position) !== undefined || (position.includes('-') && parseGtidList(position) !== undefined)
}

/**
 * True when a replica that has replayed `replayed` is known to have applied everything up to
 * `required`. Mismatched or malformed positions answer false (the safe side: use the primary).
 */
export function positionReached(replayed: string | undefined, required: string): boolean {
  if (replayed === undefined) return false
  const a = parseLsn(replayed)
  const b = parseLsn(required)
  if (a !== undefined || b !== undefined) return a !== undefined && b !== undefined && a >= b
  const have = parseGtidList(replayed)
  const need = parseGtidList(required)
  if (have === undefined || need === undefined) return false
  for (const [domain, seq] of need) {
    const got = have.get(domain)
    if (got === undefined || got < seq) return false
  }
  return true
}

/** The later of two positions of the same kind (for GTID lists, the per-domain maximum). */
export function laterPosition(a: string | undefined, b: string): string {
  if (a === undefined) return b
  const la = parseLsn(a)
  const lb = parseLsn(b)
  if (la !== undefined && lb !== undefined) return la >= lb ? a : b
  const ga = parseGtidList(a)
  const gb = parseGtidList(b)
  if (ga === undefined || gb === undefined) return b
  for (const [d, s] of gb) if ((ga.get(d) ?? -1n) < s) ga.set(d, s)
  // Server ids do not order anything within a domain under gtid_strict_mode; keep the one from b when present.
  const servers = new Map<number, string>()
  for (const list of [a, b]) {
    for (const part of list.split(',')) {
      const [d, srv] = part.trim().split('-')
      if (d !== undefined && srv !== undefined) servers.set(Number(d), srv)
    }
  }
  return [...ga].sort(([x], [y]) => x - y).map(([d, s]) => `${d}-${servers.get(d) ?? '0'}-${s}`).join(',')
}
