// SPDX-License-Identifier: MIT
// The presence pattern as apps write it, for the network tests.
import { waitFor, database as fdb } from './harness.mjs';

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
