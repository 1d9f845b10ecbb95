// SPDX-License-Identifier: MIT
// Identities: mockUserToken (an unsigned emulator JWT sent as `auth`), the Admin SDK's emulator credential
// "owner" (sent as `gauth`), and no token at all; checked through the admin feed (docs/protocol-extensions.md),
// which an admin app reaches over its own SDK connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor, waitConnected, watchAdminFeed, database as fdb } from './lib/harness.mjs';

const { set, get, onDisconnect, goOffline } = fdb;

let lark;
before(async () => { lark = await Lark.start(['--ping-interval', '100ms', '--dead-after', '600ms', '--grace', '1s']); });
after(async () => { await lark?.close(); });

const sessionsIn = (feed, ns) => feed.find((s) => s.namespace === ns);

test('an admin app (gauth "owner") gets the admin feed; its own session is admin', async () => {
  const ns = lark.ns('admin');
  const admin = await lark.app(ns, { admin: true });
  const feed = await watchAdminFeed(admin);
  const mine = sessionsIn(feed, ns);
  assert.equal(mine.length, 1, JSON.stringify([...feed.sessions.values()]));
  assert.equal(mine[0].identity, 'admin');
  assert.equal(mine[0].state, 'live');
  assert.match(mine[0].handle, /^S\d+$/);
  assert.equal(mine[0].id.length, 6, 'only a prefix of the session id is shown');
  const fullId = admin.conn().lastSessionId;
  assert.ok(fullId.startsWith(mine[0].id) && fullId.length > 6);
  // The admin can read and write like anyone.
  await set(admin.ref('adm/x'), 1);
  assert.equal((await get(admin.ref('adm/x'))).val(), 1);
});

test('a plain app (no token) is anonymous and may not watch the feed', async () => {
  const ns = lark.ns('anon');
  const admin = await lark.app(ns, { admin: true });
  const feed = await watchAdminFeed(admin);
  const anon = await lark.app(ns);
  await set(anon.ref('x'), 1);
  await waitFor(() => sessionsIn(feed, ns).some((s) => s.identity === 'anonymous' && s.state === 'live'),
    15000, 'the anonymous session in the feed');
  await waitConnected(anon.db, true);
  const reply = await new Promise((resolve) => anon.conn().sendRequest('lark.watch', {}, resolve));
  assert.equal(reply.s, 'permission_denied');
  assert.equal(typeof reply.d, 'string');
  // The connection is still usable.
  await set(anon.ref('y'), 2);
  assert.equal((await get(anon.ref('y'))).val(), 2);
});

test('mockUserToken {sub: "alice"} signs in as user:alice; onDisconnect ops show in the feed and fire', async () => {
  const ns = lark.ns('mock');
  const admin = await lark.app(ns, { admin: true });
  const feed = await watchAdminFeed(admin);
  const alice = await lark.app(ns, { mockUserToken: { sub: 'alice' } });
  const bob = await lark.app(ns, { mockUserToken: { sub: 'bob', name: 'Bob' } });
  await set(alice.ref('users/alice'), { name: 'Alice' });
  await set(bob.ref('users/bob'), { name: 'Bob' });
  assert.deepEqual((await get(bob.ref('users'))).val(), { alice: { name: 'Alice' }, bob: { name: 'Bob' } });

  await onDisconnect(alice.ref('presence/alice')).set({ online: false });
  const aliceSession = await waitFor(() => sessionsIn(feed, ns).find((s) => s.identity === 'user:alice'
    && s.ops?.length === 1), 15000, 'alice with one queued op in the feed');
  assert.equal(aliceSession.state, 'live');
  assert.equal(aliceSession.ops[0].path, '/presence/alice');
  assert.equal(aliceSession.ops[0].kind, 'set');
  assert.deepEqual(aliceSession.ops[0].value, { online: false });
  assert.ok(sessionsIn(feed, ns).some((s) => s.identity === 'user:bob'), 'bob is user:bob');

  goOffline(alice.db);
  const ended = await waitFor(() => feed.events.find((e) => e.action === 'lark.session.ended'
    && e.body.handle === aliceSession.handle), 15000, "alice's session to end");
  assert.equal(ended.body.state, 'ended');
  assert.equal(ended.body.endReason, 'clean close');
  assert.deepEqual((await get(bob.ref('presence/alice'))).val(), { online: false });
});

test('an onDisconnect registered by an admin fires like any other', async () => {
  const ns = lark.ns('adminod');
  const admin = await lark.app(ns, { admin: true });
  const observer = await lark.app(ns);
  await onDisconnect(admin.ref('server/status')).set('down');
  await set(admin.ref('server/status'), 'up');
  goOffline(admin.db);
  await waitFor(async () => (await get(observer.ref('server/status'))).val() === 'down', 15000, 'the admin op');
});
