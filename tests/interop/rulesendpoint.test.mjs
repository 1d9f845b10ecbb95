// SPDX-License-Identifier: MIT
// Rules loaded over HTTP as @firebase/rules-unit-testing's loadDatabaseRules and firebase-tools do
// (docs/rules.md §1), then the pinned JS SDK against them: the owner's entry only, an op dropped when rules
// tighten (and the others of its session still fire), the emulator's 400 for a refused file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor, database as fdb } from './lib/harness.mjs';

const { set, get, onDisconnect, goOffline } = fdb;

let lark;
before(async () => {
  lark = await Lark.start();
});
after(async () => {
  await lark?.close();
});

/** What rules-unit-testing's loadDatabaseRules sends: the file verbatim, the owner bearer; non-2xx throws its text. */
async function loadDatabaseRules(ns, rules) {
  const resp = await fetch(`http://127.0.0.1:${lark.port}/.settings/rules.json?ns=${ns}`, {
    method: 'PUT',
    headers: { Authorization: 'Bearer owner' },
    body: rules,
  });
  if (!resp.ok) throw new Error(await resp.text());
}

const presenceRules = `{
  // each user writes only their own entry (a comment, as in real rules files)
  "rules": {
    "presence": { "$uid": { ".read": true, ".write": "$uid === auth.uid" } },
    "lastSeen": { "$uid": { ".read": true, ".write": "$uid === auth.uid" } },
  }
}`;

test('rules PUT as rules-unit-testing does: alice writes her entry, bob is refused; GET gives the file back', async () => {
  const ns = lark.ns('rest');
  await loadDatabaseRules(ns, presenceRules);
  const alice = await lark.app(ns, { mockUserToken: { sub: 'alice' } });
  const bob = await lark.app(ns, { mockUserToken: { sub: 'bob' } });
  await set(alice.ref('presence/alice'), true);
  await assert.rejects(set(bob.ref('presence/alice'), false), (e) => e.code === 'PERMISSION_DENIED');
  await assert.rejects(onDisconnect(bob.ref('presence/alice')).remove(), (e) => e.code === 'PERMISSION_DENIED');
  assert.equal((await get(bob.ref('presence/alice'))).val(), true);

  const resp = await fetch(`http://127.0.0.1:${lark.port}/.settings/rules.json?ns=${ns}`, {
    headers: { Authorization: 'Bearer owner' },
  });
  assert.equal(resp.status, 200);
  assert.equal(await resp.text(), presenceRules);
});

test('a refused file is 400 {"error":"L:C: message\\n"} and the rules in force stay', async () => {
  const ns = lark.ns('bad');
  await loadDatabaseRules(ns, presenceRules);
  const resp = await fetch(`http://127.0.0.1:${lark.port}/.settings/rules.json?ns=${ns}`, {
    method: 'PUT',
    headers: { Authorization: 'Bearer owner' },
    body: '{"rules": {".read": "auth.uid"}}',
  });
  assert.equal(resp.status, 400);
  const body = await resp.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.match(body.error, /^1:\d+: .+\n$/);
  const bob = await lark.app(ns, { mockUserToken: { sub: 'bob' } });
  await assert.rejects(set(bob.ref('presence/alice'), 1), (e) => e.code === 'PERMISSION_DENIED');
  // Without the owner bearer the endpoint refuses.
  const anonymous = await fetch(`http://127.0.0.1:${lark.port}/.settings/rules.json?ns=${ns}`, {
    method: 'PUT',
    body: '{"rules": {".read": true, ".write": true}}',
  });
  assert.equal(anonymous.status, 401);
});

test('rules that tighten drop a queued op at once; the session\'s other op still fires when it goes', async () => {
  const ns = lark.ns('drop');
  await loadDatabaseRules(ns, presenceRules);
  const alice = await lark.app(ns, { mockUserToken: { sub: 'alice' } });
  const watcher = await lark.app(ns);
  await set(alice.ref('presence/alice'), 'online');
  await onDisconnect(alice.ref('presence/alice')).set('offline');
  await onDisconnect(alice.ref('lastSeen/alice')).set('gone');

  // presence/ may now be written by nobody: the queued op on it is dropped now, not when it would fire.
  await loadDatabaseRules(ns, presenceRules.replace('"$uid === auth.uid" } },\n    "lastSeen"', 'false } },\n    "lastSeen"'));
  await waitFor(() => /dropped its onDisconnect set at \/presence\/alice/.test(lark.server.log()), 15000, 'the drop logged');

  goOffline(alice.db); // a clean close fires what is left at once
  await waitFor(async () => (await get(watcher.ref('lastSeen/alice'))).val() === 'gone', 15000, 'the surviving op fired');
  assert.equal((await get(watcher.ref('presence/alice'))).val(), 'online', 'the dropped op did not fire');
});
