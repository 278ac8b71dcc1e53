'use strict'
/**
 * Replaces pg-pool's `require('../')` in the vendored tests: the `Pool` under test. Routed mode:
 * `createPgModule(pindb, { pg }).Pool`, so `new Pool(opts)` is a pool built exactly as
 * `createPgPool(pindb, { pg, ...opts })` builds it. Plain mode (the baseline): `pg.Pool`.
 */
module.exports = require('./state.cjs').state().pg.Pool
