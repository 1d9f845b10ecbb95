// SPDX-License-Identifier: MIT
// A seeded, structure-aware fuzz of the protocol layer through the real server over 127.0.0.1. Random bytes are
// tst_websocket's job (randomBytesNeverHarm); here every frame is a well-formed WebSocket text frame carrying JSON
// whose structure is random: envelope, request number, action, paths, values, queries, merges. The fate of each
// message is predicted from the contract (docs/semantics.md §7, docs/wire-protocol.md §3 and §6) and checked:
// - a data message with an integer r is a request: exactly one reply, in the order sent, with a known status and,
//   when it is not ok, a readable message;
// - a control ping gets a pong; other control messages and "0" keep-alives get nothing;
// - what cannot be a request (not JSON, not a v5 envelope, no integer r, over the cap) closes the connection with
//   a close frame, a code and a reason, after the replies to everything sent before it, and leaves the session
//   suspended with its ops (grace applies).
// After every round the stored tree is one a Firebase database could hold; after every seed it reads the same over
// the wire as in the server, the fuzz sessions' onDisconnect ops fired into it, and a bystander was never harmed.

#include "db/database.h"
#include "rawclient.h"
#include "testserver.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace
{

/** The fuzz server's message cap: small, so messages over it are cheap to make. */
constexpr qint64 Cap = 64 * 1024;
/** Messages per seed: 600, or LARK_FUZZ_MESSAGES for a longer hunt by hand (state that builds up over a session). */
int messagesPerSeed()
{
    bool ok = false;
    const int n = qEnvironmentVariableIntValue("LARK_FUZZ_MESSAGES", &ok);
    return ok && n > 0 ? n : 600;
}
constexpr int Connections = 3;
constexpr int WaitMs = 60000; // generous: the test also runs under AddressSanitizer

const QStringList KnownActions = {u"q"_s, u"l"_s, u"n"_s, u"p"_s, u"m"_s, u"g"_s, u"o"_s, u"om"_s, u"oc"_s, u"auth"_s,
    u"gauth"_s, u"unauth"_s, u"s"_s, u"appcheck"_s, u"unappeck"_s, u"lark.watch"_s};
const QStringList PathActions = {u"q"_s, u"l"_s, u"n"_s, u"p"_s, u"m"_s, u"g"_s, u"o"_s, u"om"_s, u"oc"_s};
const QStringList WriteActions = {u"p"_s, u"m"_s, u"o"_s, u"om"_s};
// What a server without a data file may answer (docs/wire-protocol.md §6; write_failed needs a data file).
const QStringList KnownStatuses = {u"ok"_s, u"invalid_request"_s, u"permission_denied"_s, u"datastale"_s,
    u"invalid_token"_s, u"write_failed"_s, u"too_many_ops"_s, u"too_many_listens"_s};

/**
 * Waits until predicate holds, handling events as they arrive. QTest::qWaitFor sleeps 10 ms between its passes, and
 * a seed waits some hundred times for a loopback round trip that takes well under a millisecond.
 */
bool waitFor(const std::function<bool()> &predicate, int timeoutMs = WaitMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QTimer tick; // wakes the loop up when nothing arrives, so the deadline is seen
    tick.start(5);
    while (!predicate()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }
    return true;
}

QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

/** A message as a failure report shows it: long ones cut, control characters made visible. */
QString shown(const QString &text)
{
    QString s = text.size() > 320 ? text.left(260) + u" …(%1 chars)… "_s.arg(text.size()) + text.right(40) : text;
    for (QChar &c : s) {
        if (c.unicode() < 32)
            c = QChar(0x2400 + c.unicode());
    }
    return s;
}

/** What the server must do with one message. */
struct Fate {
    enum class Kind { Reply, Pong, Nothing, Close };
    Kind kind = Kind::Nothing;
    double r = 0; // Reply: the request number the reply carries
    QJsonValue action; // Reply
    QJsonValue body; // Reply
    int closeCode = 0; // Close
    QString reason; // Close: a part of the reason
};

Fate closeWith(int code, const QString &reason)
{
    Fate f;
    f.kind = Fate::Kind::Close;
    f.closeCode = code;
    f.reason = reason;
    return f;
}

/**
 * The fate of one message, as its joined UTF-8 bytes: the rules of docs/semantics.md §7 and docs/wire-protocol.md
 * §3–§6, made exact by Connection::handleMessage (which malformed envelopes close and with which code). The JSON is
 * read with the same parser the server uses, so the prediction is about the server's rules, not about Qt's JSON.
 */
Fate predict(const QByteArray &utf8)
{
    if (utf8.size() > Cap)
        return closeWith(1009, u"larger than"_s);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &pe);
    if (pe.error != QJsonParseError::NoError)
        return closeWith(1007, u"invalid JSON"_s);
    const QJsonObject msg = doc.object();
    const QJsonValue t = msg.value(u"t"_s);
    if (!doc.isObject() || !msg.value(u"d"_s).isObject() || (t != QJsonValue(u"c"_s) && t != QJsonValue(u"d"_s)))
        return closeWith(1002, u"envelope"_s);
    const QJsonObject d = msg.value(u"d"_s).toObject();
    Fate f;
    if (t == QJsonValue(u"c"_s)) {
        f.kind = d.value(u"t"_s) == QJsonValue(u"p"_s) ? Fate::Kind::Pong : Fate::Kind::Nothing;
        return f;
    }
    // A request number is an integer a 64-bit counter can hold.
    const QJsonValue r = d.value(u"r"_s);
    const double v = r.toDouble();
    if (!r.isDouble() || std::trunc(v) != v || v < -0x1p63 || v >= 0x1p63)
        return closeWith(1002, u"request number"_s);
    f.kind = Fate::Kind::Reply;
    f.r = v;
    f.action = d.value(u"a"_s);
    f.body = d.value(u"b"_s);
    return f;
}

/** The status a reply must have where the request alone decides it; empty where the data or the session does. */
QString statusFor(const Fate &f)
{
    if (!f.body.isObject() && !f.body.isUndefined() && !f.body.isNull())
        return u"invalid_request"_s;
    const QString action = f.action.toString();
    if (!f.action.isString() || !KnownActions.contains(action))
        return u"invalid_request"_s;
    const QJsonObject b = f.body.toObject();
    if (action == u"s"_s || action == u"appcheck"_s || action == u"unappeck"_s || action == u"unauth"_s)
        return u"ok"_s;
    if (action == u"gauth"_s)
        return b.value(u"cred"_s) == QJsonValue(u"owner"_s) ? u"ok"_s : u"invalid_token"_s;
    if (PathActions.contains(action) && !b.value(u"p"_s).isString())
        return u"invalid_request"_s;
    return {};
}

/** Why key may not be stored (docs/semantics.md §7), or empty. */
QString keyProblem(const QString &key)
{
    if (key.isEmpty())
        return u"an empty key"_s;
    for (const QChar c : key) {
        if (c.unicode() < 32 || c.unicode() == 127 || QStringView(u".$#[]/").contains(c))
            return u"key \"%1\" has a forbidden character"_s.arg(shown(key));
    }
    if (key.toUtf8().size() > 768)
        return u"key longer than 768 bytes"_s;
    return {};
}

QString childPath(const QString &path, const QString &key)
{
    return path == u"/"_s ? u"/"_s + key : path + u'/' + key;
}

/**
 * Why a non-null JSON value is not something a Firebase database can hold, in export format (docs/wire-protocol.md §7):
 * no null leaves, no empty objects, no arrays, valid keys, `.priority` a number or string, `.value` only beside a
 * priority. depth is the number of keys from the root to path.
 */
QString exportProblem(const QJsonValue &v, const QString &path, int depth)
{
    if (depth > 32)
        return path + u": deeper than 32 levels"_s;
    switch (v.type()) {
    case QJsonValue::Bool:
    case QJsonValue::Double:
    case QJsonValue::String:
        return {};
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return path + u": a null leaf"_s;
    case QJsonValue::Array:
        return path + u": an array"_s;
    case QJsonValue::Object:
        break;
    }
    const QJsonObject o = v.toObject();
    if (o.isEmpty())
        return path + u": an empty object"_s;
    if (o.contains(u".priority"_s)) {
        const QJsonValue p = o.value(u".priority"_s);
        if (!p.isDouble() && !p.isString())
            return path + u": a priority that is not a number or a string: "_s
                + shown(QString::fromUtf8(QJsonDocument(QJsonArray {p}).toJson(QJsonDocument::Compact)));
    }
    if (o.contains(u".value"_s)) {
        const QJsonValue leaf = o.value(u".value"_s);
        if (o.size() != 2 || !o.contains(u".priority"_s))
            return path + u": .value without a priority, or with siblings"_s;
        if (!leaf.isBool() && !leaf.isDouble() && !leaf.isString())
            return path + u": .value that is not a leaf"_s;
        return {};
    }
    int children = 0;
    for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
        if (it.key() == u".priority"_s)
            continue;
        ++children;
        const QString at = childPath(path, it.key());
        if (const QString why = keyProblem(it.key()); !why.isEmpty())
            return at + u": "_s + why;
        if (const QString why = exportProblem(it.value(), at, depth + 1); !why.isEmpty())
            return why;
    }
    return children == 0 ? path + u": an object with only a priority"_s : QString();
}

/** The same invariants on the server's own tree, where a number that JSON cannot carry can also hide. */
QString nodeProblem(const lark::Node &n, const QString &path, int depth)
{
    if (depth > 32)
        return path + u": deeper than 32 levels"_s;
    const QJsonValue &p = n.priority();
    if (!p.isNull() && !p.isString() && !(p.isDouble() && std::isfinite(p.toDouble())))
        return path + u": a stored priority that is not a finite number or a string"_s;
    switch (n.type()) {
    case lark::Node::Type::Null:
        return path + u": a stored null node"_s;
    case lark::Node::Type::Bool:
    case lark::Node::Type::String:
        return {};
    case lark::Node::Type::Number:
        return std::isfinite(n.number()) ? QString()
                                         : path
                + u": stored number %1 is not finite (JSON cannot carry it: it reads back as null)"_s.arg(n.number());
    case lark::Node::Type::Object:
        break;
    }
    if (n.children().empty())
        return path + u": a stored empty object"_s;
    for (const auto &[key, child] : n.children()) {
        const QString at = childPath(path, key);
        if (const QString why = keyProblem(key); !why.isEmpty())
            return at + u": "_s + why;
        if (const QString why = nodeProblem(*child, at, depth + 1); !why.isEmpty())
            return why;
    }
    return {};
}

/**
 * Whether two JSON values are the same JSON. QJsonObject's own == compares nested numbers by their CBOR type, so
 * -9223372036854775808 read from the wire (an integer) would differ from the server's double of the same value.
 */
bool sameJson(const QJsonValue &a, const QJsonValue &b)
{
    if (a.isObject() && b.isObject()) {
        const QJsonObject x = a.toObject(), y = b.toObject();
        if (x.size() != y.size())
            return false;
        for (auto it = x.constBegin(); it != x.constEnd(); ++it) {
            if (!y.contains(it.key()) || !sameJson(it.value(), y.value(it.key())))
                return false;
        }
        return true;
    }
    if (a.isArray() && b.isArray()) {
        const QJsonArray x = a.toArray(), y = b.toArray();
        if (x.size() != y.size())
            return false;
        for (qsizetype i = 0; i < x.size(); ++i) {
            if (!sameJson(x.at(i), y.at(i)))
                return false;
        }
        return true;
    }
    return a == b; // numbers compare as doubles here
}

/** The first path where two JSON values differ, for failure reports. */
QString firstDifference(const QJsonValue &a, const QJsonValue &b, const QString &path)
{
    if (a.isObject() && b.isObject()) {
        const QJsonObject x = a.toObject(), y = b.toObject();
        QStringList keys = x.keys() + y.keys();
        keys.removeDuplicates();
        for (const QString &k : std::as_const(keys)) {
            if (!sameJson(x.value(k), y.value(k)))
                return firstDifference(x.value(k), y.value(k), childPath(path, k));
        }
    }
    const auto text = [](const QJsonValue &v) {
        return shown(QString::fromUtf8(QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact)));
    };
    return u"%1: %2 vs %3"_s.arg(path, text(a), text(b));
}

/** Makes the random messages; everything it makes depends on the seed only, never on what the server answered. */
class Generator
{
public:
    explicit Generator(quint32 seed)
        : m_rng(seed)
    {
    }

    int below(int n) { return n <= 1 ? 0 : int(m_rng.bounded(n)); }
    bool chance(int percent) { return below(100) < percent; }
    QString pick(const QStringList &l) { return l.at(below(int(l.size()))); }
    QJsonValue pickValue(const QList<QJsonValue> &l) { return l.at(below(int(l.size()))); }

    /** The next message's text; r numbers come from *nextR. Mostly well under the cap, sometimes at or over it. */
    QString next(qint64 *nextR)
    {
        for (;;) {
            const int k = below(1000);
            if (k < 6)
                return oversize(nextR);
            if (k < 10)
                return atTheCap(nextR);
            QString text;
            if (k < 16) {
                text = oddText(nextR);
            } else if (k < 40) {
                text = compact(control());
            } else if (k < 58) {
                text = compact(badEnvelope(nextR));
            } else {
                QJsonObject msg {{u"t"_s, u"d"_s}, {u"d"_s, request(nextR)}};
                if (chance(2))
                    msg.insert(u"x"_s, leaf());
                text = compact(msg);
            }
            if (text.size() < 20000 || text.toUtf8().size() < Cap - 4096)
                return text;
        }
    }

    /** Sends text as the SDK may: whole, or as a frame count and pieces; sometimes after a "0" keep-alive. */
    void send(RawClient &client, const QString &text)
    {
        if (chance(3))
            client.sendRaw(u"0"_s);
        const bool big = text.size() > 16384;
        if (text.isEmpty() || !(big ? chance(50) : chance(4))) {
            client.sendRaw(text);
            return;
        }
        const qsizetype count = big ? (text.size() + 16383) / 16384 : 2 + below(4);
        const qsizetype size = std::max<qsizetype>(1, (text.size() + count - 1) / count);
        QStringList pieces;
        for (qsizetype pos = 0; pos < text.size();) {
            qsizetype end = std::min(pos + size, text.size());
            if (end < text.size() && text.at(end).isLowSurrogate())
                ++end; // a surrogate pair stays in one piece
            pieces.append(text.mid(pos, end - pos));
            pos = end;
        }
        client.sendRaw(QString::number(pieces.size()));
        for (const QString &piece : std::as_const(pieces))
            client.sendRaw(piece);
    }

    /** Text that is a request, built by hand: for the last request of a connection. */
    static QString plainRequest(qint64 r, const QString &action)
    {
        return compact(
            {{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, double(r)}, {u"a"_s, action}, {u"b"_s, QJsonObject()}}}});
    }

private:
    QString goodKey()
    {
        static const QStringList pool = {u"a"_s, u"b"_s, u"c"_s, u"n"_s, u"0"_s, u"1"_s, u"2"_s, u"10"_s, u"-1"_s,
            u"007"_s, u"x y"_s, u"ü"_s, u"日本"_s, u"\U0001F600"_s, u"-Nx1"_s, u"2147483648"_s};
        if (chance(85))
            return pick(pool);
        static const QString alphabet = u"abcXYZ019-_ ~üé日本\u00a0"_s;
        QString key;
        const int n = 1 + below(12);
        for (int i = 0; i < n; ++i) {
            if (chance(5))
                key += u"\U0001F680"_s;
            else
                key += alphabet.at(below(int(alphabet.size())));
        }
        return key;
    }

    /** Keys at and over the limits: forbidden characters, pseudo-keys, control characters, 768 bytes and more. */
    QString edgeKey()
    {
        switch (below(4)) {
        case 0: {
            const int shorter = below(2) * 2, longer = below(2) * 3; // one random draw after the other
            return QString(768 - shorter + longer, u'k'); // 766, 768, 769 or 771 bytes
        }
        case 1:
            return chance(50) ? QString(384, u'é') : QString(385, u'é'); // 768 or 770 bytes
        case 2:
            return u"\U0001F600"_s.repeated(192 + below(2)); // 768 or 772 bytes
        default:
            break;
        }
        return pick({u"."_s, u"$"_s, u"#"_s, u"["_s, u"]"_s, u"a.b"_s, u"a$"_s, u"#x"_s, u"[0]"_s, u"\u0001"_s,
            u"\u001f"_s, u"\u007f"_s, u"a\nb"_s, u"\t"_s, QString(QChar(0)), u".value"_s, u".sv"_s, u".info"_s,
            u".priority"_s, u".."_s, u"[MIN_NAME]"_s});
    }

    /** A path a write may use: under /fuzz (valid or not), or one the server must refuse. */
    QString writePath()
    {
        if (chance(7)) {
            return pick({u"/.info"_s, u"/.info/connected"_s, u".info/x/y"_s, u"/.info/.priority"_s, u"/a.b"_s, u"/$"_s,
                u"/#x"_s, u"/["_s, u"/]"_s, u"/x\u0001"_s, u"/\u007f"_s, u"/"_s + QString(769, u'k'),
                QString(u"/k"_s).repeated(33), u"/"_s + QString(400, u'é')});
        }
        QStringList keys {u"fuzz"_s};
        const int depth = chance(4) ? 26 + below(10) : 1 + below(4);
        for (int i = 0; i < depth; ++i)
            keys << (chance(5) ? edgeKey() : goodKey());
        if (chance(6))
            keys << u".priority"_s;
        QString path = keys.join(chance(3) ? u"//"_s : u"/"_s);
        if (!chance(10))
            path.prepend(u'/');
        if (chance(5))
            path.append(u'/');
        return path;
    }

    QString readPath()
    {
        if (chance(50))
            return writePath();
        return pick({u"/"_s, u""_s, u"//"_s, u"/data"_s, u"/data/a"_s, u"/fuzz"_s, u"/fuzz/a"_s, u"/.info"_s,
            u"/.info/connected"_s, u"/bystander"_s, u"/nope"_s, u"/a.b"_s, u"/fuzz/.priority"_s,
            u"/fuzz/a/.priority"_s});
    }

    QJsonValue hugeNumber()
    {
        return pickValue({1.7976931348623157e308, -1.7976931348623157e308, 1e300, 9007199254740992.0,
            9007199254740993.0, -0x1p63, 0x1p63 - 1024, 5e-324, -1e-300, 4294967296.0});
    }

    QJsonValue leaf()
    {
        switch (below(15)) {
        case 0:
            return QJsonValue::Null;
        case 1:
            return chance(50);
        case 2:
            return below(21) - 10;
        case 3:
            return double(below(1000000)) / 8;
        case 4:
            return hugeNumber();
        case 5:
            return QString();
        case 6:
        case 7: {
            static const QString alphabet = u"abc xyz ÄÖÜ日本語 \"\\/'<>{}[]:,"_s;
            QString s;
            const int n = 1 + below(20);
            for (int i = 0; i < n; ++i)
                s += alphabet.at(below(int(alphabet.size())));
            return s;
        }
        case 8:
            return u"\U0001F600 emoji \U0001F680"_s;
        case 9:
            return u"ctl \u0000 \u0001 \n \t \u001f \u007f end"_s;
        case 10:
            return QString(200 + below(2000), u'l');
        case 11:
            return chance(10) ? QString(8000 + below(8000), u'L') : u"l"_s;
        case 12:
            return edgeKey();
        default:
            return below(4);
        }
    }

    QJsonValue priority()
    {
        return pickValue({1, -2.5, u"p"_s, u""_s, QJsonValue::Null, true, QJsonObject {{u"a"_s, 1}}, QJsonArray {1},
            QJsonObject {{u".sv"_s, u"timestamp"_s}}, hugeNumber()});
    }

    QJsonValue increment()
    {
        const QJsonValue delta = chance(40)
            ? hugeNumber()
            : pickValue({1, -1, 2.5, 0, u"1"_s, QJsonValue::Null, true, QJsonObject(), 1e308, 1.7976931348623157e308});
        return QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, delta}}}};
    }

    QJsonValue serverValue()
    {
        switch (below(10)) {
        case 0:
        case 1:
        case 2:
            return QJsonObject {{u".sv"_s, u"timestamp"_s}};
        case 3:
        case 4:
        case 5:
            return increment();
        case 6:
            return QJsonObject {
                {u".sv"_s, pickValue({u"bogus"_s, 5, QJsonValue::Null, true, QJsonObject(), QJsonArray(), u""_s})}};
        case 7:
            return QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, 1}, {u"x"_s, 2}}}};
        case 8:
            return QJsonObject {{u".sv"_s, u"timestamp"_s}, {u"x"_s, 1}};
        default:
            return QJsonObject {{u"at"_s, QJsonObject {{u".sv"_s, u"timestamp"_s}}}, {u"n"_s, increment()}};
        }
    }

    QJsonValue withPriority(int depth)
    {
        switch (below(4)) {
        case 0:
            return QJsonObject {{u".value"_s, leaf()}, {u".priority"_s, priority()}};
        case 1:
            return QJsonObject {{u".value"_s, value(depth - 1)}, {u".priority"_s, priority()}};
        case 2:
            return QJsonObject {{u".value"_s, leaf()}};
        default: {
            QJsonObject o = object(depth);
            o.insert(u".priority"_s, priority());
            return o;
        }
        }
    }

    QJsonObject object(int depth)
    {
        QJsonObject o;
        const int n = below(5); // 0: an empty object
        for (int i = 0; i < n; ++i) {
            // Key first, then value: the order of a call's arguments is unspecified, and seeds must not depend on it.
            const QString key = chance(6) ? edgeKey() : goodKey();
            o.insert(key, value(depth - 1));
        }
        return o;
    }

    /** A chain of single children that crosses the 32-level limit at some depths of the path it is written to. */
    QJsonValue deepChain()
    {
        QJsonValue v = leaf();
        const int n = 26 + below(10);
        for (int i = 0; i < n; ++i)
            v = QJsonObject {{goodKey(), v}};
        return v;
    }

    QJsonValue value(int depth)
    {
        const int k = below(100);
        if (depth <= 0 || k < 40)
            return leaf();
        if (k < 52)
            return serverValue();
        if (k < 60)
            return withPriority(depth);
        if (k < 68) {
            QJsonArray a;
            const int n = below(5);
            for (int i = 0; i < n; ++i)
                a.append(value(depth - 1));
            return a;
        }
        if (k < 70)
            return deepChain();
        return object(depth);
    }

    /** The children of an update: relative paths, some multi-segment, some invalid, some overlapping. */
    QJsonObject mergeData(bool atRoot)
    {
        QJsonObject d;
        const int n = below(5);
        for (int i = 0; i < n; ++i) {
            QString key;
            if (chance(12)) {
                key = pick({u""_s, u"/"_s, u"a.b"_s, u".value"_s, u".sv"_s, u".info"_s, u".info/x"_s, u".priority"_s,
                    u"a/.priority"_s, u"$"_s, u"a//b"_s, u"/a"_s, u"a/"_s, u"a/b/c"_s, u"a\u0001"_s});
            } else {
                key = goodKey();
                if (chance(25))
                    key += u'/' + goodKey();
                if (chance(5))
                    key += u"/.priority"_s;
            }
            // At the root only the .info keys stay unprefixed: every other write belongs under /fuzz.
            if (atRoot && !key.startsWith(u".info"_s))
                key.prepend(u"fuzz/"_s);
            d.insert(key, chance(20) ? QJsonValue(QJsonValue::Null) : value(3));
        }
        return d;
    }

    QJsonValue bound() { return chance(85) ? leaf() : QJsonValue(QJsonObject {{u"a"_s, 1}}); }

    QJsonObject query()
    {
        QJsonObject q;
        if (chance(35))
            q.insert(u"sp"_s, bound());
        if (chance(20))
            q.insert(u"sn"_s, pickValue({u"a"_s, u"[MIN_NAME]"_s, u"[MAX_NAME]"_s, 5, QJsonValue::Null, u""_s}));
        if (chance(25))
            q.insert(u"sin"_s, chance(80) ? QJsonValue(chance(50)) : QJsonValue(1));
        if (chance(35))
            q.insert(u"ep"_s, bound());
        if (chance(20))
            q.insert(u"en"_s, pickValue({u"z"_s, u"[MIN_NAME]"_s, u"[MAX_NAME]"_s, true, QJsonValue::Null}));
        if (chance(25))
            q.insert(u"ein"_s, chance(80) ? QJsonValue(chance(50)) : QJsonValue(u"yes"_s));
        if (chance(45))
            q.insert(u"l"_s, pickValue({1, 2, 3, 10, 0, -1, 1.5, 1e10, 1e9, u"3"_s, QJsonValue::Null}));
        if (chance(40))
            q.insert(u"vf"_s, pickValue({u"l"_s, u"r"_s, u"x"_s, 1}));
        if (chance(55)) {
            q.insert(u"i"_s,
                pickValue({u".key"_s, u".value"_s, u".priority"_s, u"a"_s, u"a/b"_s, u"n"_s, u""_s, u"/"_s, u"a.b"_s, 5,
                    QJsonValue::Null, u".info/x"_s, u"a/.priority"_s, u"$"_s}));
        }
        return q;
    }

    QJsonValue tag() { return pickValue({1, 2, 7, 1000000, 0, -3, 1.5, 1e300, u"1"_s, QJsonValue::Null}); }

    QString mockJwt()
    {
        const auto b64 = [](const QByteArray &b) {
            return QString::fromLatin1(b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        };
        QJsonObject claims {{u"sub"_s, goodKey()}, {u"iat"_s, 0}, {u"exp"_s, 3600}};
        if (chance(30))
            claims.insert(u"firebase"_s, QJsonObject {{u"sign_in_provider"_s, u"password"_s}});
        if (chance(20)) {
            const QString key = edgeKey();
            claims.insert(key, leaf());
        }
        return b64(R"({"alg":"none","type":"JWT"})") + u'.' + b64(compact(claims).toUtf8()) + u'.';
    }

    QJsonValue body(const QJsonValue &actionValue)
    {
        if (chance(4)) {
            return pickValue({u"body"_s, 5, QJsonArray {1, 2}, true, QJsonValue::Null, QJsonValue::Undefined,
                QJsonArray {QJsonObject {{u"p"_s, u"/fuzz/a"_s}, {u"d"_s, 1}}}});
        }
        const QString action = actionValue.toString();
        QJsonObject b;
        if (action == u"p"_s) {
            if (chance(6)) {
                b = {{u"p"_s, u"/fuzz/n"_s}, {u"d"_s, increment()}};
            } else {
                b = {{u"p"_s, writePath()}, {u"d"_s, value(4)}};
                if (chance(5))
                    b.remove(u"d"_s);
            }
            if (chance(10))
                b.insert(u"h"_s, pickValue({u""_s, u"nope"_s, u"2jmj7l5rSw0yVb/vlWAYkK/YBwk="_s, 5}));
        } else if (action == u"m"_s || action == u"om"_s) {
            const bool atRoot = chance(10);
            b.insert(u"p"_s, atRoot ? pick({u"/"_s, u""_s, u"//"_s}) : writePath());
            if (chance(5) && !atRoot)
                b.insert(u"d"_s, QJsonObject {{u"n"_s, increment()}});
            else if (chance(8)) // not an object: at the root, never one with keys outside /fuzz
                b.insert(u"d"_s, atRoot ? leaf() : value(2));
            else
                b.insert(u"d"_s, mergeData(atRoot));
        } else if (action == u"o"_s) {
            b = {{u"p"_s, writePath()}, {u"d"_s, value(4)}};
            if (chance(5))
                b.remove(u"d"_s);
        } else if (action == u"oc"_s) {
            b = {{u"p"_s, chance(15) ? u"/"_s : writePath()}, {u"d"_s, QJsonValue::Null}};
        } else if (action == u"q"_s || action == u"l"_s || action == u"n"_s) {
            b.insert(u"p"_s, readPath());
            if (action != u"n"_s && chance(80))
                b.insert(u"h"_s, pickValue({u""_s, u""_s, u"nope"_s, u"2jmj7l5rSw0yVb/vlWAYkK/YBwk="_s, 5}));
            if (chance(50)) {
                b.insert(u"q"_s, chance(90) ? QJsonValue(query()) : QJsonValue(u"q"_s));
                b.insert(u"t"_s, tag());
            }
        } else if (action == u"g"_s) {
            b.insert(u"p"_s, readPath());
            b.insert(u"q"_s, chance(70) ? QJsonValue(query()) : pickValue({QJsonObject(), u"x"_s, 5}));
        } else if (action == u"auth"_s) {
            b.insert(u"cred"_s, chance(50) ? QJsonValue(mockJwt()) : pickValue({u"x.y"_s, u""_s, u"a.b.c"_s, 5}));
        } else if (action == u"gauth"_s) {
            b.insert(u"cred"_s, chance(50) ? QJsonValue(u"owner"_s) : pickValue({u"Owner"_s, u""_s, 5}));
        } else if (action == u"s"_s) {
            b.insert(u"c"_s, QJsonObject {{u"sdk.js.12-19-0"_s, 1}});
        } else if (action == u"appcheck"_s) {
            b.insert(u"token"_s, u"x"_s);
        } else if (action != u"unauth"_s && action != u"unappeck"_s && action != u"lark.watch"_s) {
            b = object(2);
        }
        // A missing or wrongly typed path on a path action.
        if (PathActions.contains(action) && chance(3)) {
            const QJsonValue p = pickValue({5, QJsonValue::Null, true, QJsonArray {u"/fuzz"_s},
                QJsonObject {{u"p"_s, u"/fuzz"_s}}, QJsonValue::Undefined});
            if (p.isUndefined())
                b.remove(u"p"_s);
            else
                b.insert(u"p"_s, p);
        }
        return b;
    }

    QJsonValue action()
    {
        static const QList<std::pair<QString, int>> weighted = {{u"p"_s, 18}, {u"m"_s, 12}, {u"o"_s, 8}, {u"om"_s, 6},
            {u"oc"_s, 4}, {u"q"_s, 10}, {u"l"_s, 2}, {u"n"_s, 5}, {u"g"_s, 10}, {u"auth"_s, 2}, {u"gauth"_s, 2},
            {u"unauth"_s, 1}, {u"s"_s, 2}, {u"appcheck"_s, 1}, {u"unappeck"_s, 1}, {u"lark.watch"_s, 1}};
        int k = below(100);
        for (const auto &[name, weight] : weighted) {
            if (k < weight)
                return name;
            k -= weight;
        }
        if (k < 8) // 85..92: unknown actions
            return pick({u"x"_s, u""_s, u"P"_s, u"echo"_s, u"d"_s, u"pp"_s, u"q "_s, u"lark.watchx"_s,
                QString(200, u'a'), u"ä"_s, u"c"_s});
        if (k < 13) // wrong types
            return pickValue({5, QJsonValue::Null, true, QJsonArray {u"p"_s}, QJsonObject {{u"a"_s, u"p"_s}}});
        return QJsonValue::Undefined;
    }

    QJsonValue requestNumber(qint64 *nextR)
    {
        if (chance(96))
            return double((*nextR)++);
        return pickValue({QJsonValue::Undefined, u"5"_s, 1.5, true, QJsonValue::Null, -7, 0, 9007199254740992.0,
            qint64(std::numeric_limits<qint64>::min()), 0x1p63 - 1024, 0x1p63, 1e20, -1e300, QJsonArray {1},
            QJsonObject {{u"r"_s, 1}}});
    }

    QJsonObject request(qint64 *nextR)
    {
        QJsonObject d;
        if (const QJsonValue r = requestNumber(nextR); !r.isUndefined())
            d.insert(u"r"_s, r);
        const QJsonValue a = action();
        if (!a.isUndefined())
            d.insert(u"a"_s, a);
        if (const QJsonValue b = body(a); !b.isUndefined())
            d.insert(u"b"_s, b);
        if (chance(2))
            d.insert(u"x"_s, 1);
        return d;
    }

    QJsonObject control()
    {
        QJsonObject inner;
        const int k = below(10);
        if (k < 5)
            inner.insert(u"t"_s, u"p"_s);
        else if (k < 8)
            inner.insert(u"t"_s, pick({u"n"_s, u"a"_s, u"o"_s, u"h"_s, u"s"_s, u"r"_s, u"x"_s, u""_s, u"P"_s}));
        else if (k < 9)
            inner.insert(u"t"_s, pickValue({5, QJsonValue::Null, true, QJsonObject()}));
        if (chance(80))
            inner.insert(u"d"_s, chance(80) ? QJsonValue(QJsonObject()) : leaf());
        QJsonObject msg {{u"t"_s, u"c"_s}};
        if (chance(95))
            msg.insert(u"d"_s, inner);
        else if (chance(50))
            msg.insert(u"d"_s, u"p"_s);
        return msg;
    }

    QJsonObject badEnvelope(qint64 *nextR)
    {
        QJsonObject msg;
        if (chance(60)) {
            const QJsonValue t = pickValue({u"x"_s, u""_s, u"D"_s, u"dd"_s, u"C"_s, u"data"_s, 1, 0, QJsonValue::Null,
                true, QJsonArray {u"d"_s}, QJsonObject {{u"t"_s, u"d"_s}}, QJsonValue::Undefined});
            if (!t.isUndefined())
                msg.insert(u"t"_s, t);
            msg.insert(u"d"_s, request(nextR));
        } else {
            msg.insert(u"t"_s, chance(70) ? u"d"_s : u"c"_s);
            const QJsonValue d
                = pickValue({u"str"_s, 5, QJsonArray {request(nextR)}, QJsonValue::Null, true, QJsonValue::Undefined});
            if (!d.isUndefined())
                msg.insert(u"d"_s, d);
        }
        return msg;
    }

    /** A JSON text that does not come out of a QJsonObject: not an object, cut short, padded, repeated keys. */
    QString oddText(qint64 *nextR)
    {
        const qint64 r = (*nextR)++;
        const QString req = plainRequest(r, u"s"_s);
        switch (below(12)) {
        case 0:
            return u"[1,2,3]"_s;
        case 1:
            return u"\"t\""_s;
        case 2:
            return u"null"_s;
        case 3:
            return u"{}"_s;
        case 4:
            return req + u" x"_s;
        case 5:
            return req.left(1 + below(int(req.size()) - 1));
        case 6:
            return QString(); // an empty text frame
        case 7:
            return u" \n"_s + req + u"\t"_s;
        case 8:
            return QChar(0xFEFF) + req;
        case 9: // the parser keeps the last of repeated keys
            return u"{\"t\":\"x\",\"t\":\"d\",\"d\":{\"r\":%1,\"a\":\"s\",\"b\":{}}}"_s.arg(r);
        case 10:
            return u"{\"d\":{\"r\":%1,\"a\":\"s\"},\"t\":\"d\",\"d\":5}"_s.arg(r);
        default:
            return u"{\"t\":\"d\",\"d\":{\"r\":%1.0e0,\"a\":\"g\",\"b\":{\"p\":\"/fuzz\"}}}"_s.arg(r);
        }
    }

    QString oversize(qint64 *nextR)
    {
        const QJsonObject b {{u"p"_s, u"/fuzz/big"_s}, {u"d"_s, QString(int(Cap) + 1 + below(int(Cap)), u'o')}};
        return compact(
            {{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, double((*nextR)++)}, {u"a"_s, u"p"_s}, {u"b"_s, b}}}});
    }

    /** A read whose message is exactly the cap, a byte or two under, or a byte over. */
    QString atTheCap(qint64 *nextR)
    {
        const double r = double((*nextR)++);
        const qint64 target = Cap + (chance(50) ? 1 : -below(3));
        const auto build = [r](int pad) {
            const QJsonObject q {{u"i"_s, u".key"_s}, {u"sp"_s, QString(pad, u'k')}};
            const QJsonObject b {{u"p"_s, u"/fuzz"_s}, {u"q"_s, q}};
            return compact({{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, r}, {u"a"_s, u"g"_s}, {u"b"_s, b}}}});
        };
        return build(int(target - build(0).toUtf8().size()));
    }

    QRandomGenerator m_rng;
};

/** A request that must be answered. */
struct Expected {
    Fate fate;
    QString text;
};

/** One fuzz connection and what it is owed. */
struct FuzzConnection {
    std::unique_ptr<RawClient> client;
    QString sessionId;
    QString handle; // the session's public name, S<n>
    qint64 nextR = 1;
    QList<Expected> replies; // in the order sent
    qsizetype answered = 0;
    int pongsExpected = 0;
    int pongsSeen = 0;
    qsizetype checked = 0; // client->messages looked at
    std::optional<Expected> closing; // the message the server must close the connection for
    QStringList recent; // the last messages sent, for failure reports

    [[nodiscard]] int pongsArrived() const
    {
        int n = 0;
        for (const QJsonObject &m : std::as_const(client->messages)) {
            if (m.value(u"t"_s) == QJsonValue(u"c"_s) && m.value(u"d"_s).toObject().value(u"t"_s) == QJsonValue(u"o"_s))
                ++n;
        }
        return n;
    }
    /** Everything owed has arrived, or the connection is gone. */
    [[nodiscard]] bool settled() const
    {
        if (client->closed)
            return true;
        return !closing && client->replyOrder.size() >= replies.size() && pongsArrived() >= pongsExpected;
    }
};

} // namespace

// QVERIFY2 builds its message even when the check passes; these checks run for every message.
#define FUZZ_VERIFY(condition, message)                                                                                \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            QFAIL(qPrintable(context(message)));                                                                       \
    } while (false)

class TstFuzz : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void protocolFuzz_data();
    void protocolFuzz();
    void protocolFuzzWithDataFile_data();
    void protocolFuzzWithDataFile();
    void corruptingWrites_data();
    void corruptingWrites();

private:
    QString context(const QString &what) const { return m_case + u": "_s + what; }
    lark::Session *sessionById(const QString &id) const;
    const QJsonArray *firedOps(const QString &handle) const;
    QString culprits(const QString &problem) const;

    void open(FuzzConnection &c, Generator &gen);
    void sendOne(FuzzConnection &c, Generator &gen);
    void waitForAll(std::vector<FuzzConnection> &conns);
    void check(FuzzConnection &c, int index);
    void checkReply(FuzzConnection &c, const QJsonObject &d);
    void checkPush(const QJsonObject &d);
    void checkClosed(FuzzConnection &c, Generator &gen);
    void checkStoredTree();
    void checkBystander();
    void runSeed(quint32 seed);
    void finish(std::vector<FuzzConnection> &conns);
    void checkTreeOverTheWire();

    lark::ServerConfig m_config;
    QTemporaryDir m_dir; // protocolFuzzWithDataFile's data file
    std::unique_ptr<lark::Server> m_server;
    lark::Database *m_db = nullptr;
    std::unique_ptr<RawClient> m_bystander;
    QJsonObject m_dataBefore;
    int m_bystanderWrites = 0;
    QString m_case; // "seed N" or the data row, for failure messages
    QList<std::pair<QString, QJsonArray>> m_fired; // session handle, the ops it fired
    QList<std::pair<QString, int>> m_awaitingFire; // sessions the server closed: handle, ops queued (-1: unseen)
    QHash<QString, QString> m_endReasons; // session handle → why it ended
    QStringList m_okWrites; // writes the server accepted, for failure reports
};

void TstFuzz::init()
{
    // Long dead-after: the fuzz connections are never silent, and a slow (sanitized) run must not drop them. A short
    // grace: the sessions the server closes fire while the other connections go on writing.
    m_config = lark::ServerConfig();
    m_config.port = 0;
    m_config.pingIntervalMs = 1000;
    m_config.deadAfterMs = 60000;
    m_config.graceMs = 100;
    m_config.maxMessageBytes = Cap;
    if (QTest::currentTestFunction() == QByteArrayView("protocolFuzzWithDataFile"))
        m_config.dataFile = m_dir.filePath(QString::fromUtf8(QTest::currentDataTag()).replace(u' ', u'-') + u".lark"_s);
    m_server = startConfiguredServer(m_config);
    m_db = m_server->database(u"test"_s);
    m_fired.clear();
    m_awaitingFire.clear();
    m_endReasons.clear();
    m_okWrites.clear();
    m_bystanderWrites = 0;
    connect(m_server.get(), &lark::Server::opsFired, this, [this](const QJsonObject &session, const QJsonArray &ops) {
        m_fired.append({session.value(u"handle"_s).toString(), ops});
    });
    connect(m_server.get(), &lark::Server::sessionRemoved, this, [this](const QJsonObject &session) {
        m_endReasons.insert(session.value(u"handle"_s).toString(), session.value(u"endReason"_s).toString());
    });
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/bystander"_s}, {u"h"_s, u""_s}});
    m_dataBefore = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
    QCOMPARE(m_dataBefore.value(u"d"_s), QJsonValue(QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}));
}

void TstFuzz::cleanup()
{
    m_bystander.reset();
    m_db = nullptr;
    m_server.reset();
}

lark::Session *TstFuzz::sessionById(const QString &id) const
{
    for (lark::Session *s : m_server->sessions()) {
        if (s->id() == id)
            return s;
    }
    return nullptr;
}

const QJsonArray *TstFuzz::firedOps(const QString &handle) const
{
    for (const auto &[h, ops] : m_fired) {
        if (h == handle)
            return &ops;
    }
    return nullptr;
}

QString TstFuzz::culprits(const QString &problem) const
{
    // The last key named in the problem ("/fuzz/a/.info: key ..." → ".info"), searched in what the server accepted.
    const QString path = problem.section(u": "_s, 0, 0);
    const QString key = path.section(u'/', -1);
    QStringList found;
    for (const QString &w : m_okWrites) {
        if (!key.isEmpty() && w.contains(key))
            found.append(w);
    }
    for (const auto &[handle, ops] : m_fired) {
        for (const QJsonValue &op : ops) {
            const QString text = compact(op.toObject());
            if (!key.isEmpty() && text.contains(key))
                found.append(u"fired by %1: %2"_s.arg(handle, shown(text)));
        }
    }
    if (found.isEmpty())
        return {};
    return u"\n  accepted writes that name \"%1\" (last 3):\n    "_s.arg(shown(key))
        + found.mid(std::max<qsizetype>(0, found.size() - 3)).join(u"\n    "_s);
}

/** Rows "seed N" for first..last, or for the range in LARK_FUZZ_SEEDS=first-last (a longer hunt by hand). */
static void addSeedRows(quint32 first, quint32 last)
{
    QTest::addColumn<quint32>("seed");
    const QStringList range = qEnvironmentVariable("LARK_FUZZ_SEEDS").split(u'-');
    if (range.size() == 2 && range.at(0).toUInt() > 0 && range.at(1).toUInt() >= range.at(0).toUInt()) {
        first = range.at(0).toUInt();
        last = range.at(1).toUInt();
    }
    for (quint32 seed = first; seed <= last; ++seed)
        QTest::addRow("seed %u", seed) << seed;
}

void TstFuzz::protocolFuzz_data()
{
    addSeedRows(1, 5);
}

void TstFuzz::protocolFuzz()
{
    QFETCH(quint32, seed);
    runSeed(seed);
}

void TstFuzz::protocolFuzzWithDataFile_data()
{
    addSeedRows(1001, 1002);
}

void TstFuzz::protocolFuzzWithDataFile()
{
    // The same fuzz with --data: every reply still as predicted (write_failed is not among them), and a restart
    // from the file brings back exactly the tree the server held (docs/semantics.md §6).
    QFETCH(quint32, seed);
    QVERIFY(m_dir.isValid());
    runSeed(seed);
    if (QTest::currentTestFailed())
        return;
    const QJsonValue before = m_db->valueJson(lark::Path());
    m_bystander.reset();
    m_db = nullptr;
    m_server.reset();
    m_server = startConfiguredServer(m_config);
    m_db = m_server->database(u"test"_s);
    FUZZ_VERIFY(sameJson(m_db->valueJson(lark::Path()), before),
        u"the tree after a restart from the data file differs: %1"_s.arg(
            firstDifference(m_db->valueJson(lark::Path()), before, u"/"_s)));
    // Only the bystander's session was left; it comes back suspended.
    const QList<lark::Session *> sessions = m_server->sessions();
    FUZZ_VERIFY(sessions.size() == 1 && sessions.constFirst()->state() == lark::Session::State::Suspended,
        u"%1 sessions after the restart, expected the bystander's, suspended"_s.arg(sessions.size()));
}

void TstFuzz::runSeed(quint32 seed)
{
    m_case = u"seed %1"_s.arg(seed);
    Generator gen(seed);
    std::vector<FuzzConnection> conns(Connections);
    for (FuzzConnection &c : conns) {
        open(c, gen);
        if (QTest::currentTestFailed())
            return;
    }
    int sent = 0;
    const int messages = messagesPerSeed();
    for (int round = 1; sent < messages; ++round) {
        for (FuzzConnection &c : conns) {
            const int n = 1 + gen.below(12);
            for (int i = 0; i < n && !c.closing; ++i, ++sent)
                sendOne(c, gen);
        }
        waitForAll(conns);
        if (QTest::currentTestFailed())
            return;
        for (int i = 0; i < Connections; ++i) {
            check(conns[size_t(i)], i);
            if (QTest::currentTestFailed())
                return;
            if (conns[size_t(i)].closing)
                checkClosed(conns[size_t(i)], gen);
            if (QTest::currentTestFailed())
                return;
        }
        checkStoredTree();
        if (QTest::currentTestFailed())
            return;
        if (round % 10 == 0)
            checkBystander();
        if (QTest::currentTestFailed())
            return;
    }
    finish(conns);
}

void TstFuzz::open(FuzzConnection &c, Generator &gen)
{
    c = FuzzConnection();
    c.client = std::make_unique<RawClient>();
    // WebSocket-level fragmentation too: the server joins a message's frames before it reads the JSON.
    static const QList<quint64> frameSizes = {512 * 1024, 512 * 1024, 125, 1000, 16384};
    c.client->socket.setOutgoingFrameSize(frameSizes.at(gen.below(int(frameSizes.size()))));
    // RawClient::open(), without its 10 ms polling.
    c.client->socket.open(QUrl(u"ws://127.0.0.1:%1/.ws?v=5&ns=test"_s.arg(m_server->port())));
    FUZZ_VERIFY(waitFor([&c] { return !c.client->hello.isEmpty() || c.client->closed; }) && !c.client->hello.isEmpty(),
        u"a new connection got no hello"_s);
    c.sessionId = c.client->sessionId();
    const lark::Session *s = sessionById(c.sessionId);
    FUZZ_VERIFY(s, u"a new connection has no session"_s);
    c.handle = s->handle();
    FUZZ_VERIFY(c.client->messages.size() == 1, u"more than the hello before any request"_s);
    c.checked = 1;
}

void TstFuzz::sendOne(FuzzConnection &c, Generator &gen)
{
    const QString text = gen.next(&c.nextR);
    const Fate fate = predict(text.toUtf8());
    c.recent.append(shown(text));
    if (c.recent.size() > 6)
        c.recent.removeFirst();
    gen.send(*c.client, text);
    switch (fate.kind) {
    case Fate::Kind::Reply:
        c.replies.append({fate, text});
        break;
    case Fate::Kind::Pong:
        ++c.pongsExpected;
        break;
    case Fate::Kind::Close:
        c.closing = Expected {fate, text};
        break;
    case Fate::Kind::Nothing:
        break;
    }
}

void TstFuzz::waitForAll(std::vector<FuzzConnection> &conns)
{
    const auto settled = [&conns] {
        return std::all_of(conns.cbegin(), conns.cend(), [](const FuzzConnection &c) { return c.settled(); });
    };
    if (waitFor(settled, WaitMs))
        return;
    QString report;
    for (size_t i = 0; i < conns.size(); ++i) {
        const FuzzConnection &c = conns[i];
        report += u"\n  connection %1: %2 of %3 replies, %4 of %5 pongs, %6; last sent:\n    %7"_s.arg(i)
                      .arg(c.client->replyOrder.size())
                      .arg(c.replies.size())
                      .arg(c.pongsArrived())
                      .arg(c.pongsExpected)
                      .arg(c.closing ? u"waiting for the close of: "_s + shown(c.closing->text) : u"open"_s)
                      .arg(c.recent.join(u"\n    "_s));
    }
    QFAIL(qPrintable(context(u"the server did not answer everything it owes:"_s + report)));
}

void TstFuzz::check(FuzzConnection &c, int index)
{
    const QList<QJsonObject> &messages = c.client->messages;
    for (; c.checked < messages.size(); ++c.checked) {
        const QJsonObject &m = messages.at(c.checked);
        const QJsonObject d = m.value(u"d"_s).toObject();
        // The SDK throws on a data message with an error key (docs/wire-protocol.md §7).
        FUZZ_VERIFY(
            !m.contains(u"error"_s) && !d.contains(u"error"_s), u"a message with an error key: "_s + shown(compact(m)));
        const QString t = m.value(u"t"_s).toString();
        if (t == u"c"_s) {
            FUZZ_VERIFY(d.value(u"t"_s) == QJsonValue(u"o"_s) && d.contains(u"d"_s),
                u"connection %1: a control message other than a pong: %2"_s.arg(index).arg(shown(compact(m))));
            ++c.pongsSeen;
            FUZZ_VERIFY(c.pongsSeen <= c.pongsExpected, u"connection %1: a pong for no ping"_s.arg(index));
        } else if (t == u"d"_s && d.contains(u"r"_s)) {
            checkReply(c, d);
        } else if (t == u"d"_s) {
            checkPush(d);
        } else {
            QFAIL(qPrintable(context(u"connection %1: not a v5 message: %2"_s.arg(index).arg(shown(compact(m))))));
        }
        if (QTest::currentTestFailed())
            return;
    }
    if (c.closing)
        return; // checkClosed() looks at what arrived before the close
    FUZZ_VERIFY(!c.client->closed,
        u"connection %1 was closed (%2 \"%3\") though nothing it sent calls for that; last sent:\n    %4"_s.arg(index)
            .arg(int(c.client->socket.closeCode()))
            .arg(c.client->socket.closeReason(), c.recent.join(u"\n    "_s)));
    FUZZ_VERIFY(c.answered == c.replies.size() && c.pongsSeen == c.pongsExpected,
        u"connection %1: %2 replies for %3 requests, %4 pongs for %5 pings"_s.arg(index)
            .arg(c.answered)
            .arg(c.replies.size())
            .arg(c.pongsSeen)
            .arg(c.pongsExpected));
}

void TstFuzz::checkReply(FuzzConnection &c, const QJsonObject &d)
{
    const double r = d.value(u"r"_s).toDouble();
    FUZZ_VERIFY(c.answered < c.replies.size(), u"a reply (r=%1) to no request"_s.arg(r, 0, 'g', 17));
    const Expected &e = c.replies.at(c.answered++);
    // Order: every request is answered, in the order sent (docs/wire-protocol.md §6).
    FUZZ_VERIFY(r == e.fate.r,
        u"reply %1 carries r=%2, but the request it answers has r=%3: %4"_s.arg(c.answered)
            .arg(r, 0, 'g', 17)
            .arg(e.fate.r, 0, 'g', 17)
            .arg(shown(e.text)));
    const QJsonObject b = d.value(u"b"_s).toObject();
    const QJsonValue s = b.value(u"s"_s);
    FUZZ_VERIFY(d.value(u"b"_s).isObject() && s.isString() && KnownStatuses.contains(s.toString()),
        u"reply with no or an unknown status: %1 to %2"_s.arg(shown(compact(d)), shown(e.text)));
    if (s != QJsonValue(u"ok"_s)) {
        // docs/semantics.md §7: a refused request gets a readable message in d.
        FUZZ_VERIFY(b.value(u"d"_s).isString() && !b.value(u"d"_s).toString().isEmpty(),
            u"refusal without a message: %1 to %2"_s.arg(shown(compact(d)), shown(e.text)));
    }
    if (const QString must = statusFor(e.fate); !must.isEmpty()) {
        FUZZ_VERIFY(s.toString() == must,
            u"status %1 (%2) where %3 is due, to %4"_s.arg(
                s.toString(), shown(b.value(u"d"_s).toString()), must, shown(e.text)));
    }
    if (s == QJsonValue(u"ok"_s) && WriteActions.contains(e.fate.action.toString()))
        m_okWrites.append(shown(e.text));
}

void TstFuzz::checkPush(const QJsonObject &d)
{
    const QString a = d.value(u"a"_s).toString();
    const QJsonObject b = d.value(u"b"_s).toObject();
    if (a.startsWith(u"lark."_s))
        return; // the admin feed of a connection that signed in as "owner" and watches
    FUZZ_VERIFY(a == u"d"_s || a == u"m"_s, u"a push with an unknown action: "_s + shown(compact(d)));
    const QString p = b.value(u"p"_s).toString();
    FUZZ_VERIFY(p.startsWith(u'/'), u"a push without an absolute path: "_s + shown(compact(d)));
    const int depth = int(p.split(u'/', Qt::SkipEmptyParts).size());
    QString why;
    if (a == u"d"_s) {
        const QJsonValue data = b.value(u"d"_s);
        if (!data.isNull())
            why = exportProblem(data, p, depth);
    } else {
        FUZZ_VERIFY(b.value(u"d"_s).isObject(), u"a merge push without an object: "_s + shown(compact(d)));
        const QJsonObject merge = b.value(u"d"_s).toObject();
        for (auto it = merge.constBegin(); it != merge.constEnd() && why.isEmpty(); ++it) {
            if (!it.value().isNull()) {
                why = exportProblem(
                    it.value(), childPath(p, it.key()), depth + int(it.key().split(u'/', Qt::SkipEmptyParts).size()));
            }
        }
    }
    FUZZ_VERIFY(why.isEmpty(),
        u"a push carries data no database can hold: %1 in %2%3"_s.arg(why, shown(compact(d)), culprits(why)));
}

void TstFuzz::checkClosed(FuzzConnection &c, Generator &gen)
{
    const Expected &e = *c.closing;
    FUZZ_VERIFY(c.client->closed, u"the connection stayed open after "_s + shown(e.text));
    // Everything before the closing message was answered, and the close says why (docs/semantics.md §7).
    FUZZ_VERIFY(c.answered == c.replies.size() && c.pongsSeen == c.pongsExpected,
        u"closed after %1 of %2 replies and %3 of %4 pongs; closing message: %5"_s.arg(c.answered)
            .arg(c.replies.size())
            .arg(c.pongsSeen)
            .arg(c.pongsExpected)
            .arg(shown(e.text)));
    const int code = int(c.client->socket.closeCode());
    const QString reason = c.client->socket.closeReason();
    FUZZ_VERIFY(code == e.fate.closeCode && !reason.isEmpty() && reason.contains(e.fate.reason),
        u"closed with %1 \"%2\" where %3 with a reason about \"%4\" is due, for %5"_s.arg(code)
            .arg(reason)
            .arg(e.fate.closeCode)
            .arg(e.fate.reason, shown(e.text)));
    // An abnormal loss: the session is suspended with its ops, which fire when the grace ends.
    const QString id = c.sessionId;
    FUZZ_VERIFY(waitFor(
                    [&] {
                        const lark::Session *s = sessionById(id);
                        return !s || s->state() != lark::Session::State::Live;
                    },
                    WaitMs),
        u"the session of a connection the server closed stayed live"_s);
    // (It may have fired already when the grace is over; finish() checks that it ended by its grace, not at once.)
    const lark::Session *s = sessionById(id);
    FUZZ_VERIFY(!s || s->state() == lark::Session::State::Suspended,
        u"the session of a connection closed for bad input was not suspended"_s);
    m_awaitingFire.append({c.handle, s ? int(s->queue().ops().size()) : -1});
    open(c, gen);
}

void TstFuzz::checkStoredTree()
{
    const lark::Node &root = m_db->root();
    if (root.isNull())
        return;
    const QString why = nodeProblem(root, u"/"_s, 0);
    FUZZ_VERIFY(why.isEmpty(), u"the stored tree is corrupt: "_s + why + culprits(why));
    // Every write is under /fuzz: /data and /bystander belong to the bystander.
    for (const auto &[key, child] : root.children()) {
        FUZZ_VERIFY(key == u"data"_s || key == u"fuzz"_s || key == u"bystander"_s,
            u"a fuzz write landed outside /fuzz, at /%1%2"_s.arg(shown(key), culprits(u"/"_s + key + u": "_s)));
    }
    FUZZ_VERIFY(root.priority().isNull(), u"the root got a priority"_s);
}

void TstFuzz::checkBystander()
{
    FUZZ_VERIFY(!m_bystander->closed, u"the bystander's connection was closed"_s);
    const QJsonObject data = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
    FUZZ_VERIFY(data == m_dataBefore, u"the bystander's /data changed: "_s + shown(compact(data)));
    const QString path = u"/bystander/%1"_s.arg(++m_bystanderWrites);
    const QJsonObject reply = m_bystander->call(u"p"_s, {{u"p"_s, path}, {u"d"_s, m_bystanderWrites}});
    FUZZ_VERIFY(replyStatus(reply) == u"ok"_s, u"the bystander's write was refused: "_s + shown(compact(reply)));
    FUZZ_VERIFY(!m_bystander->waitPush(pushAt(u"d"_s, path), WaitMs).isEmpty(),
        u"the bystander did not get the push of its own write"_s);
}

void TstFuzz::finish(std::vector<FuzzConnection> &conns)
{
    // A last request on each connection: once it is answered, everything sent before it has been (in order).
    for (FuzzConnection &c : conns) {
        const QString text = Generator::plainRequest(c.nextR++, u"s"_s);
        c.replies.append({predict(text.toUtf8()), text});
        c.client->sendRaw(text);
    }
    waitForAll(conns);
    if (QTest::currentTestFailed())
        return;
    for (int i = 0; i < Connections; ++i) {
        check(conns[size_t(i)], i);
        if (QTest::currentTestFailed())
            return;
    }

    // The sessions the server closed fire when their grace ends, each with every op it had queued.
    FUZZ_VERIFY(waitFor(
                    [this] {
                        const QList<lark::Session *> sessions = m_server->sessions();
                        return std::all_of(sessions.cbegin(), sessions.cend(),
                            [](const lark::Session *s) { return s->state() == lark::Session::State::Live; });
                    },
                    WaitMs),
        u"suspended sessions did not end after their grace"_s);
    for (const auto &[handle, queued] : std::as_const(m_awaitingFire)) {
        FUZZ_VERIFY(m_endReasons.value(handle) == u"timeout"_s,
            u"%1, closed by the server for bad input, ended by \"%2\", not by its grace"_s.arg(
                handle, m_endReasons.value(handle)));
        if (queued < 0)
            continue; // it had fired before its ops were counted
        const QJsonArray *fired = firedOps(handle);
        FUZZ_VERIFY(queued == 0 ? !fired : fired && fired->size() == queued,
            u"%1 had %2 ops queued when the server closed it, and fired %3"_s.arg(handle).arg(queued).arg(
                fired ? fired->size() : 0));
    }
    checkStoredTree();
    if (QTest::currentTestFailed())
        return;

    // Clean closes fire at once; nothing else writes meanwhile, so each op's value is what the tree holds after.
    for (FuzzConnection &c : conns) {
        const lark::Session *s = sessionById(c.sessionId);
        FUZZ_VERIFY(s && s->state() == lark::Session::State::Live, u"a fuzz connection's session is not live"_s);
        const QString handle = s->handle();
        const qsizetype queued = qsizetype(s->queue().ops().size());
        c.client->socket.close();
        const QString id = c.sessionId;
        FUZZ_VERIFY(waitFor([&] { return !sessionById(id); }, WaitMs) && m_endReasons.value(handle) == u"clean close"_s,
            u"%1 did not end as a clean close: \"%2\""_s.arg(handle, m_endReasons.value(handle)));
        const QJsonArray *fired = firedOps(handle);
        FUZZ_VERIFY(queued == 0 ? !fired : fired && fired->size() == queued,
            u"%1 had %2 ops queued, and fired %3"_s.arg(handle).arg(queued).arg(fired ? fired->size() : 0));
        for (const QJsonValue &op : fired ? *fired : QJsonArray()) {
            const QString path = op.toObject().value(u"path"_s).toString();
            lark::Path at;
            QString why;
            if (!lark::Path::parse(path, &at, &why)) {
                // The writes that queued it name the path up to its first bad key.
                const QStringList keys = path.split(u'/', Qt::SkipEmptyParts);
                qsizetype bad = 0;
                while (bad < keys.size() - 1 && keyProblem(keys.at(bad)).isEmpty())
                    ++bad;
                const QString upToBad = u"/"_s + keys.mid(0, bad + 1).join(u'/');
                QFAIL(qPrintable(context(
                    u"%1 fired at a path it cannot name: %2%3"_s.arg(handle, why, culprits(upToBad + u": "_s)))));
            }
            // A priority lands only on a node that exists (Firebase drops it otherwise): not compared.
            if (!at.isRoot() && at.back() == u".priority"_s)
                continue;
            const QJsonValue value = op.toObject().value(u"value"_s);
            FUZZ_VERIFY(sameJson(m_db->valueJson(at), value),
                u"%1 fired %2, but the tree holds %3"_s.arg(
                    handle, shown(compact(op.toObject())), firstDifference(m_db->valueJson(at), value, path)));
        }
        checkStoredTree();
        if (QTest::currentTestFailed())
            return;
    }
    checkTreeOverTheWire();
    if (QTest::currentTestFailed())
        return;
    checkBystander();
}

void TstFuzz::checkTreeOverTheWire()
{
    // A fresh client reads the whole tree: it must be what the server holds, and a tree Firebase could hold.
    RawClient reader;
    FUZZ_VERIFY(reader.open(m_server->port()), u"a fresh reader got no hello"_s);
    const QJsonObject got = reader.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}});
    FUZZ_VERIFY(replyStatus(got) == u"ok"_s, u"reading the root failed: "_s + shown(compact(got)));
    const QJsonValue wire = got.value(u"d"_s);
    const QJsonValue local = m_db->valueJson(lark::Path());
    FUZZ_VERIFY(sameJson(wire, local),
        u"the tree over the wire differs from the server's own at "_s + firstDifference(wire, local, u"/"_s));
    const QString why = exportProblem(wire, u"/"_s, 0);
    FUZZ_VERIFY(why.isEmpty(), u"the tree over the wire is not a Firebase tree: "_s + why + culprits(why));
    FUZZ_VERIFY(sameJson(wire.toObject().value(u"data"_s), m_dataBefore.value(u"d"_s)), u"/data changed"_s);

    // The same through a listen (a hash the client cannot have, so the data is pushed even when it is null).
    const lark::Path fuzz(QStringList {u"fuzz"_s});
    FUZZ_VERIFY(replyStatus(reader.call(u"q"_s, {{u"p"_s, u"/fuzz"_s}, {u"h"_s, u"-"_s}})) == u"ok"_s,
        u"listening to /fuzz failed"_s);
    const QJsonObject push = reader.waitPush(pushAt(u"d"_s, u"/fuzz"_s), WaitMs);
    FUZZ_VERIFY(!push.isEmpty(), u"a listen to /fuzz got no data"_s);
    FUZZ_VERIFY(sameJson(pushData(push), m_db->valueJson(fuzz)),
        u"the listen's /fuzz differs from the server's own at "_s
            + firstDifference(pushData(push), m_db->valueJson(fuzz), u"/fuzz"_s));
}

void TstFuzz::corruptingWrites_data()
{
    // What the fuzz found, each reduced to the fewest requests: written, or queued and fired, they must either be
    // refused or leave a tree a Firebase database can hold (docs/semantics.md §7: bad input never corrupts data).
    QTest::addColumn<QJsonArray>("requests"); // {"a": action, "b": body}, sent in order
    const auto req = [](const QString &a, const QString &p, const QJsonValue &d) {
        return QJsonObject {{u"a"_s, a}, {u"b"_s, QJsonObject {{u"p"_s, p}, {u"d"_s, d}}}};
    };
    const QJsonObject maxIncrement {{u".sv"_s, QJsonObject {{u"increment"_s, 1.7976931348623157e308}}}};
    QTest::newRow("increment past the largest double")
        << QJsonArray {req(u"p"_s, u"/fuzz/n"_s, 1.7976931348623157e308), req(u"p"_s, u"/fuzz/n"_s, maxIncrement)};
    QTest::newRow("update below a .priority path")
        << QJsonArray {req(u"p"_s, u"/fuzz/a"_s, 1), req(u"m"_s, u"/fuzz/a/.priority"_s, QJsonObject {{u"b"_s, 1}})};
    QTest::newRow("onDisconnect update below a .priority path")
        << QJsonArray {req(u"om"_s, u"/fuzz/a/.priority"_s, QJsonObject {{u"b"_s, 1}})};
    QTest::newRow("update with an .info key") << QJsonArray {req(u"m"_s, u"/fuzz"_s, QJsonObject {{u".info"_s, 1}})};
    QTest::newRow("update of .info from the root")
        << QJsonArray {req(u"m"_s, u"/"_s, QJsonObject {{u".info/connected"_s, true}})};
    const QJsonObject timestamp {{u".sv"_s, u"timestamp"_s}};
    QTest::newRow("onDisconnect cancel below a queued server value")
        << QJsonArray {req(u"o"_s, u"/fuzz/t"_s, timestamp), req(u"oc"_s, u"/fuzz/t/x"_s, QJsonValue())};
    QTest::newRow("onDisconnect update with an .info key")
        << QJsonArray {req(u"om"_s, u"/fuzz"_s, QJsonObject {{u".info/x"_s, 1}})};
}

void TstFuzz::corruptingWrites()
{
    QFETCH(QJsonArray, requests);
    m_case = QString::fromUtf8(QTest::currentDataTag());
    RawClient writer;
    QVERIFY(writer.open(m_server->port()));
    QString replies;
    for (const QJsonValue &r : std::as_const(requests)) {
        const QJsonObject reply = writer.call(r[u"a"_s].toString(), r[u"b"_s].toObject());
        QVERIFY2(!replyStatus(reply).isEmpty(), qPrintable(context(u"no reply to "_s + compact(r.toObject()))));
        replies += u"\n  "_s + compact(r.toObject()) + u" → "_s + compact(reply);
    }
    // Queued ops fire on a clean close.
    const QString id = writer.sessionId();
    writer.socket.close();
    QVERIFY(waitFor([&] { return !sessionById(id); }));
    checkStoredTree();
    if (QTest::currentTestFailed()) {
        qInfo().noquote() << "the requests and their replies:" << replies;
        return;
    }
    checkTreeOverTheWire();
    if (QTest::currentTestFailed())
        qInfo().noquote() << "the requests and their replies:" << replies;
}

QTEST_GUILESS_MAIN(TstFuzz)
#include "tst_fuzz.moc"
