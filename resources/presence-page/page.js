// SPDX-License-Identifier: MIT
// The presence page lark-server serves at /?uid=NAME&ns=NAMESPACE: a real browser tab on the pinned Firebase JS SDK,
// doing presence the way the dashboard's tabs do (core/client/presence.cpp, core/tabs/tab.cpp):
//   .info/connected → onDisconnect remove of presence/<uid>/connections/<push id> and onDisconnect set of
//   presence/<uid>/lastSeen to the server time → once the server confirmed both, write the entry;
// plus the naive flag status/<uid>/online, which whichever tab wrote last decides.
import { session } from './session-hook.js';
import { initializeApp } from '@firebase/app';
import {
  connectDatabaseEmulator,
  forceWebSockets,
  getDatabase,
  onDisconnect,
  onValue,
  push,
  ref,
  serverTimestamp,
  set,
} from '@firebase/database';

const config = globalThis.LARK_PAGE || {};
const params = new URLSearchParams(location.search);
const uid = params.get('uid') || 'guest';
const ns = params.get('ns') || config.defaultNamespace || 'lark';
const host = location.hostname;
const port = Number(location.port || 80);

const view = {
  user: document.getElementById('user'),
  namespace: document.getElementById('namespace'),
  connected: document.getElementById('connected'),
  resumed: document.getElementById('resumed'),
  session: document.getElementById('session'),
  key: document.getElementById('key'),
  tabs: document.getElementById('tabs'),
  error: document.getElementById('error'),
};

const state = { connected: false, online: false, key: '', tabs: 0, error: '' };

function render() {
  view.user.textContent = uid;
  view.namespace.textContent = ns;
  view.connected.textContent = state.connected ? (state.online ? 'connected · online' : 'connected · registering') : 'offline';
  view.connected.dataset.state = state.connected ? (state.online ? 'online' : 'registering') : 'offline';
  view.resumed.textContent = session.id === '' ? '–' : session.resumed ? 'yes: the server kept this session' : 'no: a new session';
  view.resumed.dataset.resumed = String(session.resumed);
  view.session.textContent = session.id === '' ? '–' : session.id.slice(0, 6) + '…';
  view.key.textContent = state.key || '–';
  view.tabs.textContent = String(state.tabs);
  view.tabs.dataset.count = String(state.tabs);
  view.error.textContent = state.error;
  document.title = `${uid} · ${state.connected ? 'online' : 'offline'} · Lark presence`;
}
session.listeners.push(render);

function fail(what) {
  return (error) => {
    state.error = `${what}: ${error && error.message ? error.message : error}`;
    render();
  };
}

forceWebSockets(); // Lark speaks the WebSocket protocol only
const app = initializeApp({ projectId: 'lark', databaseURL: `http://${host}:${port}?ns=${encodeURIComponent(ns)}` });
const db = getDatabase(app);
// The emulator's unsigned token: the rules see auth.uid === uid (lark-server --auth emulator, the default).
connectDatabaseEmulator(db, host, port, { mockUserToken: { sub: uid, user_id: uid } });

let generation = 0;
onValue(ref(db, '.info/connected'), async (snapshot) => {
  const mine = ++generation;
  state.connected = snapshot.val() === true;
  state.online = false;
  render();
  if (!state.connected) return;
  // A resumed session keeps its key: its queued remove is still the one for this entry.
  if (!state.key || !session.resumed) state.key = push(ref(db, `presence/${uid}/connections`)).key;
  const entry = ref(db, `presence/${uid}/connections/${state.key}`);
  try {
    await Promise.all([onDisconnect(entry).remove(), onDisconnect(ref(db, `presence/${uid}/lastSeen`)).set(serverTimestamp())]);
    if (mine !== generation) return;
    await set(entry, true); // only now: both ops are queued on the server
    if (mine !== generation) return;
    state.online = true;
    state.error = '';
    render();
    const flag = ref(db, `status/${uid}/online`);
    await onDisconnect(flag).set(false);
    await set(flag, true);
  } catch (error) {
    fail('presence')(error);
  }
});
onValue(
  ref(db, `presence/${uid}/connections`),
  (snapshot) => {
    state.tabs = snapshot.size;
    render();
  },
  fail('reading the tab count'),
);
render();
