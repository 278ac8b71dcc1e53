'use strict'
/**
 * The harness state for the `.cjs` shims (`pool.cjs`, `pg.cjs`): set by `state.ts#installState`
 * before any vendored file loads; a vendored file loaded without it fails loudly.
 */
const KEY = Symbol.for('pindb.test.pg-upstream')

function state() {
  const s = globalThis[KEY]
  if (s === undefined) throw new Error('[pindb] [pg-upstream] harness not set up: run the vendored tests through test/pg-upstream/harness/run.ts')
  return s
}

module.exports = { KEY, state }
