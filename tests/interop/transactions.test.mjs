// SPDX-License-Identifier: MIT
// runTransaction from several apps racing on one location: the server's hash check (datastale) makes the
// result exact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor, database as fdb } from './lib/harness.mjs';

const { get, set, onValue, runTransaction } = fdb;

let lark;
before(async () => { lark = await Lark.start(); });
after(async () => { await lark?.close(); });

test('two apps × 25 concurrent increments by transaction end at exactly 50', async () => {
  const ns = lark.ns('tx');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  let runs = 0;
  const increment = (app) => runTransaction(app.ref('counter'), (v) => {
    runs++;
    return (v ?? 0) + 1;
  });
  const results = await Promise.all([
    ...Array.from({ length: 25 }, () => increment(a)),
    ...Array.from({ length: 25 }, () => increment(b)),
  ]);
  assert.ok(results.every((r) => r.committed), 'every transaction committed');
  const c = await lark.app(ns);
  assert.equal((await get(c.ref('counter'))).val(), 50);
  // Each app's own view agrees too.
  assert.equal((await get(a.ref('counter'))).val(), 50);
  assert.equal((await get(b.ref('counter'))).val(), 50);
  // Racing apps must have had to retry at least once (the server said datastale).
  assert.ok(runs > 50, `expected retries after datastale, update ran ${runs} times`);
});

test('transactions on objects, with aborts, from three apps', async () => {
  const ns = lark.ns('txobj');
  const apps = [await lark.app(ns), await lark.app(ns), await lark.app(ns)];
  await set(apps[0].ref('acct'), { balance: 100, log: { seed: true } });
  // The SDK chains an app's own transactions on its local optimistic value and aborts locally, so every
  // app must start from the server's value: keep a listener on the location.
  const seen = apps.map(() => null);
  const offs = apps.map((app, i) => onValue(app.ref('acct'), (s) => { seen[i] = s.val(); }));
  await waitFor(() => seen.every((v) => v?.balance === 100), 15000, 'every app to see the balance');
  const withdraw = (app, i) => runTransaction(app.ref('acct'), (acct) => {
    if (acct === null) return { balance: 0 }; // the SDK's first guess; the server corrects it
    if (acct.balance < 10) return undefined; // abort
    return { ...acct, balance: acct.balance - 10, log: { ...acct.log, [`w${i}`]: true } };
  });
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => withdraw(apps[i % 3], i)));
  const committed = results.filter((r) => r.committed).length;
  assert.equal(committed, 10, 'exactly ten withdrawals of 10 fit into 100');
  // Read from a fresh app: an app with a listener answers get() from its cache, which may lag behind the
  // other apps' commits.
  const reader = await lark.app(ns);
  const final = (await get(reader.ref('acct'))).val();
  assert.equal(final.balance, 0);
  assert.equal(Object.keys(final.log).length, 11, 'seed plus one log entry per committed withdrawal');
  await waitFor(() => seen.every((v) => v?.balance === 0), 15000, 'every app to see the final balance');
  for (const off of offs) off();
});

test('a transaction result carries the committed snapshot', async () => {
  const ns = lark.ns('txsnap');
  const a = await lark.app(ns);
  await set(a.ref('x'), { n: 1 });
  let seen = null;
  const off = onValue(a.ref('x'), (s) => { seen = s.val(); }); // keeps the value cached between transactions
  await waitFor(() => seen?.n === 1, 15000, 'initial value');
  const r = await runTransaction(a.ref('x/n'), (n) => n * 7);
  assert.equal(r.committed, true);
  assert.equal(r.snapshot.val(), 7);
  const aborted = await runTransaction(a.ref('x/n'), () => undefined);
  assert.equal(aborted.committed, false);
  assert.equal(aborted.snapshot.val(), 7);
  off();
});

test('transactions on data the hash must agree on: priorities, integer keys, floats, unicode, big values', async () => {
  const ns = lark.ns('txhash');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  const { setWithPriority } = fdb;
  // Written by b, so a's transactions start from a guess (null) and must match the server's hash to commit.
  await set(b.ref('h'), {
    10: 'ten', 2: 'two', a: 1.5, b: -0.25, c: 1e21, d: true, e: 'ünïcødé ✓ 😀', f: { g: { h: 3 } },
    big: 'x'.repeat(20000),
  });
  await setWithPriority(b.ref('h/p1'), 'with prio', 7);
  await setWithPriority(b.ref('h/p2'), { inner: 1 }, 'sp');
  let runs = 0;
  const r = await runTransaction(a.ref('h'), (v) => {
    runs++;
    if (v === null) return { guess: true };
    return { ...v, seen: true };
  });
  assert.equal(r.committed, true);
  assert.ok(runs <= 3, `the server's hash matched the SDK's (ran ${runs} times; 25 would mean it never matched)`);
  const v = (await get(b.ref('h'))).val();
  assert.equal(v.seen, true);
  assert.equal(v.e, 'ünïcødé ✓ 😀');
  assert.equal(v.big.length, 20000);
  // Per-child transactions on each kind of leaf.
  for (const key of ['10', '2', 'a', 'b', 'c', 'd', 'e', 'p1']) {
    let n = 0;
    const t = await runTransaction(a.ref(`h/${key}`), (x) => { n++; return x === null ? 'guess' : [x, 'seen']; });
    assert.equal(t.committed, true, key);
    assert.ok(n <= 3, `${key}: ran ${n} times`);
  }
  assert.deepEqual((await get(b.ref('h/c'))).val(), [1e21, 'seen']);
});

test('a transaction whose value is over 16 KiB (multi-frame) commits, and so does its datastale retry', async () => {
  const ns = lark.ns('txbig');
  const a = await lark.app(ns);
  const b = await lark.app(ns);
  await set(b.ref('doc'), { text: 'y'.repeat(30000), v: 1 });
  const r = await runTransaction(a.ref('doc'), (d) => (d === null ? { text: 'z'.repeat(40000), v: 0 } : { ...d, v: d.v + 1 }));
  assert.equal(r.committed, true);
  const v = (await get(b.ref('doc'))).val();
  assert.equal(v.v, 2);
  assert.equal(v.text, 'y'.repeat(30000));
});
