// SPDX-License-Identifier: MIT
// The pinned JS SDK against two lark-server --redis nodes on one Redis that the test starts itself
// (docs/cluster.md): an app on one node hears another node's writes, and transactions racing through both nodes
// end exact, because Redis refuses a write checked against a node's old copy (datastale) and the SDK retries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lark, LOOPBACK, waitFor, record, database as fdb } from './lib/harness.mjs';

const { get, set, runTransaction } = fdb;

let redis;
let dir;
let nodes = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, LOOPBACK, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function answersPing(port) {
  return new Promise((resolve) => {
    const c = connect(port, LOOPBACK, () => c.write('PING\r\n'));
    c.once('data', (d) => { c.destroy(); resolve(d.toString().startsWith('+PONG')); });
    c.once('error', () => resolve(false));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lark-interop-redis-'));
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', LOOPBACK, '--dir', dir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  let up = false;
  await waitFor(async () => (up = up || await answersPing(port)), 10000, 'redis-server to answer');
  const url = `redis://${LOOPBACK}:${port}`;
  nodes = [await Lark.start(['--redis', url, '--node-name', 'n1']),
    await Lark.start(['--redis', url, '--node-name', 'n2'])];
});

after(async () => {
  for (const n of nodes) await n.close();
  redis?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("an app on one node hears another node's writes", async () => {
  const ns = nodes[0].ns('cluster');
  const writer = await nodes[0].app(ns);
  const listener = await nodes[1].app(ns);
  const seen = record(listener.ref('room/topic'));
  await set(writer.ref('room/topic'), 'hello');
  await waitFor(() => seen.last() === 'hello', 10000, 'the write from the other node');
  await set(listener.ref('room/topic'), 'back');
  assert.equal((await get(writer.ref('room/topic'))).val(), 'back');
});

test('transactions racing through two nodes end exact', async () => {
  const ns = nodes[0].ns('clustertx');
  const a = await nodes[0].app(ns);
  const b = await nodes[1].app(ns);
  let runs = 0;
  const increment = (app) => runTransaction(app.ref('counter'), (v) => {
    runs++;
    return (v ?? 0) + 1;
  });
  const results = await Promise.all([
    ...Array.from({ length: 20 }, () => increment(a)),
    ...Array.from({ length: 20 }, () => increment(b)),
  ]);
  assert.ok(results.every((r) => r.committed), 'every transaction committed');
  const c = await nodes[1].app(ns);
  assert.equal((await get(c.ref('counter'))).val(), 40);
  assert.ok(runs > 40, `expected retries after datastale, update ran ${runs} times`);
});
