/**
 * Observable instruments that read `pindb.servers` when a metric reader collects: failovers,
 * queries in flight, back-off, and — from the replica monitor — lag, staleness bound and replay
 * position. Nothing runs between collections.
 *
 * @module
 */
import type { Attributes, BatchObservableCallback, Meter, Observable } from '@opentelemetry/api'
import type { PinDb } from '../pindb.js'
import { parseGtidList, parseLsn } from '../position.js'
import { roleOf } from '../topology.js'
import type { OtelApi } from './api.js'
import { PINDB_ATTRIBUTES as A, PINDB_METRICS as M } from './names.js'

/**
 * @internal Registers the observable instruments for `pindb` on `meter`; returns a function
 * that stops observing.
 */
export function observeServers(meter: Meter, api: OtelApi, pindb: PinDb<object>, extra: Attributes): () => void {
  const int = { valueType: api.ValueType.INT }
  const failovers = meter.createObservableCounter(M.failovers, { ...int, unit: '{failover}', description: 'Reads that failed on a replica (connection refused or lost, shutdown) and were retried elsewhere.' })
  const outstanding = meter.createObservableUpDownCounter(M.outstanding, { ...int, unit: '{query}', description: 'Queries in flight through pindb, per server.' })
  const backoff = meter.createObservableGauge(M.backoff, { ...int, unit: '1', description: '1 while the server is in failure back-off and skipped for reads, else 0.' })
  const failures = meter.createObservableGauge(M.failures, { ...int, unit: '{failure}', description: 'Consecutive connection failures since the last success.' })
  const lag = meter.createObservableGauge(M.replicaLag, { unit: 'ms', description: 'Replica lag as last measured by the replica monitor (lower bound).' })
  const lagBytes = meter.createObservableGauge(M.replicaLagBytes, { ...int, unit: 'By', description: 'Replica lag in WAL bytes (PostgreSQL).' })
  const staleness = meter.createObservableGauge(M.replicaStaleness, { unit: 'ms', description: 'Time since the primary was last seen at a position the replica has replayed (upper bound of its lag).' })
  const lsn = meter.createObservableGauge(M.replicaReplayLsn, { ...int, unit: 'By', description: 'PostgreSQL replica replay LSN as a byte offset.' })
  const gtid = meter.createObservableGauge(M.replicaReplayGtid, { ...int, unit: '{transaction}', description: 'MariaDB replica replayed GTID sequence number, per domain.' })
  const instruments: Observable[] = [failovers, outstanding, backoff, failures, lag, lagBytes, staleness, lsn, gtid]

  const attrsOf = new Map<string, Attributes>()
  for (const alias of Object.keys(pindb.topology.databases)) {
    const set = pindb.topology.sets.has(alias) ? alias : pindb.topology.replicaToSet.get(alias)
    attrsOf.set(alias, Object.freeze({ ...extra, [A.server]: alias, [A.role]: roleOf(pindb.topology, alias) ?? 'unmanaged', ...(set === undefined ? {} : { [A.dbSet]: set }) }))
  }
  const gtidAttrs = new Map<string, Attributes>()
  const gtidAttrsOf = (alias: string, domain: number): Attributes => {
    const key = `${alias}\0${domain}`
    let attrs = gtidAttrs.get(key)
    if (attrs === undefined) gtidAttrs.set(key, (attrs = Object.freeze({ ...attrsOf.get(alias), [A.gtidDomain]: domain })))
    return attrs
  }

  const callback: BatchObservableCallback = (result) => {
    const now = pindb.options.clock()
    for (const s of pindb.servers.all()) {
      const attrs = attrsOf.get(s.alias)
      if (attrs === undefined) continue
      result.observe(outstanding, s.outstanding, attrs)
      result.observe(backoff, s.downUntil > now ? 1 : 0, attrs)
      result.observe(failures, s.failures, attrs)
      if (!pindb.topology.replicaToSet.has(s.alias)) continue
      result.observe(failovers, s.counters.failovers, attrs)
      if (s.lagMs !== undefined) result.observe(lag, s.lagMs, attrs)
      if (s.lagBytes !== undefined) result.observe(lagBytes, s.lagBytes, attrs)
      if (s.caughtUpAt !== undefined) result.observe(staleness, Math.max(0, now - s.caughtUpAt), attrs)
      if (s.position === undefined) continue
      const bytes = parseLsn(s.position)
      if (bytes !== undefined) {
        result.observe(lsn, Number(bytes), attrs)
        continue
      }
      for (const [domain, seq] of parseGtidList(s.position) ?? []) result.observe(gtid, Number(seq), gtidAttrsOf(s.alias, domain))
    }
  }
  meter.addBatchObservableCallback(callback, instruments)
  return () => meter.removeBatchObservableCallback(callback, instruments)
}
