// SPDX-License-Identifier: MIT
// Starts firebase-server 1.1.0 (the peer lark-bench compares against) on 127.0.0.1 and prints the same
// "listening on ws://..." line lark-server prints. Usage: node server.js [port]  (0 or none: a free port)
'use strict';
const FirebaseServer = require('firebase-server');

const port = Number(process.argv[2] || 0);
const server = new FirebaseServer({ port, address: '127.0.0.1' }, '127.0.0.1');
server.wss.on('listening', () => {
  process.stdout.write(`firebase-server: listening on ws://127.0.0.1:${server.getPort()}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
