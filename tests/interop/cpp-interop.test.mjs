// SPDX-License-Identifier: MIT
// The C++ client SDK (lark::client, driven through lark-interop-client) and the Firebase JS SDK on one
// server: each sees the other's writes, and each one's onDisconnect ops are observed by the other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { Lark, LinkProxy, LOOPBACK, waitFor, record, elapse, watchAdminFeed, database as fdb } from './lib/harness.mjs';

const { set, get, update, onValue, onDisconnect, goOffline, serverTimestamp, ref } = fdb;

const PING_MS = 100;
const DEAD_AFTER_MS = 600;
const GRACE_MS = 1000;

/** lark-interop-client as a child process: cmd() sends one line and resolves with its `ok`/`error` reply. */
class CppClient {
  static async start(port, ns, token) {
    const bin = process.env.LARK_INTEROP_CLIENT;
    if (!bin) throw new Error('LARK_INTEROP_CLIENT is not set (run through ctest)');
    const args = [`ws://${LOOPBACK}:${port}`, ns, ...(token ? [token] : [])];
    const c = new CppClient(spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    await waitFor(() => c.connected, 15000, 'the C++ client to connect');
    return c;
  }

  constructor(child) {
    this.child = child;
    this.pending = [];
    this.values = new Map(); // path → every value seen, in order
    this.connected = false;
    this.connectedChanges = [];
    this.stderr = '';
    this.exit = null;
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.#line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { this.stderr += d; });
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const p of this.pending.splice(0)) p.reject(new Error(`lark-interop-client exited (${code ?? signal})\n${this.stderr}`));
    });
  }

  #line(line) {
    let m;
    if ((m = /^value (\S+) (.*)$/.exec(line))) {
      if (!this.values.has(m[1])) this.values.set(m[1], []);
      this.values.get(m[1]).push(JSON.parse(m[2]));
    } else if ((m = /^connected (true|false)$/.exec(line))) {
      this.connected = m[1] === 'true';
      this.connectedChanges.push(this.connected);
    } else if ((m = /^ok(?: (.*))?$/.exec(line))) {
      this.pending.shift()?.resolve(m[1] === undefined ? undefined : JSON.parse(m[1]));
    } else if ((m = /^error (\S+) ?(.*)$/.exec(line))) {
      const e = new Error(`${m[1].toUpperCase()}: ${m[2]}`);
      e.status = m[1];
      this.pending.shift()?.reject(e);
    }
  }

  cmd(line) {
    return new Promise((resolve, reject) => {
      if (this.exit) {
        reject(new Error('lark-interop-client is gone'));
        return;
      }
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${line}\n`);
    });
  }

  last(path) {
    return this.values.get(path)?.at(-1);
  }

  async quit() {
    if (this.exit) return;
    const gone = once(this.child, 'exit');
    await this.cmd('quit');
    await gone;
  }

  async kill() {
    const gone = once(this.child, 'exit');
    this.child.stdin.write('kill\n');
    await gone;
  }

  stop() {
    if (!this.exit) this.child.kill('SIGKILL');
  }
}

let lark;
const clients = [];
const cpp = async (port, ns, token) => {
  const c = await CppClient.start(port, ns, token);
  clients.push(c);
  return c;
};
before(async () => {
  lark = await Lark.start(['--ping-interval', `${PING_MS}ms`, '--dead-after', `${DEAD_AFTER_MS}ms`,
    '--grace', `${GRACE_MS}ms`]);
});
after(async () => {
  for (const c of clients) c.stop();
  await lark?.close();
});

test("C++ and JS see each other's writes", async () => {
  const ns = lark.ns('cpp');
  const js = await lark.app(ns);
  const c = await cpp(lark.port, ns);

  // C++ → JS
  const seen = record(js.ref('fromCpp'));
  await waitFor(() => seen.primed, 15000, 'JS listening');
  await c.cmd('set /fromCpp {"n":1,"s":"héllo ✓","deep":{"list":[1,2,3]},"t":{".sv":"timestamp"}}');
  await waitFor(() => seen.last()?.n === 1, 15000, "JS to see the C++ client's set");
  const v = seen.last();
  assert.equal(v.s, 'héllo ✓');
  assert.deepEqual(v.deep, { list: [1, 2, 3] });
  assert.equal(typeof v.t, 'number');
  await c.cmd('update /fromCpp {"n":2,"deep/x":"y","s":null}');
  await waitFor(() => isDeepStrictEqual(seen.last(), { n: 2, deep: { list: [1, 2, 3], x: 'y' }, t: v.t }),
    15000, "JS to see the C++ client's update");
  await c.cmd('remove /fromCpp/deep');
  await waitFor(() => seen.last()?.deep === undefined, 15000, "JS to see the C++ client's remove");
  seen.off();

  // JS → C++
  await c.cmd('watch /fromJs');
  await set(js.ref('fromJs'), { a: 1, b: 'two' });
  await waitFor(() => isDeepStrictEqual(c.last('/fromJs'), { a: 1, b: 'two' }), 15000, 'C++ to see the JS set');
  await update(js.ref('fromJs'), { 'c/d': true, a: null });
  await waitFor(() => isDeepStrictEqual(c.last('/fromJs'), { b: 'two', c: { d: true } }), 15000,
    'C++ to see the JS update');
  assert.deepEqual(await c.cmd('get /fromJs'), { b: 'two', c: { d: true } });
  assert.deepEqual((await get(js.ref('fromCpp/n'))).val(), 2);
  await c.quit();
});

test("a C++ client's onDisconnect is observed by a JS app: at once on quit, after the grace on a crash", async () => {
  const ns = lark.ns('cppod');
  const js = await lark.app(ns);
  const status = record(js.ref('status'));
  await waitFor(() => status.primed, 15000, 'JS listening');

  // Clean close (WebSocket close frame): fires at once.
  const c1 = await cpp(lark.port, ns);
  await c1.cmd('set /status/c1 "online"');
  await c1.cmd('ondisconnect-set /status/c1 "offline"');
  await c1.cmd('ondisconnect-update /status {"c1since":{".sv":"timestamp"}}');
  await c1.cmd('set /scratch 1');
  await c1.cmd('ondisconnect-remove /scratch');
  await c1.cmd('ondisconnect-set /status/cancelled "fired"');
  await c1.cmd('ondisconnect-cancel /status/cancelled');
  await waitFor(() => status.last()?.c1 === 'online', 15000, 'c1 online at JS');
  const t0 = Date.now();
  await c1.quit();
  await waitFor(() => status.last()?.c1 === 'offline', 15000, 'c1 offline at JS');
  assert.ok(Date.now() - t0 < GRACE_MS, 'a clean close fires at once');
  assert.equal(typeof status.last().c1since, 'number');
  assert.equal(status.last().cancelled, undefined);
  assert.equal((await get(js.ref('scratch'))).val(), null);

  // Crash (process gone, TCP closed without a close frame): an abnormal loss, so the grace applies.
  const c2 = await cpp(lark.port, ns);
  await c2.cmd('ondisconnect-set /status/c2 "offline"');
  await c2.cmd('set /status/c2 "online"');
  await waitFor(() => status.last()?.c2 === 'online', 15000, 'c2 online at JS');
  const t1 = Date.now();
  await c2.kill();
  await waitFor(() => status.last()?.c2 === 'offline', 15000, 'c2 offline at JS');
  const fireMs = Date.now() - t1;
  assert.ok(fireMs >= GRACE_MS - 50, `a crash fires after the grace, not after ${fireMs} ms`);
  assert.ok(fireMs < GRACE_MS + 3000, `fired after ${fireMs} ms, far too late`);
  status.off();
});

test("a JS app's onDisconnect is observed by a C++ client", async () => {
  const ns = lark.ns('jsod');
  const js = await lark.app(ns);
  const c = await cpp(lark.port, ns);
  await c.cmd('watch /presence/js');
  onValue(ref(js.db, '.info/connected'), async (snap) => {
    if (snap.val() !== true) return;
    const me = ref(js.db, 'presence/js');
    await onDisconnect(me).set({ state: 'offline', at: serverTimestamp() });
    await set(me, { state: 'online' });
  });
  await waitFor(() => c.last('/presence/js')?.state === 'online', 15000, 'C++ to see JS online');
  goOffline(js.db);
  await waitFor(() => c.last('/presence/js')?.state === 'offline', 15000, 'C++ to see JS offline');
  assert.equal(typeof c.last('/presence/js').at, 'number');
  await c.quit();
});

test('a C++ client through a blip resumes its session; the JS observer never sees its ops fire', async () => {
  const ns = lark.ns('cppblip');
  const js = await lark.app(ns);
  const proxy = await LinkProxy.start(lark.port);
  lark.proxies.push(proxy);
  const status = record(js.ref('status/cpp'));
  await waitFor(() => status.primed, 15000, 'JS listening');
  const c = await cpp(proxy.port, ns);
  await c.cmd('ondisconnect-set /status/cpp "offline"');
  await c.cmd('set /status/cpp "online"');
  await waitFor(() => status.last() === 'online', 15000, 'online at JS');
  const tBlip = Date.now();
  proxy.blip();
  await waitFor(() => c.connectedChanges.length >= 3 && c.connected, 15000, 'the C++ client to reconnect');
  assert.match(proxy.upgrades.at(-1), /[?&]ls=/);
  const session = await c.cmd('session');
  assert.equal(session.resumed, true, 'the server resumed the session');
  await elapse(tBlip + GRACE_MS + 4 * PING_MS + 300 - Date.now());
  assert.deepEqual(status.values, [null, 'online']);
  await c.quit();
  await waitFor(() => status.last() === 'offline', 15000, 'offline at JS after quit');
  status.off();
});

test('a 40 000-emoji string from the C++ client reaches a JS app intact (server pushes split on code points)', async () => {
  const ns = lark.ns('cppemoji');
  const js = await lark.app(ns);
  const c = await cpp(lark.port, ns);
  for (const big of ['😀'.repeat(20000), `a${'😀'.repeat(20000)}`, `ab${'😀'.repeat(20000)}`]) {
    const seen = record(js.ref('e'));
    await waitFor(() => seen.primed, 15000, 'JS listening');
    await c.cmd(`set /e ${JSON.stringify(big)}`);
    await waitFor(() => seen.last()?.length === big.length, 15000, 'the string at JS');
    seen.off();
    assert.ok(seen.last() === big, 'pushed intact');
    assert.ok((await get((await lark.app(ns)).ref('e'))).val() === big, 'get intact');
  }
  await c.quit();
});

/** An unsigned emulator token, as the JS SDK's mockUserToken makes it. */
function mockToken(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', type: 'JWT' })}.${b64({
    iss: 'https://securetoken.google.com/demo-lark', aud: 'demo-lark', iat: 0, exp: 3600, auth_time: 0,
    sub, user_id: sub, firebase: { sign_in_provider: 'custom', identities: {} },
  })}.`;
}

test('one user in two clients (a JS tab and a C++ app): connection entries, identities in the feed, lastSeen', async () => {
  const ns = lark.ns('mixed');
  const admin = await lark.app(ns, { admin: true });
  const feed = await watchAdminFeed(admin);
  const observer = await lark.app(ns);
  const counts = [];
  const offCount = onValue(observer.ref('presence/alice/connections'), (s) => { counts.push(s.size); });

  const js = await lark.app(ns, { mockUserToken: { sub: 'alice' } });
  const jsKey = fdb.push(js.ref('presence/alice/connections')).key;
  onValue(ref(js.db, '.info/connected'), async (snap) => {
    if (snap.val() !== true) return;
    await onDisconnect(ref(js.db, `presence/alice/connections/${jsKey}`)).remove();
    await onDisconnect(ref(js.db, 'presence/alice/lastSeen')).set(serverTimestamp());
    await set(ref(js.db, `presence/alice/connections/${jsKey}`), 'js');
  });
  const c = await cpp(lark.port, ns, mockToken('alice'));
  await c.cmd('ondisconnect-remove /presence/alice/connections/cpp');
  await c.cmd('ondisconnect-set /presence/alice/lastSeen {".sv":"timestamp"}');
  await c.cmd('set /presence/alice/connections/cpp "cpp"');
  await waitFor(() => counts.at(-1) === 2, 15000, 'two connections');
  // The feed is another connection: its session updates may arrive after the observer saw both writes.
  const alices = () => feed.find((s) => s.namespace === ns && s.identity === 'user:alice' && s.state === 'live');
  await waitFor(() => alices().length >= 2, 15000, 'both sessions in the admin feed');
  assert.equal(alices().length, 2, 'both clients signed in as user:alice');

  await c.quit();
  await waitFor(() => counts.at(-1) === 1, 15000, 'the JS tab left alone');
  const t = Date.now();
  goOffline(js.db);
  await waitFor(() => counts.at(-1) === 0, 15000, 'nobody left');
  const lastSeen = (await get(observer.ref('presence/alice/lastSeen'))).val();
  assert.ok(lastSeen >= t - 50, 'lastSeen from the last close');
  offCount();
});
