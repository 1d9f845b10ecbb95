// SPDX-License-Identifier: MIT
#include "fuzzgenerator.h"

#include "fuzzoracle.h"
#include "rawclient.h"

#include <QJsonArray>

#include <algorithm>
#include <limits>
#include <utility>

using namespace Qt::Literals::StringLiterals;

QString Generator::next(qint64 *nextR)
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

void Generator::send(RawClient &client, const QString &text)
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

QString Generator::plainRequest(qint64 r, const QString &action)
{
    return compact(
        {{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, double(r)}, {u"a"_s, action}, {u"b"_s, QJsonObject()}}}});
}

QString Generator::goodKey()
{
    static const QStringList pool = {u"a"_s, u"b"_s, u"c"_s, u"n"_s, u"0"_s, u"1"_s, u"2"_s, u"10"_s, u"-1"_s, u"007"_s,
        u"x y"_s, u"ü"_s, u"日本"_s, u"\U0001F600"_s, u"-Nx1"_s, u"2147483648"_s};
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

QString Generator::edgeKey()
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
    return pick({u"."_s, u"$"_s, u"#"_s, u"["_s, u"]"_s, u"a.b"_s, u"a$"_s, u"#x"_s, u"[0]"_s, u"\u0001"_s, u"\u001f"_s,
        u"\u007f"_s, u"a\nb"_s, u"\t"_s, QString(QChar(0)), u".value"_s, u".sv"_s, u".info"_s, u".priority"_s, u".."_s,
        u"[MIN_NAME]"_s});
}

QString Generator::writePath()
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

QString Generator::readPath()
{
    if (chance(50))
        return writePath();
    return pick({u"/"_s, u""_s, u"//"_s, u"/data"_s, u"/data/a"_s, u"/fuzz"_s, u"/fuzz/a"_s, u"/.info"_s,
        u"/.info/connected"_s, u"/bystander"_s, u"/nope"_s, u"/a.b"_s, u"/fuzz/.priority"_s, u"/fuzz/a/.priority"_s});
}

QJsonValue Generator::hugeNumber()
{
    return pickValue({1.7976931348623157e308, -1.7976931348623157e308, 1e300, 9007199254740992.0, 9007199254740993.0,
        -0x1p63, 0x1p63 - 1024, 5e-324, -1e-300, 4294967296.0});
}

QJsonValue Generator::leaf()
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

QJsonValue Generator::priority()
{
    return pickValue({1, -2.5, u"p"_s, u""_s, QJsonValue::Null, true, QJsonObject {{u"a"_s, 1}}, QJsonArray {1},
        QJsonObject {{u".sv"_s, u"timestamp"_s}}, hugeNumber()});
}

QJsonValue Generator::increment()
{
    const QJsonValue delta = chance(40)
        ? hugeNumber()
        : pickValue({1, -1, 2.5, 0, u"1"_s, QJsonValue::Null, true, QJsonObject(), 1e308, 1.7976931348623157e308});
    return QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, delta}}}};
}

QJsonValue Generator::serverValue()
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

QJsonValue Generator::withPriority(int depth)
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

QJsonObject Generator::object(int depth)
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

QJsonValue Generator::deepChain()
{
    QJsonValue v = leaf();
    const int n = 26 + below(10);
    for (int i = 0; i < n; ++i)
        v = QJsonObject {{goodKey(), v}};
    return v;
}

QJsonValue Generator::value(int depth)
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

QJsonObject Generator::mergeData(bool atRoot)
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

QJsonValue Generator::bound()
{
    return chance(85) ? leaf() : QJsonValue(QJsonObject {{u"a"_s, 1}});
}

QJsonObject Generator::query()
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

QJsonValue Generator::tag()
{
    return pickValue({1, 2, 7, 1000000, 0, -3, 1.5, 1e300, u"1"_s, QJsonValue::Null});
}

QString Generator::mockJwt()
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

QJsonValue Generator::body(const QJsonValue &actionValue)
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

QJsonValue Generator::action()
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
        return pick({u"x"_s, u""_s, u"P"_s, u"echo"_s, u"d"_s, u"pp"_s, u"q "_s, u"lark.watchx"_s, QString(200, u'a'),
            u"ä"_s, u"c"_s});
    if (k < 13) // wrong types
        return pickValue({5, QJsonValue::Null, true, QJsonArray {u"p"_s}, QJsonObject {{u"a"_s, u"p"_s}}});
    return QJsonValue::Undefined;
}

QJsonValue Generator::requestNumber(qint64 *nextR)
{
    if (chance(96))
        return double((*nextR)++);
    return pickValue({QJsonValue::Undefined, u"5"_s, 1.5, true, QJsonValue::Null, -7, 0, 9007199254740992.0,
        qint64(std::numeric_limits<qint64>::min()), 0x1p63 - 1024, 0x1p63, 1e20, -1e300, QJsonArray {1},
        QJsonObject {{u"r"_s, 1}}});
}

QJsonObject Generator::request(qint64 *nextR)
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

QJsonObject Generator::control()
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

QJsonObject Generator::badEnvelope(qint64 *nextR)
{
    QJsonObject msg;
    if (chance(60)) {
        const QJsonValue t = pickValue({u"x"_s, u""_s, u"D"_s, u"dd"_s, u"C"_s, u"data"_s, 1, 0, QJsonValue::Null, true,
            QJsonArray {u"d"_s}, QJsonObject {{u"t"_s, u"d"_s}}, QJsonValue::Undefined});
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

QString Generator::oddText(qint64 *nextR)
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

QString Generator::oversize(qint64 *nextR)
{
    const QJsonObject b {{u"p"_s, u"/fuzz/big"_s}, {u"d"_s, QString(int(Cap) + 1 + below(int(Cap)), u'o')}};
    return compact(
        {{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, double((*nextR)++)}, {u"a"_s, u"p"_s}, {u"b"_s, b}}}});
}

QString Generator::atTheCap(qint64 *nextR)
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
