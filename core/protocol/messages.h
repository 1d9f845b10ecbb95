// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

namespace lark::protocol
{

/** Envelope builders for the v5 wire protocol (docs/wire-protocol.md §3–§7). All return compact UTF-8 JSON. */

/** The hello: {"t":"c","d":{"t":"h","d":{"ts","v":"5","h","s"}}}. */
[[nodiscard]] QByteArray hello(qint64 serverTimeMs, const QString &host, const QString &sessionId);
/** Answer to the client's control ping. The inner `d` must be present or the SDK ignores it. */
[[nodiscard]] QByteArray pong();
/** Reply to request r: {"t":"d","d":{"r":r,"b":{"s":status,"d":data}}}. */
[[nodiscard]] QByteArray reply(qint64 r, const QString &status, const QJsonValue &data = QString());
/** Overwrite push at path, with the listen's tag when it has one (tag > 0). */
[[nodiscard]] QByteArray dataPush(const QString &path, const QJsonValue &data, qint64 tag = 0);
/** Merge push: each key of data (may be multi-segment) is an overwrite below path. */
[[nodiscard]] QByteArray mergePush(const QString &path, const QJsonObject &data, qint64 tag = 0);
/**
 * Auth revoked: {"t":"d","d":{"a":"ac","b":{"s":status,"d":reason}}}. The SDK drops its token, closes, reconnects
 * and authenticates again with a freshly fetched one (docs/wire-protocol.md §7).
 */
[[nodiscard]] QByteArray authRevoked(const QString &status, const QString &reason);
/**
 * Listen revoked: {"t":"d","d":{"a":"c","b":{"p":path[,"q":[q]]}}}. The SDK cancels that listen with
 * permission_denied; q, the tagged listen's query object as the client sent it, is how it finds a filtered one.
 */
[[nodiscard]] QByteArray listenRevoked(const QString &path, const QJsonObject &q);
/** Server push of a Lark extension action (docs/protocol-extensions.md). */
[[nodiscard]] QByteArray extensionPush(const QString &action, const QJsonValue &body);

[[nodiscard]] QByteArray encode(const QJsonObject &message);

/**
 * v as a whole number, if it is one that fits a qint64 (a request number r, a tag, a timestamp). JSON numbers
 * are doubles: casting one out of range (1e20) would be undefined behaviour, so this checks first.
 */
[[nodiscard]] bool toInt64(const QJsonValue &v, qint64 *out);

/** A client message's v5 envelope (docs/wire-protocol.md §3), as the server reads it. */
struct Envelope {
    enum class Kind {
        Control, /**< {"t":"c","d":{"t":type}}: type "p" is the client's ping */
        Data, /**< {"t":"d","d":{"r":r,"a":action,"b":body}}: a request */
    };
    Kind kind = Kind::Control;
    QString type; /**< Control: the inner t */
    qint64 r = 0; /**< Data: the request number, a whole number */
    QString action; /**< Data: a, empty when missing or not a string */
    QJsonValue body; /**< Data: b as sent, undefined when missing */
};

/** Why a message is not an envelope; each closes the connection (docs/semantics.md §7). */
enum class EnvelopeError {
    None,
    NotJson, /**< close code 1007 */
    NotEnvelope, /**< 1002: not {"t":"c"|"d","d":{}} */
    NoRequestNumber, /**< 1002: a data message without a whole-number r */
};

/** Parses one joined message into *out; on failure, *error is the reason for the close frame. */
[[nodiscard]] EnvelopeError parseEnvelope(const QByteArray &utf8, Envelope *out, QString *error);

} // namespace lark::protocol
