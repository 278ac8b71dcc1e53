/**
 * Preloaded (`NODE_OPTIONS=--import=…`, set by `run.ts` while a vendored file runs) into child
 * processes that a vendored test forks: installs the same harness state as in the parent (mode
 * from `PINDB_PG_UPSTREAM_MODE`), so the child's `require('../harness/pool.cjs')` gets that Pool.
 */
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
const { installState } = await import('./state.ts')
installState(process.env.PINDB_PG_UPSTREAM_MODE === 'plain' ? 'plain' : 'routed')
