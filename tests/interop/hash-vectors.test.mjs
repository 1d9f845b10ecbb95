// SPDX-License-Identifier: MIT
// The hash vectors that tests/core/tst_hash.cpp checks lark against must be what the pinned SDK computes:
// regenerate them with the SDK installed here and compare with the committed file, so they cannot drift.
// Needs no server. To update the file after an intended change: node tests/core/data/gen-hash-vectors.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateHashVectors, readCommittedVectors } from '../core/data/gen-hash-vectors.mjs';

test('committed hash vectors equal the pinned SDK hashes', async () => {
  const fresh = await generateHashVectors(dirname(fileURLToPath(import.meta.url)));
  const committed = readCommittedVectors();
  assert.equal(fresh.sdk, '@firebase/database 1.1.5');
  assert.ok(committed.vectors.length >= 30, 'too few value vectors committed');
  assert.ok(committed.queries.length >= 20, 'too few query vectors committed');
  assert.deepEqual(committed, fresh);
});
