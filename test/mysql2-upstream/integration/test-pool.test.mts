// @ts-nocheck — vendored verbatim from mysql2's test suite (types are mysql2's own; pindb type-checks the harness).
// Source: https://github.com/sidorares/node-mysql2/blob/928c3c511a0316713966ade2cf27e47285feb878/test/integration/test-pool.test.mts
// Copyright (c) 2016 Andrey Sidorov and contributors. MIT License: see test/mysql2-upstream/LICENSE.
// Adaptation (imports only): poku -> harness/poku, mysql2's promise.js / index.js / common.test.mjs / lib/pool_connection.js
// -> harness modules whose createPool is pindb's routed pool over the MariaDB test bed (primary + real replica).
import { describe, it, strict } from '../harness/poku.js';
import mysql from '../harness/index.js';

const poolConfig = {}; // config: { connectionConfig: {} };

const pool = mysql.createPool(poolConfig);

describe('Pool methods tests', () => {
  it(() => {
    strict.equal(pool.escape(123), '123', 'escape method works correctly');
  });

  it(() => {
    strict.equal(
      pool.escapeId('table name'),
      '`table name`',
      'escapeId method works correctly'
    );
  });

  it(() => {
    const params = ['table name', 'thing'];
    strict.equal(
      pool.format('SELECT a FROM ?? WHERE b = ?', params),
      "SELECT a FROM `table name` WHERE b = 'thing'",
      'format method works correctly'
    );
  });
});

const poolDotPromise = pool.promise();

describe('Pool.promise() methods tests', () => {
  it(() => {
    strict.equal(
      poolDotPromise.escape(123),
      '123',
      'promise escape method works correctly'
    );
  });

  it(() => {
    strict.equal(
      poolDotPromise.escapeId('table name'),
      '`table name`',
      'promise escapeId method works correctly'
    );
  });

  it(() => {
    const params = ['table name', 'thing'];
    strict.equal(
      poolDotPromise.format('SELECT a FROM ?? WHERE b = ?', params),
      "SELECT a FROM `table name` WHERE b = 'thing'",
      'promise format method works correctly'
    );
  });
});

// @ts-expect-error: TODO: implement typings
const promisePool = mysql.createPoolPromise(poolConfig);

describe('PromisePool methods tests', () => {
  it(() => {
    strict.equal(
      promisePool.escape(123),
      '123',
      'PromisePool escape method works correctly'
    );
  });

  it(() => {
    strict.equal(
      promisePool.escapeId('table name'),
      '`table name`',
      'PromisePool escapeId method works correctly'
    );
  });

  it(() => {
    const params = ['table name', 'thing'];
    strict.equal(
      promisePool.format('SELECT a FROM ?? WHERE b = ?', params),
      "SELECT a FROM `table name` WHERE b = 'thing'",
      'PromisePool format method works correctly'
    );
  });
});
