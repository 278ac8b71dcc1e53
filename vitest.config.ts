import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files share one set of real clusters; running files one at a time keeps
    // a test that stops a replica from disturbing another file's reads.
    fileParallelism: false,
    reporters: ['default', './test/support/count-reporter.ts'],
  },
})
