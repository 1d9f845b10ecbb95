// SPDX-License-Identifier: MIT
// lark-server --data restarted (SIGTERM, same port, same file) under a connected SDK app (docs/semantics.md §6):
// the SDK reconnects by itself with `ls`, resumes its session, its onDisconnect ops do not fire on the restart,
// and they fire once when it later goes offline. A second app that cannot come back fires after the grace.
// (The SDK applies its own ops to its local cache on disconnect, so only another app proves what the server did.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lark, startServer, waitFor, record, waitConnected, database as fdb } from './lib/harness.mjs';

const { set, onDisconnect, goOffline, serverTimestamp } = fdb;

test('restart with --data: the SDK resumes its session; its ops fire once, when it goes offline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lark-interop-data-'));
  const args = ['--data', join(dir, 'data.lark'), '--ping-interval', '200ms', '--dead-after', '1s', '--grace', '2s'];
  const lark = await Lark.start(args);
  try {
    const ns = lark.ns('persist');
    const a = await lark.app(ns, { proxy: true }); // stays: reconnects through its proxy
    const gone = await lark.app(ns, { proxy: true }); // cannot reconnect after the restart
    const watcher = await lark.app(ns);
    await set(a.ref('presence/a'), true);
    await onDisconnect(a.ref('presence/a')).set(false);
    await onDisconnect(a.ref('lastSeen/a')).set(serverTimestamp());
    await set(gone.ref('presence/gone'), true);
    await onDisconnect(gone.ref('presence/gone')).set(false);
    const presenceA = record(watcher.ref('presence/a'));
    const presenceGone = record(watcher.ref('presence/gone'));
    const lastSeenA = record(watcher.ref('lastSeen/a'));
    await waitFor(() => presenceA.last() === true && presenceGone.last() === true, 15000, 'both present');
    const sessionA = a.conn().lastSessionId;
    assert.ok(sessionA, 'the SDK kept the session id from the hello');

    // `gone` loses its network for good; then the server restarts on the same port and file.
    gone.proxy.setMode('reset');
    const upgradesBefore = a.proxy.upgrades.length;
    const port = lark.port;
    const exit = await lark.server.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    lark.server = await startServer(['--port', String(port), ...args]);
    assert.equal(lark.port, port);

    // The SDK reconnects on its own, asking for its session with ls, and gets it back.
    await waitFor(() => a.proxy.upgrades.length > upgradesBefore, 30000, 'the SDK to reconnect');
    assert.match(a.proxy.upgrades[upgradesBefore], new RegExp(`[?&]ls=${sessionA}(&|$)`));
    await waitConnected(a.db, true, 30000);
    assert.equal(a.conn().lastSessionId, sessionA, 'the hello carried the same session id: resumed');

    // `gone` fires once its fresh grace ends; by then a's ops would have fired too, had the restart lost it.
    await waitFor(() => presenceGone.last() === false, 15000, 'the ops of the app that did not come back');
    assert.equal(presenceA.last(), true, "the restart did not fire the resumed app's ops");
    assert.equal(lastSeenA.last(), null);

    // Going offline for real fires them, once.
    const before = Date.now();
    goOffline(a.db);
    await waitFor(() => presenceA.last() === false && typeof lastSeenA.last() === 'number', 15000, "a's ops");
    assert.ok(lastSeenA.last() >= before - 1000, 'serverTimestamp resolved when they fired');
    await set(watcher.ref('barrier'), 1); // a write after the fire: anything pending has been pushed by now
    assert.deepEqual(presenceA.values.filter((v) => v === false), [false], 'fired exactly once');
    assert.deepEqual(presenceGone.values.filter((v) => v === false), [false], 'fired exactly once');
  } finally {
    await lark.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
