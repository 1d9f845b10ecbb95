#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the committed seed corpora (tests/fuzz/corpus/<target>/seed-*): real SDK messages, handshakes and frames.
# Run from anywhere; it rewrites only the seed-* files, so minimised findings (regression-*) stay.
import json
import os
import struct

top = os.path.dirname(os.path.abspath(__file__))
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def write(target, name, data):
    d = os.path.join(top, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clean(target):
    d = os.path.join(top, target)
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.remove(os.path.join(d, f))


def frame(first, payload=b"", masked=True, length=None, force64=False):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    m = 0x80 if masked else 0
    h = bytes([first])
    if force64:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    elif n < 126:
        h += bytes([m | n])
    elif n <= 0xFFFF:
        h += bytes([m | 126]) + struct.pack(">H", n)
    else:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    if not masked:
        return h + payload
    return h + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def handshake(target=b"/.ws?v=5&ns=demo", extra=b"", host=b"Host: 127.0.0.1:9000\r\n"):
    return (b"GET " + target + b" HTTP/1.1\r\n" + host + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")


def msg(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


# What the Firebase JS SDK sends (docs/wire-protocol.md §3-§9), as one message each.
SDK = {
    "ping": {"t": "c", "d": {"t": "p", "d": {}}},
    "stats": {"t": "d", "d": {"r": 1, "a": "s", "b": {"c": {"sdk.js.10-7-1": 1}}}},
    "listen": {"t": "d", "d": {"r": 2, "a": "q", "b": {"p": "/users", "h": ""}}},
    "listen-query": {"t": "d", "d": {"r": 3, "a": "q", "b": {"p": "/scores", "q": {"sp": 100, "sin": True, "l": 10, "vf": "r", "i": "score"}, "t": 1, "h": ""}}},
    "listen-key": {"t": "d", "d": {"r": 4, "a": "q", "b": {"p": "/rooms", "q": {"i": ".key", "sp": "a", "sn": "[MIN_NAME]", "ep": "m", "en": "[MAX_NAME]", "l": 5, "vf": "l"}, "t": 2, "h": ""}}},
    "listen-value": {"t": "d", "d": {"r": 5, "a": "q", "b": {"p": "/v", "q": {"i": ".value", "ep": "z", "ein": False}, "t": 3, "h": ""}}},
    "unlisten": {"t": "d", "d": {"r": 6, "a": "n", "b": {"p": "/users", "q": {}}}},
    "set": {"t": "d", "d": {"r": 7, "a": "p", "b": {"p": "/users/alice", "d": {"name": "Alice", "age": 30, "tags": ["a", "b"]}}}},
    "set-priority": {"t": "d", "d": {"r": 8, "a": "p", "b": {"p": "/users/alice/.priority", "d": 5}}},
    "set-hash": {"t": "d", "d": {"r": 9, "a": "p", "b": {"p": "/counter", "d": 2, "h": "abc="}}},
    "update": {"t": "d", "d": {"r": 10, "a": "m", "b": {"p": "/", "d": {"users/bob/name": "Bob", "counts/x": {".sv": {"increment": 1}}, "t": {".sv": "timestamp"}}}}},
    "update-overlap": {"t": "d", "d": {"r": 11, "a": "m", "b": {"p": "/a", "d": {"b": 1, "b/c": 2}}}},
    "ondisconnect-set": {"t": "d", "d": {"r": 12, "a": "o", "b": {"p": "/status/alice", "d": "offline"}}},
    "ondisconnect-update": {"t": "d", "d": {"r": 13, "a": "om", "b": {"p": "/status", "d": {"alice/state": "offline", "alice/at": {".sv": "timestamp"}}}}},
    "ondisconnect-cancel": {"t": "d", "d": {"r": 14, "a": "oc", "b": {"p": "/status/alice"}}},
    "get": {"t": "d", "d": {"r": 15, "a": "g", "b": {"p": "/users", "q": {}}}},
    "auth": {"t": "d", "d": {"r": 16, "a": "auth", "b": {"cred": "eyJhbGciOiJub25lIn0.eyJ1aWQiOiJhIn0."}}},
    "gauth": {"t": "d", "d": {"r": 17, "a": "gauth", "b": {"cred": "owner"}}},
    "unauth": {"t": "d", "d": {"r": 18, "a": "unauth", "b": {}}},
    "info": {"t": "d", "d": {"r": 19, "a": "q", "b": {"p": "/.info/connected", "h": ""}}},
    "unicode-path": {"t": "d", "d": {"r": 20, "a": "p", "b": {"p": "/ünï/😀/-12/007", "d": "ok"}}},
}


def parser_seeds():
    t = "websocketparser"
    clean(t)
    hs = handshake()
    # control byte: bit 0 puts a handshake in front (then the seed holds frames only), bit 1 small pieces
    write(t, "handshake", b"\x00" + hs)
    write(t, "handshake-pieces", b"\x02" + hs)
    write(t, "handshake-origin", b"\x00" + handshake(extra=b"Origin: http://localhost:5173\r\nUser-Agent: x\r\n"))
    write(t, "handshake-firefox", b"\x00" + handshake(extra=b"Sec-WebSocket-Extensions: permessage-deflate\r\n").replace(b"Connection: Upgrade", b"Connection: keep-alive, Upgrade"))
    write(t, "handshake-lowercase", b"\x00" + hs.lower().replace(KEY.lower(), KEY).replace(b"get ", b"GET ").replace(b"http/1.1", b"HTTP/1.1"))
    write(t, "refuse-post", b"\x00" + hs.replace(b"GET", b"POST", 1))
    write(t, "refuse-http10", b"\x00" + hs.replace(b"HTTP/1.1", b"HTTP/1.0"))
    write(t, "refuse-not-http", b"\x00HELLO THERE\r\n\r\n")
    write(t, "refuse-no-host", b"\x00" + handshake(host=b""))
    write(t, "refuse-two-hosts", b"\x00" + handshake(extra=b"Host: evil.example\r\n"))
    write(t, "refuse-two-origins", b"\x00" + handshake(extra=b"Origin: http://a\r\nOrigin: http://b\r\n"))
    write(t, "refuse-plain-get", b"\x00GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n")
    write(t, "refuse-version", b"\x00" + hs.replace(b"Version: 13", b"Version: 8"))
    write(t, "refuse-key", b"\x00" + hs.replace(KEY, b"!!notbase64!!"))
    write(t, "refuse-no-colon", b"\x00" + hs[:-2] + b"Bogus\r\n\r\n")
    write(t, "refuse-too-long", b"\x00" + hs[:-2] + b"X-Filler: " + b"f" * 700 + b"\r\n\r\n")
    write(t, "handshake-then-frame", b"\x00" + hs + frame(0x81, msg(SDK["ping"])))
    for name in ("ping", "listen", "set", "update", "listen-query"):
        write(t, "frame-" + name, b"\x01" + frame(0x81, msg(SDK[name])))
    write(t, "frame-16bit", b"\x01" + frame(0x81, "x" * 300))
    write(t, "frame-64bit-oversize", b"\x01" + frame(0x81, b"", length=1 << 20)[:14])
    write(t, "frame-64bit", b"\x01" + frame(0x81, "y" * 70, force64=True))
    write(t, "fragments", b"\x01" + frame(0x01, '{"t":"c",') + frame(0x89, "mid") + frame(0x80, '"d":{"t":"p"}}'))
    write(t, "fragments-utf8-split", b"\x01" + frame(0x01, b"caf\xc3") + frame(0x80, b"\xa9"))
    write(t, "binary", b"\x01" + frame(0x82, b"\x00\x01\x02"))
    write(t, "ping-pong", b"\x03" + frame(0x89, "hi") + frame(0x8A, "") + frame(0x81, "0"))
    write(t, "close-1000", b"\x01" + frame(0x88, struct.pack(">H", 1000) + b"bye"))
    write(t, "close-empty", b"\x01" + frame(0x88, b""))
    write(t, "close-bad-code", b"\x01" + frame(0x88, struct.pack(">H", 1005)))
    write(t, "close-one-byte", b"\x01" + frame(0x88, b"\x03"))
    write(t, "close-bad-utf8", b"\x01" + frame(0x88, struct.pack(">H", 4000) + b"\xff"))
    write(t, "bad-utf8", b"\x01" + frame(0x81, b"\xed\xa0\x80"))
    write(t, "unmasked", b"\x01" + frame(0x81, "hello", masked=False))
    write(t, "reserved-bits", b"\x01" + frame(0xC1, "x"))
    write(t, "opcode-3", b"\x01" + frame(0x83, "x"))
    write(t, "opcode-b", b"\x01" + frame(0x8B, "x"))
    write(t, "control-fragmented", b"\x01" + frame(0x09, "x"))
    write(t, "control-long", b"\x01" + frame(0x89, "p" * 126))
    write(t, "continuation-alone", b"\x01" + frame(0x80, "x"))
    write(t, "new-message-in-fragments", b"\x01" + frame(0x01, "a") + frame(0x81, "b"))
    write(t, "fragments-oversize", b"\x01" + frame(0x01, "a" * 600) + frame(0x80, "b" * 600))


def envelope_seeds():
    t = "envelope"
    clean(t)
    for name, o in SDK.items():
        write(t, name, msg(o))
    write(t, "keepalive", "0")
    big = msg(SDK["set"])
    write(t, "two-frames", "2\n" + big[:20] + "\n" + big[20:])
    write(t, "frame-count-too-big", "999999\n" + big)
    write(t, "not-json", "{\"t\":")
    write(t, "not-envelope", msg({"t": "x", "d": {}}))
    write(t, "no-r", msg({"t": "d", "d": {"a": "p", "b": {}}}))
    write(t, "r-fraction", msg({"t": "d", "d": {"r": 1.5, "a": "s", "b": {}}}))
    write(t, "r-huge", '{"t":"d","d":{"r":1e20,"a":"s","b":{}}}')
    write(t, "r-2p63", '{"t":"d","d":{"r":9223372036854775808,"a":"s","b":{}}}')
    write(t, "deep-path", msg({"t": "d", "d": {"r": 1, "a": "p", "b": {"p": "/" + "/".join("k%d" % i for i in range(33)), "d": 1}}}))
    write(t, "long-key", msg({"t": "d", "d": {"r": 1, "a": "p", "b": {"p": "/" + "é" * 384, "d": 1}}}))
    write(t, "bad-key", msg({"t": "d", "d": {"r": 1, "a": "m", "b": {"p": "/a", "d": {"b.c": 1, "x#": 2, "": 3}}}}))
    write(t, "info-write", msg({"t": "d", "d": {"r": 1, "a": "m", "b": {"p": "/", "d": {".info/x": 1}}}}))
    write(t, "priority-mid", msg({"t": "d", "d": {"r": 1, "a": "m", "b": {"p": "/a/.priority", "d": {"b": 1}}}}))
    write(t, "query-child-deep", msg({"t": "d", "d": {"r": 1, "a": "q", "b": {"p": "/", "q": {"i": "a/b/c", "sp": None, "ep": True, "l": 3}, "t": 9}}}))
    write(t, "query-bad", msg({"t": "d", "d": {"r": 1, "a": "q", "b": {"p": "/", "q": {"i": 5, "l": -1, "vf": "x", "sp": {"a": 1}}}}}))
    write(t, "numeric-keys", msg({"t": "d", "d": {"r": 1, "a": "m", "b": {"p": "/n", "d": {"-0": 1, "00": 2, "2147483648": 3, "-2147483648": 4, "0010": 5}}}}))


TREE = [
    ('p', {"p": "/users/alice", "d": {"name": "Alice", "age": 30, "tags": ["a", "b"]}}),
    ('p', {"p": "/users/alice/.priority", "d": 5}),
    ('m', {"p": "/", "d": {"users/bob/name": "Bob", "counts/x": {".sv": {"increment": 1}}, "t": {".sv": "timestamp"}}}),
    ('q', {"p": "/users", "q": {"i": "age", "sp": 18, "l": 10, "vf": "r"}, "t": 1}),
    ('p', {"p": "/users/alice/age", "d": 31}),
    ('m', {"p": "/users", "d": {"alice": None, "carol": {".value": "c", ".priority": "p"}}}),
]


def tree_seeds():
    t = "tree"
    clean(t)
    lines = [a + " " + msg(b) for a, b in TREE]
    write(t, "session", "\n".join(lines))
    for i, line in enumerate(lines):
        write(t, "line-%d" % i, line)
    write(t, "priority-and-child", "m " + msg({"p": "/", "d": {"x/.priority": 1, "x/y": 2}}))
    write(t, "priority-on-leaf", "p " + msg({"p": "/a", "d": 1}) + "\np " + msg({"p": "/a/.priority", "d": "hi"}))
    write(t, "leaf-to-object", "p " + msg({"p": "/a", "d": {".value": 1, ".priority": 2}}) + "\np " + msg({"p": "/a/b", "d": 3}))
    write(t, "delete-prunes", "p " + msg({"p": "/a/b/c", "d": 1}) + "\np " + msg({"p": "/a/b/c", "d": None}))
    write(t, "root-leaf", "p " + msg({"p": "/", "d": 42}) + "\np " + msg({"p": "/.priority", "d": 1}))
    write(t, "array", "p " + msg({"p": "/l", "d": [1, None, [2, 3], {"k": []}]}))
    write(t, "increment-overflow", "p " + msg({"p": "/n", "d": 1e308}) + "\np " + msg({"p": "/n", "d": {".sv": {"increment": 1e308}}}))
    deep = 1
    for i in range(31):
        deep = {"k": deep}
    write(t, "deep", "p " + msg({"p": "/a", "d": deep}))
    write(t, "long-path", "p " + msg({"p": "/" + "a" * 700, "d": {"b" * 60: 1}}))
    write(t, "listen-then-write", "q " + msg({"p": "/a", "q": {"i": ".key", "l": 2}, "t": 4}) + "\nm " + msg({"p": "/a", "d": {"x": 1, "y": 2, "z": 3}}) + "\nn " + msg({"p": "/a", "q": {"i": ".key", "l": 2}}))
    write(t, "server-values", "m " + msg({"p": "/s", "d": {"a": {".sv": "timestamp"}, "b": {".sv": {"increment": -2}}, "c": {".sv": "bogus"}}}))
    write(t, "value-with-children", "p " + msg({"p": "/v", "d": {".value": {"a": 1}}}))
    write(t, "big-string", "p " + msg({"p": "/s", "d": "x" * 20000}))


def import_seeds():
    t = "import"
    clean(t)
    write(t, "users", msg({"users": {"alice": {"name": "Alice", "age": 30}, "bob": {"name": "Bob", ".priority": 2}}}))
    write(t, "array", msg([1, "two", None, {"three": 3}, []]))
    write(t, "export-format", msg({"a": {".value": 1, ".priority": "p"}, ".priority": 3, "b": {"c": True}}))
    write(t, "at-path", "/rooms/r1\n" + msg({"name": "Lobby", "members": {"a": True}}))
    write(t, "at-priority", "/a/.priority\n" + msg({"x": 1}))
    write(t, "empty-object", "{}")
    write(t, "nulls", msg({"a": None, "b": {"c": None}}))
    write(t, "bad-key", msg({"a.b": 1}))
    write(t, "server-value", msg({"t": {".sv": "timestamp"}}))
    write(t, "not-json", '{"a":')
    write(t, "scalar", "42")
    deep = 1
    for i in range(33):
        deep = {"k": deep}
    write(t, "too-deep", msg(deep))
    write(t, "long-key-path", "/" + "p" * 700 + "\n" + msg({"q" * 70: 1}))
    write(t, "unicode", msg({"ünï": {"😀": "ok", "\u0001": 1}}))
    write(t, "numbers", '{"a":1e308,"b":-0,"c":5e-324,"d":123456789012345678901234567890}')
    write(t, "priority-object", msg({"a": {".priority": {"x": 1}, "b": 1}}))
    write(t, "value-object", msg({"a": {".value": {"x": 1}}}))
    write(t, "dup-keys", '{"a":1,"a":{"b":2}}')


def http_seeds():
    # fuzz_http: a control byte (split seed), then a plain HTTP stream.
    t = "http"
    clean(t)
    get = b"GET /.settings/rules.json?ns=demo HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nAuthorization: Bearer owner\r\n\r\n"
    body = b'{"rules":{".read":true}}'
    put = (b"PUT /.settings/rules.json?ns=demo&dryRun=true HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
           + str(len(body)).encode() + b"\r\n\r\n" + body)
    write(t, "get", b"\x00" + get)
    write(t, "put", b"\x02" + put)
    write(t, "pipelined", b"\x01" + get + put + get)
    write(t, "chunked", b"\x03PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
    write(t, "close", b"\x00GET / HTTP/1.0\r\n\r\n")
    write(t, "body-over-cap", b"\x00PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    write(t, "upgrade-later", b"\x00" + get + b"GET /.ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")


parser_seeds()
envelope_seeds()
tree_seeds()
import_seeds()
http_seeds()
