// SPDX-License-Identifier: MIT
// After a reconnect the SDK re-sends its listens with the hash of what it has cached; the server must send
// fresh data when anything changed meanwhile (and may skip it when nothing did). Writes made while offline
// are delivered after the reconnect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Lark, waitFor, waitConnected, database as fdb } from './lib/harness.mjs';

const {
  set, get, update, remove, query, onValue, onChildAdded, onChildRemoved, onChildMoved, orderByChild, limitToLast,
  startAt, goOffline, goOnline,
} = fdb;

let lark;
before(async () => { lark = await Lark.start(['--ping-interval', '100ms', '--dead-after', '600ms', '--grace', '1s']); });
after(async () => { await lark?.close(); });

const keysOf = (snap) => {
  const keys = [];
  snap.forEach((c) => { keys.push(c.key); });
  return keys;
};

test('changes made while an app was cut off reach its listens and queries after it reconnects', async () => {
  const ns = lark.ns('resync');
  const w = await lark.app(ns);
  const a = await lark.app(ns, { proxy: true });
  await set(w.ref('items'), { a: { t: 1 }, b: { t: 2 }, c: { t: 3 } });
  await set(w.ref('same'), { stays: 'put' });

  let plain = null;
  let top2 = null;
  let ranged = null;
  let same = null;
  let sameEvents = 0;
  const offs = [
    onValue(a.ref('items'), (s) => { plain = s.val(); }),
    onValue(query(a.ref('items'), orderByChild('t'), limitToLast(2)), (s) => { top2 = keysOf(s); }),
    onValue(query(a.ref('items'), orderByChild('t'), startAt(2)), (s) => { ranged = keysOf(s); }),
    onValue(a.ref('same'), (s) => { same = s.val(); sameEvents++; }),
  ];
  await waitFor(() => plain && isDeepStrictEqual(top2, ['b', 'c']) && isDeepStrictEqual(ranged, ['b', 'c']) && same,
    15000, 'initial data');

  a.proxy.setMode('reset');
  await waitConnected(a.db, false);
  await update(w.ref('items'), { d: { t: 10 }, 'b/t': 0, c: null });
  a.proxy.setMode('pass');
  await waitConnected(a.db, true);
  await waitFor(() => isDeepStrictEqual(plain, { a: { t: 1 }, b: { t: 0 }, d: { t: 10 } })
    && isDeepStrictEqual(top2, ['a', 'd']) && isDeepStrictEqual(ranged, ['d']), 15000,
  `fresh data after the reconnect (have ${JSON.stringify({ plain, top2, ranged })})`);
  assert.deepEqual(same, { stays: 'put' });
  assert.equal(sameEvents, 1, 'an unchanged location fires no new event');
  for (const off of offs) off();
});

test('writes made while offline are delivered once the app is back, in order', async () => {
  const ns = lark.ns('offlinewrites');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(a.ref('q/first'), 1);
  goOffline(a.db);
  await waitConnected(a.db, false);
  const pending = [
    set(a.ref('q/second'), 2),
    update(a.ref('q'), { third: 3, first: null }),
    set(a.ref('q/log'), 'a'),
    set(a.ref('q/log'), 'b'), // the later write to the same place wins
  ];
  goOnline(a.db);
  await Promise.all(pending);
  const v = (await get(b.ref('q'))).val();
  assert.deepEqual(v, { second: 2, third: 3, log: 'b' });
});

test('child events (added, moved, removed) on an ordered query follow the changes of another app', async () => {
  const ns = lark.ns('childmoves');
  const w = await lark.app(ns);
  const a = await lark.app(ns);
  await set(w.ref('board'), { x: { score: 1 }, y: { score: 2 }, z: { score: 3 } });
  const events = [];
  const q = query(a.ref('board'), orderByChild('score'));
  const offs = [
    onChildAdded(q, (s, prev) => events.push(`added ${s.key} after ${prev}`)),
    onChildRemoved(q, (s) => events.push(`removed ${s.key}`)),
    onChildMoved(q, (s, prev) => events.push(`moved ${s.key} after ${prev}`)),
  ];
  await waitFor(() => events.length === 3, 15000, 'initial children');
  await set(w.ref('board/x/score'), 10);
  await waitFor(() => events.includes('moved x after z'), 15000, `x to move to the end (${JSON.stringify(events)})`);
  await remove(w.ref('board/y'));
  await waitFor(() => events.includes('removed y'), 15000, 'y removed');
  assert.deepEqual(events, ['added x after null', 'added y after x', 'added z after y', 'moved x after z', 'removed y']);
  for (const off of offs) off();
});
