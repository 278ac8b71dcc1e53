/**
 * node-postgres's own pool tests — pg-pool's whole suite, pg-cursor's `pool.js`, pg-query-stream's
 * `pool.ts`, `async-iterator.ts` and `error.ts` (vendored in `test/pg-upstream/`, MIT) — run by mocha
 * against pindb's routed pool over the real primary + 2 streaming replicas. One Vitest test per
 * upstream test: each must pass, except the exclusions listed with their reasons in
 * `test/pg-upstream/harness/exclusions.ts` (shown here as skipped), and the known pindb defects
 * listed there (expected failures until fixed). `PINDB_PG_UPSTREAM=plain` runs
 * the same tests against a plain `pg.Pool` instead (the baseline, see docs/pg-fidelity.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exclusionsFor, knownDefectsFor, listUpstreamTests, loadUpstreamFile, UPSTREAM_FILES, type FileReport, type UpstreamMode } from '../pg-upstream/harness/run.js'
import { setPgDelay, waitForPgReplicas } from '../support/testbed.js'

const mode: UpstreamMode = process.env['PINDB_PG_UPSTREAM'] === 'plain' ? 'plain' : 'routed'
/** Upper bound for one vendored file (its slowest upstream test waits a few seconds). */
const FILE_TIMEOUT_MS = 90_000

beforeAll(async () => {
  await setPgDelay(0)
  await waitForPgReplicas()
})

afterAll(async () => {
  await setPgDelay(0)
})

/**
 * Every file's tests are listed up front (loaded, nothing run), so each upstream test is one Vitest
 * test; each file is loaded again right before it runs (some tests `require('pg')` in their body).
 */
const files = await Promise.all(UPSTREAM_FILES.map(async (file) => ({ file, loaded: await listUpstreamTests(file, mode) })))

describe.sequential(`node-postgres's pool tests on ${mode === 'routed' ? "pindb's routed pool" : 'a plain pg.Pool'}`, () => {
  for (const { file, loaded } of files) {
    describe(file, () => {
      let report: FileReport = { passed: [], failed: [], excluded: [] }
      const excluded = exclusionsFor(file, mode)
      const defects = knownDefectsFor(file, mode)
      const stack = (e: unknown): string => String((e as Error | undefined)?.stack ?? e)

      beforeAll(async () => {
        report = await loadUpstreamFile(file, mode).run()
      }, FILE_TIMEOUT_MS)

      it('has tests, no failing hook, and no stale exclusion', () => {
        expect(loaded.titles.length).toBeGreaterThan(0)
        expect(Object.keys(excluded).filter((t) => !loaded.titles.includes(t))).toEqual([])
        expect(report.failed.filter((f) => !loaded.titles.includes(f.title)).map((f) => `${f.title}: ${stack(f.error)}`)).toEqual([])
        expect([...report.excluded].sort()).toEqual(Object.keys(excluded).sort())
      })

      for (const title of loaded.titles) {
        if (loaded.pendingUpstream.includes(title)) {
          it.skip(`${title} — pending upstream too (no test body is given to mocha)`, () => {})
          continue
        }
        const reason = excluded[title]
        if (reason !== undefined) {
          it.skip(`${title} — excluded: ${reason}`, () => {})
          continue
        }
        const defect = defects[title]
        if (defect !== undefined) {
          // Remove the entry from KNOWN_DEFECTS once pindb is fixed: this then fails.
          it.fails(`${title} — known ${defect}`, () => {
            expect(report.passed).toContain(title)
          })
          continue
        }
        it(title, () => {
          expect(report.failed.filter((f) => f.title === title).map((f) => stack(f.error))).toEqual([])
          expect(report.passed).toContain(title)
        })
      }
    })
  }
})
