/**
 * Every adapter the conformance suite runs: one line each. A new adapter is a new file in
 * `adapters/` and one line here. `PINDB_ADAPTERS=pg-pool,mysql2-pool` runs a subset.
 */
import type { AdapterUnderTest } from './harness.js'
import { mysql2Module } from './adapters/mysql2-module.js'
import { mysql2Pool } from './adapters/mysql2-pool.js'
import { pgModule } from './adapters/pg-module.js'
import { pgPool } from './adapters/pg-pool.js'
import { postgresJs } from './adapters/postgres-js.js'

export const ADAPTERS: readonly AdapterUnderTest[] = [
  pgPool,
  pgModule,
  postgresJs,
  mysql2Pool,
  mysql2Module,
]

/** The adapters selected by `PINDB_ADAPTERS` (comma-separated names; unset or empty: all). Unknown names throw. */
export function selectedAdapters(filter = process.env['PINDB_ADAPTERS'] ?? ''): readonly AdapterUnderTest[] {
  const names = filter.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (names.length === 0) return ADAPTERS
  const unknown = names.filter((n) => !ADAPTERS.some((a) => a.name === n))
  if (unknown.length > 0) throw new Error(`PINDB_ADAPTERS names unknown adapters: ${unknown.join(', ')}; known: ${ADAPTERS.map((a) => a.name).join(', ')}`)
  return ADAPTERS.filter((a) => names.includes(a.name))
}
