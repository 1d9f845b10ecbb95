// SPDX-License-Identifier: MIT
// The REST API (docs/rest.md) from Node's own HTTP client (fetch, keep-alive), with the requests the Python and Go
// Admin SDKs send to an emulator: `Authorization: Bearer owner`, `?ns=` on every request, set/update with
// print=silent (204 expected), push, get with ETag, set_if_unchanged and a transaction's if-match loop. Beside them,
// the pinned JS SDK: what one writes the other sees, one tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor, database as fdb } from './lib/harness.mjs';

const { set, onValue } = fdb;

let lark;
before(async () => { lark = await Lark.start(); });
after(async () => { await lark?.close(); });

const NS = 'restinterop';
const owner = { Authorization: 'Bearer owner', 'User-Agent': 'Firebase/HTTP/6.6.0/3.11/AdminPython' };
const url = (path, params = '') => `http://127.0.0.1:${lark.port}/${path}.json?ns=${NS}${params}`;

async function rest(method, path, { body, params = '', headers = {} } = {}) {
  const res = await fetch(url(path, params), {
    method,
    headers: { ...owner, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), text, json: text ? JSON.parse(text) : undefined };
}

test('Admin SDK requests: silent set and update are 204, push names its key, get reads them back', async () => {
  assert.equal((await rest('PUT', 'users/ada', { body: { name: 'Ada' }, params: '&print=silent' })).status, 204);
  assert.equal((await rest('PATCH', 'users', { body: { 'ada/born': 1815, bob: { name: 'Bob' } },
    params: '&print=silent' })).status, 204);
  const pushed = await rest('POST', 'log', { body: '' }); // Python's push() default value
  assert.equal(pushed.status, 200);
  assert.match(pushed.json.name, /^[-0-9A-Za-z_]{20}$/);
  assert.deepEqual((await rest('GET', 'users')).json, { ada: { name: 'Ada', born: 1815 }, bob: { name: 'Bob' } });
  assert.equal((await rest('GET', `log/${pushed.json.name}`)).json, '');
  assert.deepEqual((await rest('GET', 'users', { params: '&shallow=true' })).json, { ada: true, bob: true });
  assert.equal((await rest('DELETE', 'users/bob')).json, null);
});

test('a transaction as the Admin SDKs run it: GET with X-Firebase-ETag, PUT with if-match, retry on 412', async () => {
  await rest('PUT', 'counter', { body: 0 });
  // Two increments racing from the same ETag: one wins, the other gets 412 with the current value and retries.
  const first = await rest('GET', 'counter', { headers: { 'X-Firebase-ETag': 'true' } });
  const second = await rest('GET', 'counter', { headers: { 'X-Firebase-ETag': 'true' } });
  assert.equal(first.etag, second.etag);
  const won = await rest('PUT', 'counter', { body: first.json + 1, headers: { 'if-match': first.etag, 'X-Firebase-ETag': 'true' } });
  assert.equal(won.status, 200);
  let attempt = await rest('PUT', 'counter', { body: second.json + 1, headers: { 'if-match': second.etag } });
  assert.equal(attempt.status, 412);
  assert.equal(attempt.json, 1);
  attempt = await rest('PUT', 'counter', { body: attempt.json + 1, headers: { 'if-match': attempt.etag } });
  assert.equal(attempt.status, 200);
  assert.equal((await rest('GET', 'counter')).json, 2);
  // get_if_changed: 304 while nothing changed.
  const now = await rest('GET', 'counter', { headers: { 'X-Firebase-ETag': 'true' } });
  assert.equal((await rest('GET', 'counter', { headers: { 'if-none-match': now.etag } })).status, 304);
});

test('one tree: the JS SDK sees REST writes live, and REST reads what the SDK wrote', async () => {
  const app = await lark.app(NS);
  const seen = [];
  onValue(app.ref('room'), (s) => seen.push(s.val()));
  await waitFor(() => seen.length === 1, 15000, 'the first value');
  await rest('PUT', 'room/a', { body: 1 });
  await rest('PATCH', 'room', { body: { b: 2, c: 3 } });
  await waitFor(() => seen.at(-1)?.c === 3, 15000, 'the REST writes pushed');
  assert.deepEqual(seen.at(-1), { a: 1, b: 2, c: 3 });
  await set(app.ref('room/d'), { '.sv': 'timestamp' });
  const d = (await rest('GET', 'room/d')).json;
  assert.ok(typeof d === 'number' && Math.abs(d - Date.now()) < 60000, String(d));
});

test('errors as the Admin SDKs read them: {"error": …} with the status', async () => {
  const bad = await rest('PUT', 'x', { body: undefined, headers: { 'Content-Type': 'application/json' } });
  assert.equal(bad.status, 400);
  assert.equal(typeof bad.json.error, 'string');
  const badPath = await fetch(url('a$b'), { method: 'PUT', headers: owner, body: '1' });
  assert.equal(badPath.status, 400);
  assert.match((await badPath.json()).error, /Invalid path/);
});
