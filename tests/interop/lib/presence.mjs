// SPDX-License-Identifier: MIT
// The presence pattern as apps write it, for the network tests.
import { waitFor, record, watchAdminFeed, database as fdb } from './harness.mjs';

const { set, onValue, onDisconnect, serverTimestamp, increment, ref } = fdb;

/**
 * The canonical presence pattern in app `a`: on every `.info/connected` true, register the onDisconnect ops
 * (status offline, and fires += 1 to count how often they ran), then set online once they are confirmed.
 * Returns { connects: number of times the pattern completed, connectedAt }.
 */
export function presencePattern(a, uid) {
  const state = { connects: 0, connectedAt: 0 };
  onValue(ref(a.db, '.info/connected'), async (snap) => {
    if (snap.val() !== true) return;
    state.connectedAt = Date.now();
    const me = ref(a.db, `status/${uid}`);
    await onDisconnect(me).set({ state: 'offline', last_changed: serverTimestamp() });
    await onDisconnect(ref(a.db, `fires/${uid}`)).set(increment(1));
    await set(me, { state: 'online', last_changed: serverTimestamp() });
    state.connects++;
  });
  return state;
}

/** Lets the SDK reconnect at once after a drop: its backoff allows that once a connection lived > 1.3 s. */
export async function settled(state) {
  await waitFor(() => state.connects >= 1 && Date.now() - state.connectedAt > 1500, 15000, 'a settled connection');
}

/**
 * The start of the network tests, on server `lark` and namespace `ns`: app `a` behind a proxy runs the presence
 * pattern for alice, app `b` records her status and fire count, an admin app watches the feed. Resolves once `a`
 * is online and settled and its session, with both ops, is in the feed.
 */
export async function watchedPresence(lark, ns) {
  const feed = await watchAdminFeed(await lark.app(ns, { admin: true }));
  const a = await lark.app(ns, { proxy: true });
  const b = await lark.app(ns);
  const status = record(b.ref('status/alice/state'));
  const fires = record(b.ref('fires/alice'));
  const p = presencePattern(a, 'alice');
  await waitFor(() => status.last() === 'online', 15000, 'online at the observer');
  await settled(p);
  const sid = a.conn().lastSessionId;
  const session = await waitFor(() => feed.find((s) => s.namespace === ns && s.identity === 'anonymous'
    && s.ops?.length === 2)[0], 15000, "a's session with its two ops in the feed");
  return { feed, a, status, fires, p, sid, session };
}
