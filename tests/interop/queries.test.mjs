// SPDX-License-Identifier: MIT
// Every query kind, filtered by the server: results via get() (the server's answer alone) and via onValue
// (a tagged listen), including key tie-breaks, nested child paths and live window changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Lark, waitFor, database as fdb } from './lib/harness.mjs';

const {
  set, get, remove, query, onValue, setWithPriority, orderByChild, orderByKey, orderByValue, orderByPriority,
  startAt, startAfter, endAt, endBefore, equalTo, limitToFirst, limitToLast,
} = fdb;

let lark;
let ns;
let writer;
before(async () => {
  lark = await Lark.start();
  ns = lark.ns('queries');
  writer = await lark.app(ns);
  // Ordering by a child: null < numbers < strings; equal values tie-break by key, integer keys first.
  await set(writer.ref('people'), {
    a: { age: 20, addr: { city: 'Oslo' } },
    b: { age: 30, addr: { city: 'Bergen' } },
    c: { age: 20, addr: { city: 'Oslo' } },
    d: { age: 25 },
    e: { age: 'x' },
    g: { name: 'no age' },
    10: { age: 20 },
    2: { age: 30 },
  });
  await set(writer.ref('scores'), { x: 5, y: 1, z: 5, w: 'str', v: true, u: 3 });
  await setWithPriority(writer.ref('prio/p1'), 'one', 2);
  await setWithPriority(writer.ref('prio/p2'), 'two', 1);
  await setWithPriority(writer.ref('prio/p3'), 'three', 'b');
  await set(writer.ref('prio/p4'), 'four');
  await setWithPriority(writer.ref('prio/p5'), 'five', 1);
});
after(async () => { await lark?.close(); });

const keysOf = (snap) => {
  const keys = [];
  snap.forEach((c) => { keys.push(c.key); });
  return keys;
};

const cases = [
  // orderByChild
  ['people', () => [orderByChild('age')], ['g', '10', 'a', 'c', 'd', '2', 'b', 'e']],
  ['people', () => [orderByChild('age'), startAt(20), endAt(25)], ['10', 'a', 'c', 'd']],
  ['people', () => [orderByChild('age'), startAfter(20), endBefore(30)], ['d']],
  ['people', () => [orderByChild('age'), equalTo(20)], ['10', 'a', 'c']],
  ['people', () => [orderByChild('age'), equalTo(20, 'a')], ['a']],
  ['people', () => [orderByChild('age'), startAt(20, 'a')], ['a', 'c', 'd', '2', 'b', 'e']],
  ['people', () => [orderByChild('age'), startAfter(20, 'a')], ['c', 'd', '2', 'b', 'e']],
  ['people', () => [orderByChild('age'), endAt(20, 'a')], ['g', '10', 'a']],
  ['people', () => [orderByChild('age'), endBefore(30, 'b')], ['g', '10', 'a', 'c', 'd', '2']],
  ['people', () => [orderByChild('age'), startAt('x')], ['e']],
  ['people', () => [orderByChild('age'), limitToFirst(3)], ['g', '10', 'a']],
  ['people', () => [orderByChild('age'), limitToLast(2)], ['b', 'e']],
  ['people', () => [orderByChild('age'), startAt(20), limitToLast(2)], ['b', 'e']],
  ['people', () => [orderByChild('age'), endAt(25), limitToLast(2)], ['c', 'd']],
  // orderByChild with a nested path
  ['people', () => [orderByChild('addr/city'), equalTo('Oslo')], ['a', 'c']],
  ['people', () => [orderByChild('addr/city'), startAt('B')], ['b', 'a', 'c']],
  ['people', () => [orderByChild('addr/city'), limitToLast(1)], ['c']],
  ['people', () => [orderByChild('addr/city'), limitToFirst(3)], ['2', '10', 'd']],
  ['people', () => [orderByChild('addr/city'), equalTo(null)], ['2', '10', 'd', 'e', 'g']],
  // orderByKey: integer keys first, numerically
  ['people', () => [orderByKey()], ['2', '10', 'a', 'b', 'c', 'd', 'e', 'g']],
  ['people', () => [orderByKey(), startAt('b'), endAt('d')], ['b', 'c', 'd']],
  ['people', () => [orderByKey(), startAfter('b'), limitToFirst(2)], ['c', 'd']],
  ['people', () => [orderByKey(), endBefore('a')], ['2', '10']],
  ['people', () => [orderByKey(), equalTo('c')], ['c']],
  ['people', () => [orderByKey(), limitToLast(2)], ['e', 'g']],
  // orderByValue: true < numbers < strings, ties by key
  ['scores', () => [orderByValue()], ['v', 'y', 'u', 'x', 'z', 'w']],
  ['scores', () => [orderByValue(), startAt(3), endAt(5)], ['u', 'x', 'z']],
  ['scores', () => [orderByValue(), equalTo(5, 'z')], ['z']],
  ['scores', () => [orderByValue(), startAfter(5, 'x')], ['z', 'w']],
  ['scores', () => [orderByValue(), endBefore(5, 'z')], ['v', 'y', 'u', 'x']],
  ['scores', () => [orderByValue(), limitToFirst(2)], ['v', 'y']],
  ['scores', () => [orderByValue(), limitToLast(2)], ['z', 'w']],
  // orderByPriority: none < numbers < strings, ties by key
  ['prio', () => [orderByPriority()], ['p4', 'p2', 'p5', 'p1', 'p3']],
  ['prio', () => [orderByPriority(), startAt(1), endAt(2)], ['p2', 'p5', 'p1']],
  ['prio', () => [orderByPriority(), startAt(1, 'p5')], ['p5', 'p1', 'p3']],
  ['prio', () => [orderByPriority(), equalTo(1)], ['p2', 'p5']],
  ['prio', () => [orderByPriority(), endBefore(2)], ['p4', 'p2', 'p5']],
  ['prio', () => [orderByPriority(), startAt('a')], ['p3']],
  ['prio', () => [orderByPriority(), limitToFirst(2)], ['p4', 'p2']],
  // limits alone (the default priority index; no priorities → key order)
  ['people', () => [limitToFirst(2)], ['2', '10']],
  ['people', () => [limitToLast(2)], ['e', 'g']],
];

const describe = (path, make) =>
  `${path}: ${make.toString().replace(/^\(\) => \[|\]$/g, '')}`;

test('every query kind via get() (answered by the server alone)', async () => {
  const failures = [];
  for (const [path, make, want] of cases) {
    const reader = await lark.app(ns); // a fresh app each time: nothing cached, no listen covering the path
    const snap = await get(query(reader.ref(path), ...make()));
    const got = keysOf(snap);
    if (!isDeepStrictEqual(got, want)) failures.push(`${describe(path, make)} → ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    await reader.delete();
  }
  assert.deepEqual(failures, []);
});

test('every query kind via onValue (tagged listens)', async () => {
  const reader = await lark.app(ns);
  const failures = [];
  // All listens at once, so the server handles many tags on one connection.
  const results = cases.map(() => ({ got: null }));
  const offs = cases.map(([path, make], i) =>
    onValue(query(reader.ref(path), ...make()), (snap) => { results[i].got = keysOf(snap); }));
  await waitFor(() => results.every((r) => r.got !== null), 15000, 'every query to report');
  cases.forEach(([path, make, want], i) => {
    if (!isDeepStrictEqual(results[i].got, want)) {
      failures.push(`${describe(path, make)} → ${JSON.stringify(results[i].got)}, want ${JSON.stringify(want)}`);
    }
  });
  for (const off of offs) off();
  assert.deepEqual(failures, []);
});

test('a limited window follows changes made by another app', async () => {
  const reader = await lark.app(ns);
  await set(writer.ref('live'), { a: { t: 1 }, b: { t: 2 }, c: { t: 3 }, d: { t: 4 } });
  let last = null;
  const history = [];
  const off = onValue(query(reader.ref('live'), orderByChild('t'), limitToLast(2)), (snap) => {
    last = keysOf(snap);
    history.push(last);
  });
  const until = (want, what) => waitFor(() => isDeepStrictEqual(last, want), 15000, `${what}: ${JSON.stringify(want)} (have ${JSON.stringify(last)})`);
  await until(['c', 'd'], 'initial window');
  await set(writer.ref('live/e'), { t: 10 });
  await until(['d', 'e'], 'a new last child enters');
  await remove(writer.ref('live/e'));
  await until(['c', 'd'], 'a child leaves, the one before comes back');
  await set(writer.ref('live/a/t'), 100);
  await until(['d', 'a'], 'a child moves into the window');
  await set(writer.ref('live/d'), null);
  await until(['c', 'a'], 'removal inside the window');
  off();
  // The values inside the window come along too.
  const snap = await get(query(reader.ref('live'), orderByChild('t'), limitToLast(1)));
  assert.deepEqual(snap.val(), { a: { t: 100 } });
  assert.ok(history.length >= 5);
});

test('a startAt/endAt window keeps out children outside the range', async () => {
  const reader = await lark.app(ns);
  await set(writer.ref('range'), { a: 1, b: 5, c: 9 });
  let last = null;
  const off = onValue(query(reader.ref('range'), orderByValue(), startAt(2), endAt(8)), (snap) => { last = snap.val(); });
  await waitFor(() => isDeepStrictEqual(last, { b: 5 }), 15000, 'initial range');
  await set(writer.ref('range/d'), 7);
  await waitFor(() => isDeepStrictEqual(last, { b: 5, d: 7 }), 15000, 'a child enters the range');
  await set(writer.ref('range/b'), 50);
  await waitFor(() => isDeepStrictEqual(last, { d: 7 }), 15000, 'a child leaves the range');
  off();
});

test('5 000 children: ordered, limited and ranged queries pick the right children', async () => {
  const reader = await lark.app(ns);
  const many = {};
  for (let i = 0; i < 5000; i++) many[`k${String(i).padStart(5, '0')}`] = { score: (i * 7919) % 5000, pad: 'x'.repeat(20) };
  await set(writer.ref('many'), many);
  const top = await get(query(reader.ref('many'), orderByChild('score'), limitToLast(3)));
  const want = Object.entries(many).sort((x, y) => x[1].score - y[1].score || (x[0] < y[0] ? -1 : 1)).slice(-3).map(([k]) => k);
  assert.deepEqual(keysOf(top), want);
  assert.equal(top.size, 3);
  let live = null;
  const off = onValue(query(reader.ref('many'), orderByChild('score'), startAt(4990)), (s) => { live = keysOf(s); });
  await waitFor(() => live?.length === 10, 15000, 'the ten highest scores');
  off();
});
