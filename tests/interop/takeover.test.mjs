// SPDX-License-Identifier: MIT
// A half-open link (the client's side reset, the server's side left open and silent): the SDK reconnects with
// `ls` while the server still holds the old socket as live. The new connection takes the session over; the
// old socket is closed without firing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor, elapse, database as fdb } from './lib/harness.mjs';
import { watchedPresence } from './lib/presence.mjs';

const { goOffline } = fdb;

const PING_MS = 100;
const GRACE_MS = 1000;

test('a half-open link: the SDK reconnects with ls while the server still holds the old socket → takeover, no fire', async () => {
  // A server of its own with a long dead-after, so the old socket is still "live" when the SDK comes back.
  const DEAD_LONG_MS = 3000;
  const own = await Lark.start(['--ping-interval', `${PING_MS}ms`, '--dead-after', `${DEAD_LONG_MS}ms`,
    '--grace', `${GRACE_MS}ms`]);
  try {
    const ns = own.ns('takeover');
    const { feed, a, status, fires, p, sid, session } = await watchedPresence(own, ns);

    const t0 = Date.now();
    a.proxy.dropClientSide();
    await waitFor(() => p.connects >= 2, 15000, 'the SDK to reconnect');
    assert.ok(Date.now() - t0 < DEAD_LONG_MS, 'reconnected while the server still thought the old socket live');
    assert.equal(a.conn().lastSessionId, sid, 'the live session was taken over, not replaced');
    await waitFor(() => feed.sessions.get(session.handle)?.resumes >= 1, 15000, 'the takeover in the feed');
    // Past the old socket's dead-after and a grace on top: the ops must not have fired.
    await elapse(t0 + DEAD_LONG_MS + GRACE_MS + 4 * PING_MS + 300 - Date.now());
    assert.ok(!status.values.includes('offline'), `observer saw ${JSON.stringify(status.values)}`);
    assert.deepEqual(fires.values, [null]);
    assert.equal(feed.sessions.get(session.handle).state, 'live');
    assert.ok(!feed.events.some((e) => e.action === 'lark.session.ended' && e.body.handle === session.handle));

    goOffline(a.db);
    await waitFor(() => status.last() === 'offline' && fires.last() === 1, 15000, 'the ops after goOffline');
    status.off();
    fires.off();
  } finally {
    await own.close();
  }
});
