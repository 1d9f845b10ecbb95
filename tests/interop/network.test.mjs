// SPDX-License-Identifier: MIT
// What the network does to a client, through a loopback proxy per app: a blip (RST; the SDK reconnects with
// `ls` and resumes its session within the grace, so nothing fires), a silent drop (no bytes either way; the
// server's pings go unanswered, the ops fire after dead-after + grace), an outage longer than the grace, and
// the multi-tab presence model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor, record, waitConnected, elapse, database as fdb } from './lib/harness.mjs';
import { presencePattern, settled, watchedPresence } from './lib/presence.mjs';

const { set, get, onValue, onDisconnect, goOffline, serverTimestamp, ref, push } = fdb;

const PING_MS = 100;
const DEAD_AFTER_MS = 600;
const GRACE_MS = 1000;

let lark;
before(async () => {
  lark = await Lark.start(['--ping-interval', `${PING_MS}ms`, '--dead-after', `${DEAD_AFTER_MS}ms`,
    '--grace', `${GRACE_MS}ms`]);
});
after(async () => { await lark?.close(); });

test('a blip (RST) within the grace: the SDK resumes with ls, the observer never sees offline; goOffline fires once', async () => {
  const ns = lark.ns('blip');
  const { feed, a, status, fires, p, sid, session } = await watchedPresence(lark, ns);
  assert.equal(a.proxy.upgrades.length, 1);
  assert.ok(!a.proxy.upgrades[0].includes('ls='), 'the first connection has no ls');

  const tBlip = Date.now();
  a.proxy.blip();
  await waitFor(() => p.connects >= 2, 15000, 'the SDK to reconnect and re-run the pattern');
  const reconnectMs = Date.now() - tBlip;
  assert.ok(reconnectMs < GRACE_MS, `reconnected within the grace (${reconnectMs} ms)`);
  assert.equal(a.proxy.upgrades.length, 2);
  assert.match(a.proxy.upgrades[1], new RegExp(`[?&]ls=${sid.replace(/[^\w-]/g, '\\$&')}(&|$)`));
  assert.equal(a.conn().lastSessionId, sid, 'the hello of the new connection names the same session');
  await waitFor(() => feed.sessions.get(session.handle)?.resumes >= 1
    && feed.sessions.get(session.handle)?.state === 'live', 15000, 'the feed to show the session resumed');
  assert.equal(feed.sessions.get(session.handle).ops.length, 2, 're-registered ops replace, never duplicate');
  assert.ok(feed.events.some((e) => e.body.handle === session.handle && e.body.state === 'suspended'),
    'the server saw the loss (suspended) and forgave it');

  // Had the blip ended the session, its ops would fire when the grace ran out: let that moment pass.
  await elapse(tBlip + GRACE_MS + 4 * PING_MS + 300 - Date.now());
  assert.ok(!status.values.includes('offline'), `observer saw ${JSON.stringify(status.values)}`);
  assert.deepEqual(fires.values, [null]);

  goOffline(a.db);
  await waitFor(() => status.last() === 'offline' && fires.last() === 1, 15000, 'the ops after goOffline');
  const ended = await waitFor(() => feed.events.find((e) => e.action === 'lark.session.ended'
    && e.body.handle === session.handle), 15000, 'the session end in the feed');
  assert.equal(ended.body.endReason, 'clean close');
  // Exactly once: no second fire, e.g. from a forgotten suspended copy of the session, even after a grace.
  await elapse(GRACE_MS + 4 * PING_MS + 300);
  assert.deepEqual(fires.values, [null, 1]);
  assert.deepEqual(status.values.filter((v) => v === 'offline'), ['offline']);
  assert.equal(status.last(), 'offline');
  status.off();
  fires.off();
});

test('a silent drop (blackhole): the ops fire after dead-after + grace, not before; the SDK comes back fresh', async () => {
  const ns = lark.ns('silent');
  const { feed, a, status, fires, p, sid, session } = await watchedPresence(lark, ns);

  const t0 = Date.now();
  a.proxy.setMode('blackhole');
  const suspended = await waitFor(() => feed.events.find((e) => e.body.handle === session.handle
    && e.body.state === 'suspended'), 15000, 'the server to suspend the silent session');
  const tSuspended = Date.now();
  await waitFor(() => status.last() === 'offline', 15000, 'offline at the observer');
  const tFired = Date.now();
  assert.equal(fires.last(), 1);
  const suspendMs = tSuspended - t0;
  const fireMs = tFired - t0;
  // The last sign of life came at most one ping before t0.
  assert.ok(suspendMs >= DEAD_AFTER_MS - PING_MS - 50, `suspended after ${suspendMs} ms, before dead-after`);
  assert.ok(fireMs >= DEAD_AFTER_MS + GRACE_MS - PING_MS - 50, `fired after ${fireMs} ms, before dead-after + grace`);
  assert.ok(fireMs < DEAD_AFTER_MS + GRACE_MS + 3000, `fired after ${fireMs} ms, far too late`);
  assert.ok(suspended.body.fireAt - suspended.body.suspendedAt >= GRACE_MS - 5, 'fireAt = suspendedAt + grace');
  const ended = await waitFor(() => feed.events.find((e) => e.action === 'lark.session.ended'
    && e.body.handle === session.handle), 15000, 'the session end in the feed');
  assert.equal(ended.body.endReason, 'timeout');
  assert.equal(status.values.filter((v) => v === 'offline').length, 1);

  // The SDK never noticed (it sends nothing for 45 s); restoring the path resets its dead link.
  assert.equal(p.connects, 1);
  a.proxy.setMode('pass');
  await waitFor(() => p.connects >= 2 && status.last() === 'online', 15000, 'the SDK back online');
  assert.match(a.proxy.upgrades.at(-1), /[?&]ls=/);
  assert.notEqual(a.conn().lastSessionId, sid, 'an ended session is never resumed: a new session');
  goOffline(a.db);
  await waitFor(() => fires.last() === 2 && status.last() === 'offline', 15000, 'the new session fires on close');
  status.off();
  fires.off();
});

test('an outage longer than the grace (connections refused) fires the ops once, after the grace', async () => {
  const ns = lark.ns('outage');
  const a = await lark.app(ns, { proxy: true });
  const b = await lark.app(ns);
  const status = record(b.ref('status/alice/state'));
  const fires = record(b.ref('fires/alice'));
  const p = presencePattern(a, 'alice');
  await waitFor(() => status.last() === 'online', 15000, 'online at the observer');
  await settled(p);

  const t0 = Date.now();
  a.proxy.setMode('reset'); // RST now, and every reconnect attempt is reset too
  await waitConnected(a.db, false);
  await waitFor(() => status.last() === 'offline', 15000, 'offline at the observer');
  const fireMs = Date.now() - t0;
  assert.ok(fireMs >= GRACE_MS - 50, `fired after ${fireMs} ms, before the grace ran out`);
  assert.ok(fireMs < GRACE_MS + 3000, `fired after ${fireMs} ms, far too late`);
  assert.ok(a.proxy.accepted >= 2, 'the SDK kept trying meanwhile');
  a.proxy.setMode('pass');
  await waitFor(() => p.connects >= 2 && status.last() === 'online', 15000, 'back online');
  assert.deepEqual(fires.values, [null, 1]);
  status.off();
  fires.off();
});

test('two tabs of one user: one connection entry each; a blip keeps the count; closing both sets lastSeen', async () => {
  const ns = lark.ns('tabs');
  const observer = await lark.app(ns);
  const openTab = async () => {
    const tab = await lark.app(ns, { proxy: true, mockUserToken: { sub: 'alice' } });
    // The connection key is made once per tab, so a resumed session re-registers the same entry.
    const key = push(ref(tab.db, 'presence/alice/connections')).key;
    tab.state = { connects: 0, connectedAt: 0, key };
    onValue(ref(tab.db, '.info/connected'), async (snap) => {
      if (snap.val() !== true) return;
      tab.state.connectedAt = Date.now();
      const conn = ref(tab.db, `presence/alice/connections/${key}`);
      await onDisconnect(conn).remove();
      await onDisconnect(ref(tab.db, 'presence/alice/lastSeen')).set(serverTimestamp());
      await set(conn, true);
      tab.state.connects++;
    });
    return tab;
  };
  const counts = [];
  let lastSeen = null;
  const offCount = onValue(observer.ref('presence/alice/connections'), (s) => { counts.push(s.size); });
  const offSeen = onValue(observer.ref('presence/alice/lastSeen'), (s) => { lastSeen = s.val(); });
  const tab1 = await openTab();
  const tab2 = await openTab();
  await waitFor(() => counts.at(-1) === 2, 15000, 'two connections');
  assert.equal(lastSeen, null);

  await settled(tab1.state);
  const tBlip = Date.now();
  const mark = counts.length;
  tab1.proxy.blip();
  await waitFor(() => tab1.state.connects >= 2, 15000, 'tab 1 back after the blip');
  await elapse(tBlip + GRACE_MS + 4 * PING_MS + 300 - Date.now());
  assert.ok(counts.slice(mark).every((c) => c === 2), `count stayed 2 through the blip: ${JSON.stringify(counts)}`);
  assert.equal(lastSeen, null, 'a blip does not touch lastSeen');

  goOffline(tab1.db);
  await waitFor(() => counts.at(-1) === 1, 15000, 'one connection after tab 1 closed');
  const onlyKey = Object.keys((await get(observer.ref('presence/alice/connections'))).val());
  assert.deepEqual(onlyKey, [tab2.state.key]);

  const t2 = Date.now();
  await tab2.delete();
  await waitFor(() => counts.at(-1) === 0, 15000, 'no connections after both tabs closed');
  await waitFor(() => typeof lastSeen === 'number' && lastSeen >= t2 - 50, 15000, 'lastSeen set at the last close');
  assert.equal((await get(observer.ref('presence/alice/connections'))).val(), null);
  assert.ok(!counts.includes(3), `never three entries: ${JSON.stringify(counts)}`);
  offCount();
  offSeen();
});
