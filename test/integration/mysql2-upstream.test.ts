/**
 * mysql2's own pool tests (vendored in `test/mysql2-upstream/`, MIT) with mysql2's `createPool`
 * replaced by pindb's routed pool over the MariaDB test bed. Every test must pass except the
 * exclusions listed, with reasons, in `test/mysql2-upstream/harness/run.ts` (tests that read private
 * fields of mysql2's pool, or that exercise a direct connection rather than the pool). Before this
 * adapter spoke mysql2's callback API, 11 of 21 of these failed or hung.
 */
import { describe, expect, it } from 'vitest'
import { EXCLUDED, runUpstreamFile } from '../mysql2-upstream/harness/run.js'
import { routedAliases } from '../mysql2-upstream/harness/setup.js'

/** How many tests each file must run and pass: a file whose tests silently stop running fails here. */
const EXPECTED_PASSED: Readonly<Record<string, number>> = {
  'integration/promise-wrappers/test-promise-wrappers.test.mts': 6,
  'integration/dispose/async/pool.test.mts': 7,
  'integration/dispose/sync/pool.test.mts': 9,
  'integration/regressions/test-issue-485.test.mts': 1,
  'integration/test-pool.test.mts': 9,
  'integration/test-pool-double-release.test.mts': 1,
}

describe("mysql2's pool tests on pindb's routed pool", () => {
  for (const file of Object.keys(EXCLUDED)) {
    it(file, async () => {
      const report = await runUpstreamFile(file)
      expect(report.skipped).toBeUndefined()
      expect(report.failed.map((f) => `${f.title}: ${String((f.error as Error)?.stack ?? f.error)}`)).toEqual([])
      expect(report.excluded.sort()).toEqual(Object.keys(EXCLUDED[file]!).sort())
      expect(report.passed).toHaveLength(EXPECTED_PASSED[file]!)
    }, 30_000)
  }

  it('ran through pindb: reads went to the real replica, writes and unknown text to the primary', () => {
    expect(routedAliases).toContain('default-0')
    expect(routedAliases).toContain('default')
  })
})
