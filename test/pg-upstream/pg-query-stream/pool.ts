// @ts-nocheck -- vendored from node-postgres (MIT, see ../LICENSE); imports rewritten, see ../harness/run.ts
import { Pool } from '../harness/pg.cjs'
import QueryStream from 'pg-query-stream'

describe('pool', function () {
  it('works', async function () {
    const pool = new Pool()
    const query = new QueryStream('SELECT * FROM generate_series(0, 10) num', [])
    const q = pool.query(query)
    query.on('data', (row) => {
      // just consume the whole stream
    })
    await q
    query.on('end', () => {
      pool.end()
    })
  })
})
