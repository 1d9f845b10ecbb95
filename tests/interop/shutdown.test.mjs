// SPDX-License-Identifier: MIT
// SIGTERM with SDK apps connected: every client gets a WebSocket close frame (1001 going away), the SDK
// notices at once, and the server exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lark, waitConnected, database as fdb } from './lib/harness.mjs';

/** Server → client WebSocket frames (unmasked) in `bytes`: [{opcode, payload}]. */
function frames(bytes) {
  const out = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i] & 0x0f;
    let len = bytes[i + 1] & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (off + 2 > bytes.length) break;
      len = bytes.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > bytes.length) break;
      len = Number(bytes.readBigUInt64BE(off));
      off += 8;
    }
    if (off + len > bytes.length) break;
    out.push({ opcode, payload: bytes.subarray(off, off + len) });
    i = off + len;
  }
  return out;
}

test('SIGTERM: the SDK gets a 1001 close frame and notices at once; the server exits 0', async () => {
  const lark = await Lark.start();
  try {
    const ns = lark.ns('shutdown');
    const a = await lark.app(ns, { proxy: true });
    await fdb.set(a.ref('x'), 1);
    await waitConnected(a.db, true);
    const link = [...a.proxy.links][0];
    // Everything the server sends from here on; the HTTP upgrade answer is long past.
    let fromServer = Buffer.alloc(0);
    link.upstream.on('data', (chunk) => { fromServer = Buffer.concat([fromServer, chunk]); });

    const t0 = Date.now();
    const exit = await lark.server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'a clean exit on SIGTERM');
    await waitConnected(a.db, false);
    assert.ok(Date.now() - t0 < 5000);
    const close = frames(fromServer).find((f) => f.opcode === 0x8);
    assert.ok(close, 'a close frame before the socket went away');
    assert.equal(close.payload.readUInt16BE(0), 1001, 'close code 1001 (going away)');
  } finally {
    await lark.close();
  }
});
