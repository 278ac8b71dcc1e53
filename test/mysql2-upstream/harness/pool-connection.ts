/** mysql2's internal `lib/pool_connection.js` (the class its pools hand out), which regression #485 patches. */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
// mysql2's `exports` map hides lib/: load the file by path (the same module instance mysql2 uses).
const PoolConnection = require(join(dirname(require.resolve('mysql2')), 'lib', 'pool_connection.js')) as { prototype: { release(): void } }
export default PoolConnection
