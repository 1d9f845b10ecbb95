// SPDX-License-Identifier: MIT
// Watches the SDK's WebSocket for the server's hello, to tell a resumed session from a new one: the SDK asks to
// resume with ?ls=<last session id>, and the hello's session id is that one only when the server resumed it. The
// SDK takes the WebSocket class when its module loads, so this module is imported before it.
export const session = { id: '', resumed: false, listeners: [] };

const NativeWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends NativeWebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    const asked = new URL(url, location.href).searchParams.get('ls') || '';
    this.addEventListener('message', (event) => {
      if (typeof event.data !== 'string' || !event.data.includes('"h"')) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // a frame of a longer message: never a hello
      }
      if (message.t !== 'c' || !message.d || message.d.t !== 'h') return;
      session.id = String(message.d.d.s || '');
      session.resumed = asked !== '' && asked === session.id;
      for (const listener of session.listeners) listener();
    });
  }
};
