// SPDX-License-Identifier: MIT
// --auth verify as the pinned JS SDK meets it (docs/rules.md, "Authentication"): an HS256 custom token, signed here
// with a secret made for this run, is handed to the SDK as connectDatabaseEmulator's string mockUserToken (sent
// unchanged as `auth`). When the token expires on the live connection the server revokes it (`ac`); the SDK then
// closes and cannot come back with the stale token, and the onDisconnect op it queued while signed in still fires
// under the identity it was authorised with, though the rules refuse anonymous writes there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lark, waitFor, database as fdb } from './lib/harness.mjs';

const { set, get, onValue, onDisconnect } = fdb;

const NS = 'authverify';
const dir = mkdtempSync(path.join(tmpdir(), 'lark-authverify-'));
const secret = randomBytes(32).toString('hex');
// lark-server's default clock skew (TokenVerifier::DefaultSkewSeconds): a token lapses skew seconds after its exp.
const SKEW_S = 60;

const b64url = (s) => Buffer.from(s).toString('base64url');
/** A custom token for uid, HS256 over the run's secret, with exp = nowS + expInS. */
function hs256(uid, expInS, key = secret) {
  const nowS = Math.floor(Date.now() / 1000);
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({
    sub: uid, iat: nowS - SKEW_S + 1, exp: nowS + expInS,
  }))}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

let lark;
before(async () => {
  writeFileSync(path.join(dir, 'secret'), `${secret}\n`);
  writeFileSync(path.join(dir, 'rules.json'), JSON.stringify({
    rules: { presence: { '.read': true, $uid: { '.write': 'auth != null && auth.uid === $uid' } } },
  }));
  lark = await Lark.start(['--auth', 'verify', '--jwt-secret', path.join(dir, 'secret'),
    '--rules', path.join(dir, 'rules.json'), '--rules-ns', NS,
    '--ping-interval', '100ms', '--dead-after', '600ms', '--grace', '1s']);
});
after(async () => {
  await lark?.close();
  rmSync(dir, { recursive: true, force: true });
});

const denied = (e) => e?.code === 'PERMISSION_DENIED' || /permission[_ ]denied/i.test(String(e?.message));

test('a token signed with another secret, or alg none, is refused with a reason; its writes act as anonymous', async () => {
  const watcher = await lark.app(NS);
  const forged = await lark.app(NS, { mockUserToken: hs256('mallory', 3600, 'not-the-secret') });
  const unsigned = await lark.app(NS, { mockUserToken: { sub: 'eve' } }); // the SDK's own mock token: alg none
  // The SDK sends the put right after the auth; the server refuses the auth, then the put as anonymous. (The SDK
  // closes on the refusal and sends both again after each reconnect, so the set() itself does not settle.)
  set(forged.ref('presence/mallory/online'), true).catch(() => {});
  set(unsigned.ref('presence/eve/online'), true).catch(() => {});
  const log = () => lark.server.log();
  await waitFor(() => /refused auth from .*: invalid_token .*signature/i.test(log()), 15000, 'the forged token refused');
  await waitFor(() => /refused auth from .*: invalid_token .*alg/i.test(log()), 15000, 'alg none refused');
  await waitFor(() => /denied S\d+ \(anonymous\) set \/presence\/mallory\/online/.test(log())
    && /denied S\d+ \(anonymous\) set \/presence\/eve\/online/.test(log()), 15000, 'both puts refused as anonymous');
  assert.equal((await get(watcher.ref('presence'))).val(), null);
});

test('an op queued under a token that then expires survives the revocation and fires as its user', async () => {
  const watcher = await lark.app(NS);
  const seen = [];
  onValue(watcher.ref('presence/alice/online'), (s) => seen.push(s.val()));

  // Valid now (its exp is in the past, but within the 60 s skew), lapsing 8 s from now: time enough to queue the op
  // on a loaded machine.
  const token = hs256('alice', 8 - SKEW_S);
  const lapsesAt = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).exp + SKEW_S) * 1000;
  const alice = await lark.app(NS, { mockUserToken: token });
  await set(alice.ref('presence/alice/online'), true);
  await onDisconnect(alice.ref('presence/alice/online')).set(false);
  await waitFor(() => seen.at(-1) === true, 15000, 'alice online');
  assert.ok(Date.now() < lapsesAt, 'the op was queued while the token was valid');
  await assert.rejects(set(watcher.ref('presence/alice/online'), false), denied, 'only alice may write there');

  // The server revokes the token on the live connection; the SDK closes (a clean close) and the op fires, checked
  // against alice's identity from when it was queued, not the anonymous one the connection fell back to.
  await waitFor(() => seen.at(-1) === false, 30000, 'the op to fire after the token lapsed');
  assert.ok(Date.now() >= lapsesAt, 'the op fired on the expiry, not before');
  assert.match(lark.server.log(), /token expired; acting as anonymous/);
  assert.equal((await get(watcher.ref('presence/alice/online'))).val(), false);
});
