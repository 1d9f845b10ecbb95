// SPDX-License-Identifier: MIT
#include "messages.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

using namespace Qt::Literals::StringLiterals;

namespace lark::protocol
{

bool toInt64(const QJsonValue &v, qint64 *out)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    // [-2^63, 2^63): 2^63 itself does not fit. NaN fails both comparisons.
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d))
        return false;
    *out = qint64(d);
    return true;
}

EnvelopeError parseEnvelope(const QByteArray &utf8, Envelope *out, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = u"invalid JSON: "_s + pe.errorString();
        return EnvelopeError::NotJson;
    }
    const QJsonObject msg = doc.object();
    const QString t = msg.value(u"t"_s).toString();
    const QJsonObject d = msg.value(u"d"_s).toObject();
    if (!doc.isObject() || !msg.value(u"d"_s).isObject() || (t != u"c"_s && t != u"d"_s)) {
        *error = u"not a v5 envelope {\"t\":\"c\"|\"d\",\"d\":{}}"_s;
        return EnvelopeError::NotEnvelope;
    }
    if (t == u"c"_s) {
        out->kind = Envelope::Kind::Control;
        out->type = d.value(u"t"_s).toString();
        return EnvelopeError::None;
    }
    if (!toInt64(d.value(u"r"_s), &out->r)) {
        *error = u"data message without a request number r"_s;
        return EnvelopeError::NoRequestNumber;
    }
    out->kind = Envelope::Kind::Data;
    out->action = d.value(u"a"_s).toString();
    out->body = d.value(u"b"_s);
    return EnvelopeError::None;
}

QByteArray encode(const QJsonObject &message)
{
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

QByteArray hello(qint64 serverTimeMs, const QString &host, const QString &sessionId)
{
    const QJsonObject h {{u"ts"_s, double(serverTimeMs)}, {u"v"_s, u"5"_s}, {u"h"_s, host}, {u"s"_s, sessionId}};
    return encode({{u"t"_s, u"c"_s}, {u"d"_s, QJsonObject {{u"t"_s, u"h"_s}, {u"d"_s, h}}}});
}

QByteArray pong()
{
    return QByteArrayLiteral(R"({"t":"c","d":{"t":"o","d":null}})");
}

QByteArray reply(qint64 r, const QString &status, const QJsonValue &data)
{
    // Most replies are {"s":"ok","d":""}: write those bytes directly (the same bytes encode() gives, keys sorted)
    // instead of building and serializing two QJsonObjects per request; it showed in the write profile.
    if (data.isString() && status == u"ok"_s && data.toString().isEmpty())
        return "{\"d\":{\"b\":{\"d\":\"\",\"s\":\"ok\"},\"r\":" + QByteArray::number(r) + "},\"t\":\"d\"}";
    const QJsonObject b {{u"s"_s, status}, {u"d"_s, data}};
    return encode({{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, double(r)}, {u"b"_s, b}}}});
}

static QByteArray push(const QString &action, const QString &path, const QJsonValue &data, qint64 tag)
{
    QJsonObject b {{u"p"_s, path}, {u"d"_s, data}};
    if (tag > 0)
        b.insert(u"t"_s, double(tag));
    return encode({{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"a"_s, action}, {u"b"_s, b}}}});
}

QByteArray dataPush(const QString &path, const QJsonValue &data, qint64 tag)
{
    return push(u"d"_s, path, data, tag);
}

QByteArray mergePush(const QString &path, const QJsonObject &data, qint64 tag)
{
    return push(u"m"_s, path, data, tag);
}

QByteArray authRevoked(const QString &status, const QString &reason)
{
    return encode({{u"t"_s, u"d"_s},
        {u"d"_s, QJsonObject {{u"a"_s, u"ac"_s}, {u"b"_s, QJsonObject {{u"s"_s, status}, {u"d"_s, reason}}}}}});
}

QByteArray listenRevoked(const QString &path, const QJsonObject &q)
{
    QJsonObject body {{u"p"_s, path}};
    if (!q.isEmpty()) // an array: the SDK joins the keys of its items into the listen's query id
        body.insert(u"q"_s, QJsonArray {q});
    return encode({{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"a"_s, u"c"_s}, {u"b"_s, body}}}});
}

QByteArray extensionPush(const QString &action, const QJsonValue &body)
{
    return encode({{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"a"_s, action}, {u"b"_s, body}}}});
}

} // namespace lark::protocol
