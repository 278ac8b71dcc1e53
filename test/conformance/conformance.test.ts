/**
 * The adapters' conformance suite: every adapter in `adapters.ts` runs the same checks against
 * the real test bed (see `suite.ts`). `PINDB_ADAPTERS=pg-pool,mysql2-pool npx vitest run
 * test/conformance` runs a subset.
 */
import { selectedAdapters } from './adapters.js'
import { testAdapter } from './suite.js'

for (const adapter of selectedAdapters()) testAdapter(adapter)
