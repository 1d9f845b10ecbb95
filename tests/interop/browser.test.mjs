// SPDX-License-Identifier: MIT
// The presence page lark-server serves at / (docs/rest.md §7) in a real browser: Debian's chromium driven by
// playwright-core. Two tabs of one user are two sessions (as the admin feed, and so the dashboard, lists them) with
// their own entries; closing a tab fires its ops at
// once (a clean close, long before dead-after or the grace); closing the browser fires every op, lastSeen included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { Lark, LinkProxy, waitFor, watchAdminFeed } from './lib/harness.mjs';

const CHROMIUM = process.env.LARK_CHROMIUM || '/usr/bin/chromium';

let lark;
let browser;
before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: ./test.sh installs Debian's chromium`);
  // Timers far longer than the test: whatever fires does so because the tab closed, not because it went quiet.
  lark = await Lark.start(['--dead-after', '120s', '--grace', '120s']);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close().catch(() => {});
  await lark?.close();
});

async function rest(path, ns) {
  const res = await fetch(`http://127.0.0.1:${lark.port}/${path}.json?ns=${ns}`, {
    headers: { Authorization: 'Bearer owner' },
  });
  return res.json();
}

async function openTab(context, query, port = lark.port) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/?${query}`);
  await page.waitForSelector('#connected[data-state="online"]', { timeout: 15000 });
  assert.deepEqual(errors, []);
  return page;
}

const text = (page, id) => page.textContent(`#${id}`);

test('two tabs are two connections; closing one fires its ops at once; closing the browser fires the rest', async () => {
  const ns = lark.ns('page');
  // What the dashboard sees: the admin feed's sessions.
  const feed = await watchAdminFeed(await lark.app(ns, { admin: true }));
  const liveSessions = () =>
    feed.find((s) => s.identity === 'user:alice' && s.namespace === ns && s.state !== 'ended').length;
  const context = await browser.newContext();
  const first = await openTab(context, `uid=alice&ns=${ns}`);
  const second = await openTab(context, `uid=alice&ns=${ns}`);
  assert.equal(await text(first, 'user'), 'alice');
  assert.equal(await text(first, 'namespace'), ns);
  // Each tab counts both, live.
  await first.waitForSelector('#tabs[data-count="2"]', { timeout: 15000 });
  await second.waitForSelector('#tabs[data-count="2"]', { timeout: 15000 });
  const keys = [await text(first, 'key'), await text(second, 'key')];
  assert.notEqual(keys[0], keys[1]);
  assert.match(keys[0], /^[-0-9A-Za-z_]{20}$/);
  assert.equal(await first.getAttribute('#resumed', 'data-resumed'), 'false'); // a first connection is a new session
  assert.deepEqual(Object.keys((await rest('presence/alice/connections', ns)) ?? {}).sort(), [...keys].sort());
  assert.equal((await rest('status/alice/online', ns)), true);
  await waitFor(() => liveSessions() === 2, 10000, 'two sessions of alice on the admin feed');

  await second.close();
  // At once: dead-after and the grace are two minutes.
  await waitFor(async () => {
    const left = await rest('presence/alice/connections', ns);
    return left && Object.keys(left).length === 1 && left[keys[0]] === true;
  }, 10000, "the closed tab's entry to go");
  await first.waitForSelector('#tabs[data-count="1"]', { timeout: 10000 });
  await waitFor(() => liveSessions() === 1, 10000, 'the closed tab\'s session to end');
  const seenBefore = await rest('presence/alice/lastSeen', ns);
  assert.equal(typeof seenBefore, 'number'); // its lastSeen op fired too

  await context.close();
  await waitFor(async () => (await rest('presence/alice/connections', ns)) === null, 10000, 'every entry to go');
  await waitFor(() => liveSessions() === 0, 10000, 'every session of alice to end');
  const seen = await rest('presence/alice/lastSeen', ns);
  assert.ok(seen >= seenBefore);
  assert.equal(await rest('status/alice/online', ns), false);
});

test('without ns the page uses the default namespace, and the server prints the page address', async () => {
  const context = await browser.newContext();
  const page = await openTab(context, 'uid=bob');
  assert.equal(await text(page, 'namespace'), lark.server.defaultNs);
  await waitFor(async () => {
    const entries = await rest('presence/bob/connections', lark.server.defaultNs);
    return entries && Object.keys(entries).length === 1;
  }, 10000, "bob's entry in the default namespace");
  await context.close();
  assert.match(lark.server.stdout(), new RegExp(`presence page http://127\\.0\\.0\\.1:${lark.port}/\\?uid=alice`));
});

test('a blip resumes the session: the page says so and keeps its connection key', async () => {
  const ns = lark.ns('blip');
  // The page and its WebSocket both go through a loopback proxy that can cut the link.
  const proxy = await LinkProxy.start(lark.port);
  const context = await browser.newContext();
  try {
    const page = await openTab(context, `uid=carol&ns=${ns}`, proxy.port);
    const key = await text(page, 'key');
    const session = await text(page, 'session');
    proxy.blip();
    await page.waitForSelector('#resumed[data-resumed="true"]', { timeout: 15000 });
    await page.waitForSelector('#connected[data-state="online"]', { timeout: 15000 });
    assert.equal(await text(page, 'key'), key);
    assert.equal(await text(page, 'session'), session);
    // One entry still: the resumed session's queued remove is the one for it; nothing fired.
    assert.deepEqual(Object.keys((await rest('presence/carol/connections', ns)) ?? {}), [key]);
    assert.equal(await rest('presence/carol/lastSeen', ns), null);
  } finally {
    await context.close();
    await proxy.close();
  }
});
