// SPDX-License-Identifier: MIT
// onDisconnect on a clean close (goOffline, deleteApp): the ops fire at once, seen from a second app.
// (The SDK applies its own ops to its local cache on disconnect, so only another app proves the server ran them.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Lark, waitFor, record, waitConnected, elapse, database as fdb } from './lib/harness.mjs';

const {
  set, get, onValue, onDisconnect, goOffline, goOnline, serverTimestamp, increment, ref,
} = fdb;

let lark;
before(async () => { lark = await Lark.start(['--ping-interval', '100ms', '--dead-after', '600ms', '--grace', '1s']); });
after(async () => { await lark?.close(); });

test('goOffline: the other app sees onDisconnect set, update and remove, and not the cancelled one', async () => {
  const ns = lark.ns('od');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(a.ref('od'), { toRemove: 'here', upd: { keep: 1, x: 'before' }, cancelled: 'unchanged' });
  await onDisconnect(a.ref('od/setme')).set({ gone: true, at: serverTimestamp() });
  await onDisconnect(a.ref('od/upd')).update({ x: 'after', 'deep/y': 2, n: increment(3) });
  await onDisconnect(a.ref('od/toRemove')).remove();
  await onDisconnect(a.ref('od/cancelled')).set('fired');
  await onDisconnect(a.ref('od/cancelled')).cancel();
  // A cancel of a parent removes ops queued below it too.
  await onDisconnect(a.ref('od/sub/x')).set(1);
  await onDisconnect(a.ref('od/sub')).cancel();

  const seen = record(b.ref('od'));
  await waitFor(() => seen.last()?.toRemove === 'here', 15000, 'initial data at the observer');
  assert.equal(seen.values.length, 1, 'nothing fired while connected');

  const t0 = Date.now();
  goOffline(a.db);
  const want = {
    setme: { gone: true },
    upd: { keep: 1, x: 'after', deep: { y: 2 }, n: 3 },
    cancelled: 'unchanged',
  };
  await waitFor(() => {
    const v = seen.last();
    if (!v?.setme) return false;
    const { at, ...rest } = v.setme;
    return typeof at === 'number' && isDeepStrictEqual({ ...v, setme: rest }, want);
  }, 15000, 'the ops at the observer');
  const elapsed = Date.now() - t0;
  assert.ok(elapsed < 1000, `a clean close fires at once (took ${elapsed} ms; the grace is 1 s)`);
  const at = seen.last().setme.at;
  assert.ok(at >= t0 - 1000 && at <= Date.now() + 1000, 'serverTimestamp resolved at fire time');
  // One atomic batch: the observer never saw a half-applied state.
  const partial = seen.values.slice(1, -1);
  assert.deepEqual(partial, [], `one atomic update, saw intermediate values ${JSON.stringify(partial)}`);
  seen.off();
});

test('ops fire with the values at fire time (increment, serverTimestamp resolved late)', async () => {
  const ns = lark.ns('late');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(b.ref('ctr'), 10);
  await onDisconnect(a.ref('ctr')).set(increment(5));
  await onDisconnect(a.ref('ts')).set(serverTimestamp());
  const registeredAt = Date.now();
  await set(b.ref('ctr'), 100); // changes after registration count
  // Make sure a measurable time passes between registration and the fire.
  await waitFor(() => Date.now() - registeredAt > 50, 15000, '50 ms');
  const t0 = Date.now();
  await a.delete(); // deleteApp closes the connection cleanly
  const ctr = record(b.ref('ctr'));
  await waitFor(() => ctr.last() === 105, 15000, 'ctr = 100 + 5');
  ctr.off();
  const ts = (await get(b.ref('ts'))).val();
  assert.ok(ts >= t0 - 20, `timestamp ${ts} taken at fire time (closed at ${t0}), not at registration`);
});

test('presence pattern: .info/connected → onDisconnect set offline → set online, seen from a second app', async () => {
  const ns = lark.ns('presence');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  const status = b.ref('status/alice');
  const seen = record(b.ref('status/alice/state'));
  await waitFor(() => seen.primed, 15000, 'observer listening');

  const order = [];
  onValue(ref(a.db, '.info/connected'), async (snap) => {
    if (snap.val() !== true) return;
    const me = ref(a.db, 'status/alice');
    await onDisconnect(me).set({ state: 'offline', last_changed: serverTimestamp() });
    order.push('onDisconnect registered');
    await set(me, { state: 'online', last_changed: serverTimestamp() });
    order.push('online');
  });
  await waitFor(() => seen.last() === 'online', 15000, 'online at the observer');
  // The server pushes to listeners before it acknowledges the writer (docs/wire-protocol.md §0.3): the observer may
  // see 'online' before app a has read its own ok.
  await waitFor(() => order.length >= 2, 15000, 'the writer got its ok');
  assert.deepEqual(order.slice(0, 2), ['onDisconnect registered', 'online']);

  goOffline(a.db);
  await waitFor(() => seen.last() === 'offline', 15000, 'offline at the observer');
  const lastChanged = (await get(status)).val().last_changed;
  assert.equal(typeof lastChanged, 'number');

  // Coming back runs the pattern again (a new session: ls names an ended session).
  goOnline(a.db);
  await waitConnected(a.db, true);
  await waitFor(() => seen.last() === 'online', 15000, 'online again at the observer');
  goOffline(a.db);
  await waitFor(() => seen.last() === 'offline', 15000, 'offline again at the observer');
  assert.deepEqual(seen.values, [null, 'online', 'offline', 'online', 'offline']);
  seen.off();
});

test('an onDisconnect queued while offline is sent after goOnline and fires on the next close', async () => {
  const ns = lark.ns('queued');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(a.ref('warmup'), 1); // connect first
  goOffline(a.db);
  await waitConnected(a.db, false);
  const registered = onDisconnect(a.ref('queued/x')).set('fired');
  goOnline(a.db);
  await registered;
  const seen = record(b.ref('queued/x'));
  await waitFor(() => seen.primed, 15000, 'observer listening');
  assert.equal(seen.last(), null);
  goOffline(a.db);
  await waitFor(() => seen.last() === 'fired', 15000, 'the op fired');
  seen.off();
});

test('the ops of one session fire once; a later session starts with none', async () => {
  const ns = lark.ns('once');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(b.ref('n'), 0);
  await onDisconnect(a.ref('n')).set(increment(1));
  const seen = record(b.ref('n'));
  await waitFor(() => seen.last() === 0, 15000, 'observer');
  goOffline(a.db);
  await waitFor(() => seen.last() === 1, 15000, 'fired once');
  goOnline(a.db);
  await waitConnected(a.db, true);
  await set(a.ref('ping'), true); // a round trip on the new connection
  goOffline(a.db);
  await waitConnected(a.db, false);
  // Nothing is queued on the new session, so nothing may fire: give a wrong second fire time to show up.
  await elapse(300);
  await get(b.ref('n'));
  assert.deepEqual(seen.values, [0, 1]);
  seen.off();
});

test('queued ops merge like the SDK model: a child op lands in an ancestor op, a later ancestor op replaces', async () => {
  const ns = lark.ns('merge');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  const { setWithPriority } = fdb;
  await set(b.ref('m'), { keep: 'me' });
  await onDisconnect(a.ref('m/x/old')).set('replaced by the ancestor op below');
  await onDisconnect(a.ref('m/x')).set({ base: 1, drop: 2 }); // replaces the op queued below it
  await onDisconnect(a.ref('m/x/child')).set('merged into m/x'); // lands inside the queued m/x value
  await onDisconnect(a.ref('m/x/drop')).cancel(); // removes that child from the queued m/x value
  await onDisconnect(a.ref('m/y')).update({ 'k/l': [1, 2], n: null, o: 'o' }); // raw arrays as in update()
  await onDisconnect(a.ref('m/p')).setWithPriority('prio', 5);
  await onDisconnect(a.ref('m/keep')).remove();
  await onDisconnect(a.ref('m/keep')).set('set after remove'); // the later op at the same path wins
  const seen = record(b.ref('m'));
  await waitFor(() => seen.last()?.keep === 'me', 15000, 'observer');
  goOffline(a.db);
  const want = {
    keep: 'set after remove',
    x: { base: 1, child: 'merged into m/x' },
    y: { k: { l: [1, 2] }, o: 'o' },
    p: 'prio',
  };
  await waitFor(() => isDeepStrictEqual(seen.last(), want), 15000, `${JSON.stringify(want)}, have ${JSON.stringify(seen.last())}`);
  assert.equal((await get(b.ref('m/p'))).priority, 5);
  seen.off();
});

test('onDisconnect ops at the root and an overlapping listener on a deep path', async () => {
  const ns = lark.ns('root');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(b.ref(), { one: { two: { three: 3 } }, other: 1 });
  const deep = record(b.ref('one/two/three'));
  await waitFor(() => deep.last() === 3, 15000, 'observer');
  await onDisconnect(a.ref()).update({ 'one/two/three': 'three', other: null });
  goOffline(a.db);
  await waitFor(() => deep.last() === 'three', 15000, 'the root update at the deep listener');
  assert.deepEqual((await get(b.ref())).val(), { one: { two: { three: 'three' } } });
  deep.off();
});
