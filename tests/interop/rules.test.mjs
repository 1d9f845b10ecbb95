// SPDX-License-Identifier: MIT
// Security rules as the SDK sees them (docs/semantics.md §4): lark-server --rules FILE, the file rewritten while
// apps are connected, as an editor saves it. Denied requests reject with the SDK's permission_denied errors, and a
// listen that the new rules deny is cancelled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lark, waitFor, database as fdb } from './lib/harness.mjs';

const { set, get, update, onValue, onDisconnect, runTransaction } = fdb;

const NS = 'rulesinterop';
const dir = mkdtempSync(path.join(tmpdir(), 'lark-rules-'));
const file = path.join(dir, 'database.rules.json');

/** Saves as editors do: a new file renamed over the old one. */
function saveRules(rules) {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ rules }));
  renameSync(tmp, file);
}

const presence = {
  open: { '.read': true, '.write': true },
  presence: { $uid: { '.read': true, '.write': '$uid === auth.uid' } },
};

let lark;
before(async () => {
  saveRules(presence);
  lark = await Lark.start(['--rules', file, '--rules-ns', NS]);
});
after(async () => {
  await lark?.close();
  rmSync(dir, { recursive: true, force: true });
});

// get() rejects with the reply's text, which assertFails() of rules-unit-testing matches case-insensitively.
const deniedCode = (e) => e?.code === 'PERMISSION_DENIED' || /permission[_ ]denied/i.test(String(e?.message));

test('the owner may write its entry; others get PERMISSION_DENIED on set, update, get and onDisconnect().set', async () => {
  const alice = await lark.app(NS, { mockUserToken: { sub: 'alice' } });
  const bob = await lark.app(NS, { mockUserToken: { sub: 'bob' } });
  await set(alice.ref('presence/alice'), 'online');
  await onDisconnect(alice.ref('presence/alice')).set('offline');

  await assert.rejects(set(bob.ref('presence/alice'), 'hacked'), (e) => e.code === 'PERMISSION_DENIED');
  await assert.rejects(update(bob.ref('presence'), { bob: 'on', alice: 'x' }), (e) => e.code === 'PERMISSION_DENIED');
  await assert.rejects(get(bob.ref('secret')), deniedCode);
  await assert.rejects(onDisconnect(bob.ref('presence/alice')).set('offline'), (e) => e.code === 'PERMISSION_DENIED');
  // A denied transaction rejects at once, with the bare "permission_denied" of production.
  await assert.rejects(runTransaction(bob.ref('presence/alice'), () => 'mine'), /permission_denied/);
  assert.equal((await get(bob.ref('presence/alice'))).val(), 'online');
  assert.equal((await get(bob.ref('presence/bob'))).val(), null, 'the denied update wrote none of its keys');
});

test('a listen that rewritten rules deny is cancelled with permission_denied', async () => {
  const app = await lark.app(NS);
  await set(app.ref('open/x'), 1);
  let value;
  let cancelled;
  onValue(app.ref('open'), (s) => { value = s.val(); }, (e) => { cancelled = e; });
  await waitFor(() => value?.x === 1, 15000, 'the first value');
  saveRules({ ...presence, open: { '.write': true } }); // no longer readable
  await waitFor(() => cancelled, 15000, 'the listen cancelled');
  assert.equal(cancelled.code, 'PERMISSION_DENIED');
  assert.match(cancelled.message, /permission_denied at \/open/);
  assert.match(lark.server.log(), new RegExp(`rules loaded for ns ${NS} from`));
  // The app is still usable, under the new rules.
  await set(app.ref('open/y'), 2);
  await assert.rejects(get(app.ref('open')), deniedCode);
});
