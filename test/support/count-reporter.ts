import { writeFileSync } from 'node:fs'
import type { Reporter, TestModule } from 'vitest/node'

/**
 * Prints `N passed, N failed[, N skipped]` as the run's last line, so a run that executed
 * no test is visible to CI (which reads that line). Under `npm test` the wrapper
 * (`scripts/test.mjs`) prints it last, from the counts written to `PINDB_COUNT_FILE`.
 */
export default class CountReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failed++
        else skipped++
      }
      // A file that failed to load has no tests but must count as a failure.
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++
    }
    failed += errors.length
    const file = process.env['PINDB_COUNT_FILE']
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped }))
    else process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
  }
}
