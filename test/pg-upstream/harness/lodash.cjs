'use strict'
/** The one lodash function the vendored pg-pool tests use (lodash is not installed). */
module.exports = {
  times(n, fn) {
    return Array.from({ length: n }, (_, i) => fn(i))
  },
}
