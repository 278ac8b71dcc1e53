// @ts-nocheck — vendored verbatim from mysql2's test suite (types are mysql2's own; pindb type-checks the harness).
// Source: https://github.com/sidorares/node-mysql2/blob/928c3c511a0316713966ade2cf27e47285feb878/test/integration/regressions/test-#485.test.mts
// Copyright (c) 2016 Andrey Sidorov and contributors. MIT License: see test/mysql2-upstream/LICENSE.
// Adaptation (imports only): poku -> harness/poku, mysql2's promise.js / index.js / common.test.mjs / lib/pool_connection.js
// -> harness modules whose createPool is pindb's routed pool over the MariaDB test bed (primary + real replica).
import type { PoolOptions, RowDataPacket } from '../../harness/index.js';
import process from 'node:process';
import { describe, it, strict } from '../../harness/poku.js';
import PoolConnection from '../../harness/pool-connection.js';
import { createPool as createPoolPromise } from '../../harness/promise.js';
import { config } from '../../harness/common.js';

type TestRow = RowDataPacket & { ttt: number };

await describe('Regression #485', async () => {
  function createPool(args?: PoolOptions) {
    if (!args && process.env.MYSQL_CONNECTION_URL) {
      return createPoolPromise({ uri: process.env.MYSQL_CONNECTION_URL });
    }

    return createPoolPromise({ ...config, ...args });
  }

  await it('should call PoolConnection.release after pool.execute', async () => {
    const release = PoolConnection.prototype.release;
    let releaseCalls = 0;
    PoolConnection.prototype.release = function () {
      releaseCalls++;
    };

    const pool = createPool();

    try {
      const result = await pool.execute<TestRow[]>('select 1+2 as ttt');
      strict.equal(result[0][0].ttt, 3);
    } finally {
      await pool.end();
      PoolConnection.prototype.release = release;
    }

    strict.equal(releaseCalls, 1, 'PoolConnection.release was not called');
  });
});
