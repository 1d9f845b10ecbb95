// SPDX-License-Identifier: MIT
// Interop harness: a lark-server child process, Firebase JS SDK apps pointed at it (directly or through a
// loopback TCP proxy that can blip or silently drop a link), and a few waiting helpers.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';

// The Node SDK honours HTTP(S)_PROXY and has no NO_PROXY: loopback traffic must never go through a proxy.
for (const v of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy']) delete process.env[v];

const { initializeApp, deleteApp, SDK_VERSION } = await import('@firebase/app');
const database = await import('@firebase/database');
const { getDatabase, connectDatabaseEmulator, ref, onValue, _repoManagerDatabaseFromApp } = database;
export { database };

export const LOOPBACK = '127.0.0.1';

/** Resolves once fn() returns a truthy value (which it returns); rejects after timeoutMs with `what`. */
export async function waitFor(fn, timeoutMs = 15000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  const late = Symbol('late');
  for (;;) {
    let timer;
    try {
      // An async condition that never settles (a get() with no answer) must not outlive the timeout.
      const remaining = Math.max(1, deadline - Date.now());
      const v = await Promise.race([fn(), new Promise((r) => { timer = setTimeout(() => r(late), remaining); })]);
      if (v === late) lastError = new Error('the condition itself did not settle');
      else if (v) return v;
    } catch (e) {
      lastError = e;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (lastError ? ` (last error: ${lastError.message})` : ''));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Only for letting time pass before a *negative* check ("nothing happened by then"), never as a wait. */
export function elapse(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

let uniqueCounter = 0;
/** A namespace (or app name) no other test uses: keys are [a-z0-9-]. */
export function unique(prefix = 'it') {
  return `${prefix}-${process.pid}-${++uniqueCounter}-${randomBytes(3).toString('hex')}`;
}

/**
 * Starts `lark-server --port 0 <args>` and learns its port from the line it prints.
 * Returns { port, defaultNs, process, log(): stderr so far, stdout(): stdout so far, stop() }.
 */
export async function startServer(args = []) {
  const bin = process.env.LARK_SERVER;
  if (!bin) throw new Error('LARK_SERVER is not set (run through ctest, or export the path to lark-server)');
  const env = { ...process.env, QT_LOGGING_RULES: process.env.QT_LOGGING_RULES ?? 'lark.*.debug=false' };
  for (const v of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy']) delete env[v];
  const child = spawn(bin, ['--host', LOOPBACK, '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.setEncoding('utf8');
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /lark-server: listening on ws:\/\/([0-9.]+):(\d+) \(default namespace ([^)]*)\)/.exec(stdout);
      if (m) resolve({ host: m[1], port: Number(m[2]), defaultNs: m[3] });
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`lark-server exited (${code ?? signal}) before listening:\n${stdout}${stderr}`)));
    child.once('error', reject);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  let info;
  try {
    info = await listening;
  } finally {
    clearTimeout(timer);
  }
  let exited = null;
  child.once('exit', (code, signal) => { exited = { code, signal }; });
  return {
    ...info,
    process: child,
    log: () => stderr,
    stdout: () => stdout,
    get exited() { return exited; },
    async stop() {
      if (exited) return exited;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(kill);
      return exited;
    },
  };
}

/**
 * A loopback TCP proxy in front of the server, one per app. Modes:
 *  - 'pass': bytes flow both ways.
 *  - 'reset': every open link is reset (RST on both sides) and new connections are reset on arrival.
 *  - 'blackhole': links stay open but no byte is forwarded either way (a silent drop); new connections hang.
 * Going from 'blackhole' back to 'pass' resets the dead links, so the SDK notices and reconnects.
 * blip() resets the open links once and stays in 'pass'; dropClientSide() leaves half-open links behind.
 * `upgrades` records the path of every WebSocket upgrade request.
 */
export class LinkProxy {
  static async start(targetPort) {
    const p = new LinkProxy(targetPort);
    p.server.listen(0, LOOPBACK);
    await once(p.server, 'listening');
    p.port = p.server.address().port;
    return p;
  }

  constructor(targetPort) {
    this.targetPort = targetPort;
    this.mode = 'pass';
    this.links = new Set();
    this.upgrades = []; // request paths, e.g. "/.ws?v=5&ls=...&ns=..."
    this.accepted = 0;
    this.server = net.createServer((client) => this.#accept(client));
  }

  #accept(client) {
    this.accepted++;
    client.setNoDelay(true);
    if (this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ port: this.targetPort, host: LOOPBACK });
    upstream.setNoDelay(true);
    const link = { client, upstream, head: '', dead: false };
    this.links.add(link);
    if (this.mode === 'blackhole') link.dead = true;
    const forward = (from, to, isClient) => {
      from.on('data', (chunk) => {
        if (isClient && link.head !== null) {
          link.head += chunk.toString('latin1');
          const m = /^GET (\S+) HTTP/.exec(link.head);
          if (m) {
            this.upgrades.push(m[1]);
            link.head = null;
          } else if (link.head.length > 8192) {
            link.head = null;
          }
        }
        if (!link.dead && !to.destroyed) to.write(chunk);
      });
      from.on('end', () => { if (!link.dead && !to.destroyed) to.end(); });
      from.on('close', () => {
        if (!link.dead && !to.destroyed) to.destroy();
        // A blackholed link stays listed while either side is open, so going back to 'pass' can reset it.
        if (from.destroyed && to.destroyed) this.links.delete(link);
      });
      from.on('error', () => {});
    };
    forward(client, upstream, true);
    forward(upstream, client, false);
  }

  static #reset(link) {
    link.dead = true;
    for (const s of [link.client, link.upstream]) {
      if (s.destroyed) continue;
      // resetAndDestroy() needs a connected socket; fall back to destroy() while still connecting.
      if (s.pending || s.connecting) s.destroy();
      else s.resetAndDestroy();
    }
  }

  /** Resets every open link now (both sides see an RST) and keeps forwarding new connections. */
  blip() {
    for (const link of [...this.links]) LinkProxy.#reset(link);
    this.links.clear();
  }

  /**
   * A half-open link: resets the client side of every open link but leaves the server side open and silent,
   * as when a NAT or laptop drops a connection without telling the server.
   */
  dropClientSide() {
    for (const link of this.links) {
      link.dead = true;
      const c = link.client;
      if (!c.destroyed) c.resetAndDestroy();
    }
  }

  setMode(mode) {
    if (!['pass', 'reset', 'blackhole'].includes(mode)) throw new Error(`unknown proxy mode ${mode}`);
    const was = this.mode;
    this.mode = mode;
    if (mode === 'reset' || (mode === 'pass' && was === 'blackhole')) this.blip();
    else if (mode === 'blackhole') for (const link of this.links) link.dead = true;
  }

  get openLinks() {
    return this.links.size;
  }

  async close() {
    for (const link of [...this.links]) LinkProxy.#reset(link);
    this.links.clear();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * A test context: one server plus the apps and proxies opened on it, all torn down by close().
 * Typical use:  const ctx = await Lark.start(['--grace', '1s']);  after(() => ctx.close());
 */
export class Lark {
  static async start(args = []) {
    const ctx = new Lark();
    ctx.server = await startServer(args);
    return ctx;
  }

  constructor() {
    this.apps = [];
    this.proxies = [];
  }

  get port() {
    return this.server.port;
  }

  /** A new namespace, unique to this test. */
  ns(prefix = 'ns') {
    return unique(prefix);
  }

  /**
   * A fresh Firebase app and its Database on namespace `ns`, via connectDatabaseEmulator.
   * Options: proxy: true (a LinkProxy of its own, returned as .proxy) or a LinkProxy; mockUserToken;
   * admin: true (the Admin SDK's path: emulator credential "owner", sent as gauth); projectId: use
   * initializeApp({projectId}) with no databaseURL, so the SDK picks the namespace (ns is then ignored);
   * emulator: false (only a databaseURL, no connectDatabaseEmulator: the SDK then trusts the hello's `h`).
   * Returns { app, db, proxy, ref(path), conn() (the SDK's PersistentConnection), delete() }.
   */
  async app(ns, { proxy = false, mockUserToken, admin = false, projectId, emulator = true } = {}) {
    let via = null;
    if (proxy) {
      via = proxy instanceof LinkProxy ? proxy : await LinkProxy.start(this.port);
      if (!(proxy instanceof LinkProxy)) this.proxies.push(via);
    }
    const port = via ? via.port : this.port;
    const name = unique('app');
    const app = initializeApp({ projectId: projectId ?? 'demo-lark', appId: '1:1:web:1' }, name);
    let db;
    if (projectId) {
      db = getDatabase(app);
      connectDatabaseEmulator(db, LOOPBACK, port, mockUserToken ? { mockUserToken } : {});
    } else if (admin) {
      // What firebase-admin does: a nodeAdmin repo on an insecure URL gets the emulator token "owner".
      db = _repoManagerDatabaseFromApp(app, undefined, undefined, `http://${LOOPBACK}:${port}?ns=${ns}`, true);
    } else {
      db = getDatabase(app, `http://${LOOPBACK}:${port}?ns=${ns}`);
      if (emulator) connectDatabaseEmulator(db, LOOPBACK, port, mockUserToken ? { mockUserToken } : {});
    }
    let deleted = false;
    const handle = {
      app,
      db,
      ns,
      proxy: via,
      name,
      ref: (path) => ref(db, path),
      conn: () => db._repo.persistentConnection_,
      async delete() {
        if (deleted) return;
        deleted = true;
        if (admin) {
          database.goOffline(db);
          await db._delete();
        }
        await deleteApp(app);
      },
    };
    this.apps.push(handle);
    return handle;
  }

  async close() {
    for (const a of this.apps) {
      try {
        await a.delete();
      } catch {
        // already gone
      }
    }
    for (const p of this.proxies) await p.close();
    if (this.server) {
      const exit = await this.server.stop();
      if (process.env.LARK_INTEROP_SERVER_LOG) {
        const { appendFileSync } = await import('node:fs');
        appendFileSync(process.env.LARK_INTEROP_SERVER_LOG, this.server.log());
      }
      if (exit && exit.code !== 0 && exit.signal !== 'SIGTERM') {
        throw new Error(`lark-server exited with ${JSON.stringify(exit)}:\n${this.server.log()}`);
      }
    }
  }
}

/** Records every value onValue reports at `r` (snapshot.val()). Returns { values, last(), off() }. */
export function record(r) {
  const values = [];
  let seen = false;
  const off = onValue(r, (snap) => {
    seen = true;
    values.push(snap.val());
  });
  return {
    values,
    get primed() { return seen; },
    last: () => values[values.length - 1],
    off,
  };
}

/** Resolves when `.info/connected` of db is `want`. */
export function waitConnected(db, want = true, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`.info/connected did not become ${want} within ${timeoutMs} ms`));
    }, timeoutMs);
    off = onValue(ref(db, '.info/connected'), (snap) => {
      if (snap.val() === want) {
        clearTimeout(timer);
        queueMicrotask(() => off());
        resolve();
      }
    });
  });
}

/**
 * The Lark admin feed (docs/protocol-extensions.md) over an admin app's own SDK connection: sends
 * `lark.watch` with the SDK's sendRequest and catches the `lark.session*` pushes before the SDK would log
 * them as unrecognised. Returns { sessions: Map handle → SESSION, events: [{action, body}], find(pred) }.
 */
export async function watchAdminFeed(adminApp, timeoutMs = 15000) {
  await waitConnected(adminApp.db, true, timeoutMs);
  const conn = adminApp.conn();
  const feed = { sessions: new Map(), events: [] };
  const original = conn.onDataPush_.bind(conn);
  conn.onDataPush_ = (action, body) => {
    if (typeof action === 'string' && action.startsWith('lark.')) {
      feed.events.push({ action, body });
      feed.sessions.set(body.handle, body);
      return;
    }
    original(action, body);
  };
  // The gauth goes out before anything else after the hello; lark.watch is answered in order after it.
  const reply = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply to lark.watch')), timeoutMs);
    conn.sendRequest('lark.watch', {}, (b) => {
      clearTimeout(timer);
      resolve(b);
    });
  });
  if (reply.s !== 'ok') throw new Error(`lark.watch refused: ${reply.s}: ${JSON.stringify(reply.d)}`);
  for (const s of reply.d.sessions) feed.sessions.set(s.handle, s);
  feed.reply = reply;
  feed.find = (pred) => [...feed.sessions.values()].filter(pred);
  return feed;
}

export { SDK_VERSION };
