'use strict'
/**
 * Replaces `require('pg')` / `import … from 'pg'` in the vendored tests. Routed mode: the routed
 * module of `createPgModule(pindb, { pg })` (its `Pool` and `Client` are pindb's); plain mode: `pg`.
 */
const pg = require('./state.cjs').state().pg
module.exports = pg
