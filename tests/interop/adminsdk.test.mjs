// SPDX-License-Identifier: MIT
// The Node Admin SDK (firebase-admin from npm) against lark-server as it finds an emulator: through
// FIREBASE_DATABASE_EMULATOR_HOST, the namespace from the databaseURL's first label, the emulator credential
// "owner" sent as gauth over the WebSocket protocol, and getRules/setRules
// over REST. Beside it, REST and an event stream see the same tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitFor } from './lib/harness.mjs';

let lark;
let admin;
let app;
let db;
const NS = 'adminsdk';

before(async () => {
  lark = await Lark.start();
  process.env.FIREBASE_DATABASE_EMULATOR_HOST = `127.0.0.1:${lark.port}`;
  const { initializeApp } = await import('firebase-admin/app');
  admin = await import('firebase-admin/database');
  // The emulator's credential, as firebase-tools hands the Admin SDK: no Google account, nothing leaves 127.0.0.1
  // (the default credential would look for a metadata server).
  const credential = { getAccessToken: async () => ({ access_token: 'owner', expires_in: 3600 }) };
  app = initializeApp({ credential, projectId: 'demo-lark', databaseURL: `https://${NS}.firebaseio.com` },
    'lark-admin-test');
  db = admin.getDatabase(app);
});
after(async () => {
  if (app) {
    const { deleteApp } = await import('firebase-admin/app');
    await deleteApp(app);
  }
  await lark?.close();
});

const rest = async (method, path, body, headers = {}) => {
  const res = await fetch(`http://127.0.0.1:${lark.port}/${path}.json?ns=${NS}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
};

test('set, update, push, get and a transaction reach the namespace of the databaseURL', async () => {
  await db.ref('users/ada').set({ name: 'Ada', at: admin.ServerValue.TIMESTAMP });
  await db.ref('users').update({ 'ada/born': 1815, bob: { name: 'Bob' } });
  const key = db.ref('log').push().key;
  await db.ref(`log/${key}`).set('hello');
  const users = (await db.ref('users').get()).val();
  assert.equal(users.ada.name, 'Ada');
  assert.equal(typeof users.ada.at, 'number');
  assert.equal(users.ada.born, 1815);
  // The same tree over REST, in that namespace.
  assert.deepEqual((await rest('GET', 'users/bob')).json, { name: 'Bob' });
  assert.equal((await rest('GET', `log/${key}`)).json, 'hello');
  const result = await db.ref('counter').transaction((n) => (n ?? 0) + 1);
  assert.equal(result.committed, true);
  assert.equal(result.snapshot.val(), 1);
});

test('listeners hear REST writes; an event stream hears the Admin SDK', async () => {
  const seen = [];
  const r = db.ref('live');
  const cb = r.on('value', (s) => seen.push(s.val()));
  await waitFor(() => seen.length >= 1, 10000, 'the first value');
  assert.equal((await rest('PUT', 'live', { by: 'rest' })).status, 200);
  await waitFor(() => seen.some((v) => v && v.by === 'rest'), 10000, 'the REST write');
  r.off('value', cb);

  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${lark.port}/stream.json?ns=${NS}`, {
    headers: { Accept: 'text/event-stream' },
    signal: controller.signal,
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body.getReader();
  let text = '';
  const read = async (pattern) => waitFor(async () => {
    const { value } = await reader.read();
    text += new TextDecoder().decode(value);
    return pattern.test(text);
  }, 10000, `the stream to show ${pattern}`);
  await read(/event: put\ndata: \{"data":null,"path":"\/"\}\n\n/);
  await db.ref('stream/x').set(42);
  await read(/event: put\ndata: \{"data":42,"path":"\/x"\}\n\n/);
  controller.abort();
});

test('the admin bypasses rules it set with setRules; getRules reads them back', async () => {
  const rules = '{\n  // nobody but the admin\n  "rules": {".read": false, ".write": false}\n}';
  await db.setRules(rules);
  assert.equal(await db.getRules(), rules);
  assert.equal((await rest('PUT', 'locked', 1)).status, 401); // anonymous REST
  await db.ref('locked').set(2); // the Admin SDK is the admin
  assert.equal((await db.ref('locked').get()).val(), 2);
  await db.setRules('{"rules": {".read": true, ".write": true}}');
});
