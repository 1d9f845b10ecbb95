// SPDX-License-Identifier: MIT
#include "eventstream.h"

#include "logging.h"
#include "server.h"
#include "websocket.h"

#include "db/database.h"
#include "protocol/httpmessage.h"

#include <QDateTime>
#include <QTimer>

#include <algorithm>
#include <limits>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

QByteArray SseEncoder::block(QByteArrayView name, QByteArrayView data)
{
    return "event: " + name.toByteArray() + "\ndata: " + data.toByteArray() + "\n\n";
}

const SseEncoder::Encoded &SseEncoder::encode(
    const SharedEvent &event, const Path &at, bool exportFormat, const Database &db)
{
    if (event != m_last) {
        m_last = event;
        m_byPath.clear();
        m_lastAnswer = nullptr;
    } else if (m_lastAnswer && exportFormat == m_lastExport && at == m_lastPath) {
        return *m_lastAnswer;
    }
    const QString key = exportFormat ? u'!' + at.toString() : at.toString();
    if (const auto it = m_byPath.constFind(key); it != m_byPath.constEnd()) {
        m_lastAnswer = &*it;
        m_lastPath = at;
        m_lastExport = exportFormat;
        return *it;
    }
    const auto plain = [exportFormat](const QJsonValue &v) { return exportFormat ? v : withoutPriorities(v); };
    const auto put = [&](const Path &where, const QJsonValue &value) {
        return block("put",
            protocol::jsonBytes(QJsonObject {{u"path"_s, where.relativeTo(at).toString()}, {u"data"_s, plain(value)}}));
    };
    QByteArray out;
    if (!at.contains(event->path)) {
        out = put(at, db.valueJson(at)); // not sent by the tree (its events lie at or below a listen); safe anyway
    } else if (event->kind == DataEvent::Kind::Overwrite) {
        out = put(event->path, event->value);
    } else {
        // A patch replaces each key under its path, so a deeper key (`x/z`) becomes its first segment's whole new
        // value: one event, one step for the client (docs/rest.md §6).
        const QJsonObject values = event->value.toObject();
        QJsonObject children;
        bool whole = false;
        for (auto it = values.begin(); it != values.end(); ++it) {
            const QString &rel = it.key();
            const qsizetype slash = rel.indexOf(u'/');
            if (rel.isEmpty() || slash == 0) {
                whole = true; // the merge's own location: a put
                break;
            }
            if (slash < 0) {
                children.insert(rel, plain(it.value()));
                continue;
            }
            const QString first = rel.left(slash);
            if (!children.contains(first))
                children.insert(first, plain(db.valueJson(event->path.child(first))));
        }
        out = whole ? put(event->path, db.valueJson(event->path))
                    : block("patch",
                        protocol::jsonBytes(
                            QJsonObject {{u"path"_s, event->path.relativeTo(at).toString()}, {u"data"_s, children}}));
    }
    // QHash keeps its values where they are until it is changed: the pointer is reset before the next insert.
    m_lastAnswer = &*m_byPath.insert(key, Encoded {out, db.hashAt(at)});
    m_lastPath = at;
    m_lastExport = exportFormat;
    return *m_lastAnswer;
}

EventStream::EventStream(Server *server, Spec spec, QString handle)
    : m_server(server)
    , m_spec(std::move(spec))
    , m_handle(std::move(handle))
    , m_openedAt(QDateTime::currentMSecsSinceEpoch())
    , m_filtered(!m_spec.query.loadsAllData())
{
    m_lastHash = m_spec.db->hashAt(m_spec.path);
}

EventStream::~EventStream()
{
    m_spec.db->unlisten(this, m_spec.path, m_spec.query.identifier());
}

void EventStream::attach(ServerWebSocket *socket)
{
    m_socket = socket;
    socket->setParent(this);
    connect(socket, &ServerWebSocket::disconnected, this, [this] {
        if (m_endReason.isEmpty())
            m_endReason = u"closed by the client"_s;
        Q_EMIT ended(this, m_endReason);
    });
    // The tree sends nothing for an empty location: the first event is still its value, null.
    if (m_pending.isEmpty())
        m_pending = SseEncoder::block("put", R"({"data":null,"path":"/"})"); // as jsonBytes orders keys
    send(std::exchange(m_pending, {}));
    if (m_spec.tokenExpiresAtMs > 0) {
        // A single shot on demand, not a timer per stream: most streams carry no token that expires.
        const qint64 in = std::clamp<qint64>(
            m_spec.tokenExpiresAtMs - QDateTime::currentMSecsSinceEpoch(), 0, std::numeric_limits<int>::max());
        QTimer::singleShot(int(in), this, &EventStream::onTokenExpired);
    }
}

void EventStream::deliver(const SharedEvent &event)
{
    if (m_closing)
        return;
    const SseEncoder::Encoded &encoded
        = m_server->sseEncoder().encode(event, m_spec.path, m_spec.exportFormat, *m_spec.db);
    if (!m_filtered && event->cause) {
        // A write above the stream's location that left its value as it was is no event for this stream.
        if (encoded.hash == m_lastHash)
            return;
        m_lastHash = encoded.hash;
    }
    send(encoded.bytes);
}

void EventStream::send(const QByteArray &bytes)
{
    if (!m_socket) {
        m_pending += bytes;
        return;
    }
    m_socket->write(bytes);
}

void EventStream::keepAlive()
{
    if (!m_closing && m_socket)
        m_socket->write(SseEncoder::block("keep-alive", "null"));
}

void EventStream::cancel(const QString &reason)
{
    endWith(SseEncoder::block("cancel", protocol::jsonBytes(reason)), u"cancelled: "_s + reason);
}

void EventStream::onTokenExpired()
{
    const qint64 left = m_spec.tokenExpiresAtMs - QDateTime::currentMSecsSinceEpoch();
    if (left > 0) { // past QTimer's range: wait again
        QTimer::singleShot(
            int(std::min<qint64>(left, std::numeric_limits<int>::max())), this, &EventStream::onTokenExpired);
        return;
    }
    qCInfo(lcRules).noquote() << "the token of stream" << m_handle << "(" << m_spec.identity.describe()
                              << ") expired: auth_revoked";
    // The Python Admin SDK reconnects when the data line is exactly this text, unquoted (docs/rest.md §6).
    endWith(SseEncoder::block("auth_revoked", "credential is no longer valid"), u"the token expired"_s);
}

void EventStream::endWith(const QByteArray &block, const QString &reason)
{
    if (m_closing || !m_socket)
        return;
    m_closing = true;
    m_endReason = reason;
    m_spec.db->unlisten(this, m_spec.path, m_spec.query.identifier());
    m_socket->write(block);
    m_socket->close(QWebSocketProtocol::CloseCodeNormal, {});
}

void EventStream::close()
{
    if (m_closing || !m_socket)
        return;
    m_closing = true;
    m_endReason = u"server shutdown"_s;
    m_socket->close(QWebSocketProtocol::CloseCodeGoingAway, {});
}

bool EventStream::closeIfTooSlow()
{
    QString reason;
    if (m_closing || !m_socket || !m_socket->tooSlow(&reason))
        return false;
    qCWarning(lcServer).noquote() << "closing stream" << m_handle << "of" << m_spec.peer.toString() << ":" << reason;
    m_closing = true;
    m_endReason = reason;
    m_socket->abort(); // no last event could reach a peer that reads nothing
    return true;
}

QJsonObject EventStream::describe() const
{
    QJsonObject o {{u"handle"_s, m_handle}, {u"kind"_s, u"sse"_s}, {u"namespace"_s, m_spec.db->name()},
        {u"path"_s, m_spec.path.toString()}, {u"identity"_s, m_spec.identity.describe()},
        {u"remote"_s, m_spec.peer.toString()}, {u"openedAt"_s, double(m_openedAt)}};
    if (!m_spec.query.loadsAllData())
        o.insert(u"query"_s, m_spec.query.identifier());
    if (!m_endReason.isEmpty())
        o.insert(u"endReason"_s, m_endReason);
    return o;
}

} // namespace lark
