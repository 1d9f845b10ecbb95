// SPDX-License-Identifier: MIT
//
// Generates hash-vectors.json: the hashes the Firebase JS SDK (@firebase/database 1.1.5, pinned in
// tests/interop/package.json) computes for a set of JSON values, and the windows, orders and view hashes of a set
// of filtering queries. tests/core/tst_hash.cpp checks that lark's Node::hash() gives the same for each value,
// tests/core/tst_query.cpp that lark's Query selects and hashes the same, and tests/interop/hash-vectors.test.mjs
// that the committed file still matches what the pinned SDK computes.
//
// Run (after `npm ci` in tests/interop):
//     node tests/core/data/gen-hash-vectors.mjs                 # writes tests/core/data/hash-vectors.json
//     node tests/core/data/gen-hash-vectors.mjs --stdout        # prints it instead
//     node tests/core/data/gen-hash-vectors.mjs --sdk DIR       # a directory whose node_modules holds the SDK
//
// The SDK does not export its hash function, so each value goes through the public API instead: an offline
// database applies a local set() (which parses the value with the SDK's own nodeFromJSON), and the value event's
// snapshot exposes the SDK's node, whose hash() is exactly what the SDK sends as a listen's `h` or a
// transaction's hash. No server and no network are involved.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const defaultSdkDir = join(here, '..', '..', 'interop');
export const vectorsFile = join(here, 'hash-vectors.json');

// JSON cannot carry -0, so it is produced from this marker (and tst_hash.cpp builds it the same way).
const NEGATIVE_ZERO = Symbol('-0');

// [name, value in export format]. Names are unique; they are the test rows of tst_hash.
export const cases = [
  ['string', 'hello'],
  ['empty string', ''],
  ['string with colon and quotes', 'a:b "c" \\d'],
  ['string with newline and tab', 'line1\nline2\tend'],
  ['latin-1 string', 'héllo wörld'],
  ['cjk string', '日本語のテキスト'],
  ['emoji string (surrogate pair)', 'hi 😀 🦆'],
  ['integer', 1],
  ['zero', 0],
  ['negative zero', NEGATIVE_ZERO],
  ['negative integer', -42],
  ['large integer 2^53', 9007199254740992],
  ['int32 max', 2147483647],
  ['double 0.1', 0.1],
  ['double 1/3', 1 / 3],
  ['double 1e21', 1e21],
  ['double -1.5e-7', -1.5e-7],
  ['double max', Number.MAX_VALUE],
  ['true', true],
  ['false', false],
  ['flat object', { a: 1, b: 'two', c: true }],
  ['nested object', { user: { name: 'Ada', age: 36, tags: { x: true } }, n: 0.5 }],
  ['integer-like keys', { 10: 'ten', 2: 'two', 1: 'one', '-1': 'minus one', a: 'letter', '01': 'zero one' }],
  ['keys beyond int32', { 2147483648: 'big', 2147483647: 'max', '-2147483648': 'min', 5: 'five' }],
  ['unicode keys', { 'ключ': 1, 'clé': 2, '鍵': 3, 'key with spaces': 4 }],
  ['array', ['a', 'b', 'c']],
  ['sparse array', [1, null, 3]],
  ['nested arrays', [[1, 2], [3, [4, 5]]]],
  ['leaf with number priority', { '.value': 'v', '.priority': 1 }],
  ['leaf with string priority', { '.value': 12.5, '.priority': 'p' }],
  ['leaf with zero priority', { '.value': true, '.priority': 0 }],
  ['object with priority', { a: 1, '.priority': 'top' }],
  ['children ordered by priority', {
    a: { '.value': 'a', '.priority': 'z' },
    b: { '.value': 'b', '.priority': 3 },
    c: { '.value': 'c', '.priority': -1.5 },
    d: 'no priority',
    e: { '.value': 'e', '.priority': 'a' },
    f: { x: 1, '.priority': 3 },
    10: { '.value': 'ten', '.priority': 3 },
  }],
  ['nested priorities', { p: { '.priority': 2, q: { '.value': 1, '.priority': 'x' }, r: 2 }, s: 3 }],
  ['nulls dropped', { a: null, b: { c: null }, d: 1 }],
  ['deep nesting', { l1: { l2: { l3: { l4: { l5: { l6: { l7: { l8: 'deep' } } } } } } } }],
  ['push ids', { '-P7E-eezVZA7idPeIFqj': { created: 1795548162235, title: 'hello' }, r1: { title: 'x' } }],
];

// Children for query windows: ages of every type, a nested child, priorities, integer-like keys.
const people = {
  a: { age: 30, name: 'Ann', n: { x: 3 }, '.priority': 2 },
  b: { age: 18, n: { x: 1 }, '.priority': 'z' },
  c: { age: 18, n: { x: 2 } },
  d: { age: 'old', '.priority': 1 },
  e: { name: 'Eve', '.priority': 1 },
  10: { age: 25, '.priority': 'a' },
  2: { age: true },
};
const values = { k1: 'b', k2: 3, k3: true, k5: { x: 1, '.priority': 4 }, k6: 3, k7: false, k8: 'a', 9: 3 };

// [name, data, (sdk) => query constraints]: filtering queries, as the SDK sends them with a tag.
export const queryCases = [
  ['child startAt endAt', people, (d) => [d.orderByChild('age'), d.startAt(18), d.endAt(30)]],
  ['child startAfter', people, (d) => [d.orderByChild('age'), d.startAfter(18)]],
  ['child endBefore', people, (d) => [d.orderByChild('age'), d.endBefore(30)]],
  ['child equalTo', people, (d) => [d.orderByChild('age'), d.equalTo(18)]],
  ['child equalTo with key', people, (d) => [d.orderByChild('age'), d.equalTo(18, 'c')]],
  ['child startAt with key', people, (d) => [d.orderByChild('age'), d.startAt(18, 'c')]],
  ['child startAfter with key', people, (d) => [d.orderByChild('age'), d.startAfter(18, 'b')]],
  ['child endAt with key', people, (d) => [d.orderByChild('age'), d.endAt(18, 'b')]],
  ['child equalTo null', people, (d) => [d.orderByChild('age'), d.equalTo(null)]],
  ['child equalTo bool', people, (d) => [d.orderByChild('age'), d.equalTo(true)]],
  ['child limitToFirst', people, (d) => [d.orderByChild('age'), d.limitToFirst(2)]],
  ['child limitToLast', people, (d) => [d.orderByChild('age'), d.limitToLast(2)]],
  ['child endAt limitToLast', people, (d) => [d.orderByChild('age'), d.endAt(30), d.limitToLast(3)]],
  ['nested child startAt', people, (d) => [d.orderByChild('n/x'), d.startAt(2)]],
  ['nested child limitToFirst', people, (d) => [d.orderByChild('n/x'), d.limitToFirst(3)]],
  ['key startAt endAt', people, (d) => [d.orderByKey(), d.startAt('a'), d.endAt('c')]],
  ['key integer bound', people, (d) => [d.orderByKey(), d.startAt('3')]],
  ['key startAfter', people, (d) => [d.orderByKey(), d.startAfter('b')]],
  ['key endBefore', people, (d) => [d.orderByKey(), d.endBefore('b')]],
  ['key limitToLast', people, (d) => [d.orderByKey(), d.limitToLast(2)]],
  ['value limitToLast', values, (d) => [d.orderByValue(), d.limitToLast(3)]],
  ['value limitToFirst', values, (d) => [d.orderByValue(), d.limitToFirst(4)]],
  ['value startAt endAt', values, (d) => [d.orderByValue(), d.startAt(3), d.endAt('a')]],
  ['value equalTo with key', values, (d) => [d.orderByValue(), d.equalTo(3, 'k6')]],
  ['priority startAt', people, (d) => [d.orderByPriority(), d.startAt(1)]],
  ['priority startAt with key', people, (d) => [d.orderByPriority(), d.startAt(1, 'e')]],
  ['priority string bounds', people, (d) => [d.orderByPriority(), d.startAt('a'), d.endAt('z')]],
  ['priority endAt null', people, (d) => [d.orderByPriority(), d.endAt(null)]],
  ['default limitToFirst', people, (d) => [d.limitToFirst(3)]],
  ['default limitToLast', people, (d) => [d.limitToLast(3)]],
  ['empty window', people, (d) => [d.orderByChild('age'), d.startAt(31), d.endAt(99)]],
];

function toSdkValue(v) {
  return v === NEGATIVE_ZERO ? -0 : v;
}

/**
 * Computes {sdk, vectors: [{name, value, hash}], queries: [{name, value, q, keys, hash}]} with the SDK found in
 * sdkDir/node_modules. For queries, q is the wire object the SDK sends in its listen, keys the children of the
 * SDK's query snapshot in order, and hash the hash of that filtered view (what a tagged listen sends as `h`).
 */
export async function generateHashVectors(sdkDir = defaultSdkDir) {
  const require = createRequire(join(sdkDir, 'package.json'));
  const { initializeApp, deleteApp } = require('@firebase/app');
  const sdk = require('@firebase/database');
  const { getDatabase, goOffline, ref, set, onValue, off, query } = sdk;
  const dbPackage = require('@firebase/database/package.json');

  // The host is never contacted: the database goes offline before its first connection attempt.
  const app = initializeApp({ projectId: 'lark-hash', databaseURL: 'http://127.0.0.1:9?ns=lark-hash' },
    `lark-hash-${process.pid}-${Date.now()}`);
  const db = getDatabase(app);
  goOffline(db);

  const vectors = [];
  const queries = [];
  try {
    for (let i = 0; i < cases.length; ++i) {
      const [name, value] = cases[i];
      const r = ref(db, `v/${i}`);
      set(r, toSdkValue(value)).catch(() => {}); // never acknowledged offline; the local event is enough
      const hash = await new Promise((resolve) => {
        onValue(r, (snap) => resolve(snap._node.hash()));
      });
      off(r);
      const entry = { name, value: value === NEGATIVE_ZERO ? 0 : value, hash };
      if (value === NEGATIVE_ZERO)
        entry.negativeZero = true;
      vectors.push(entry);
    }
    for (let i = 0; i < queryCases.length; ++i) {
      const [name, value, constraints] = queryCases[i];
      const r = ref(db, `q/${i}`);
      set(r, value).catch(() => {});
      const q = query(r, ...constraints(sdk));
      const { keys, hash } = await new Promise((resolve) => {
        onValue(q, (snap) => {
          const keys = [];
          snap.forEach((child) => {
            keys.push(child.key);
          });
          resolve({ keys, hash: snap._node.hash() });
        });
      });
      off(q);
      queries.push({ name, value, q: q._queryObject, keys, hash });
    }
  } finally {
    await deleteApp(app);
  }
  return { sdk: `@firebase/database ${dbPackage.version}`, vectors, queries };
}

/** The committed file's content for a result of generateHashVectors(). */
export function formatVectors(result) {
  return JSON.stringify(result, null, 2) + '\n';
}

export function readCommittedVectors() {
  return JSON.parse(readFileSync(vectorsFile, 'utf8'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const sdkIndex = args.indexOf('--sdk');
  const sdkDir = sdkIndex >= 0 ? args[sdkIndex + 1] : defaultSdkDir;
  const text = formatVectors(await generateHashVectors(sdkDir));
  if (args.includes('--stdout'))
    process.stdout.write(text);
  else
    writeFileSync(vectorsFile, text);
}
