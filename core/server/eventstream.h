// SPDX-License-Identifier: MIT
#pragma once

#include "identity.h"

#include "db/dataevent.h"
#include "db/path.h"
#include "db/query.h"

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>

namespace lark
{

class Database;
class Server;
class ServerWebSocket;

/**
 * Encodes the tree's events as server-sent events for a stream at a path (docs/rest.md §6): `put` for a new value,
 * `patch` for several children, with the path relative to the stream's. A fan-out hands one event to every stream
 * in a row, so the encodings of the last event are kept, one per stream path: a thousand streams on one location
 * cost one encoding.
 */
class SseEncoder
{
public:
    struct Encoded {
        QByteArray bytes; /**< the event block */
        QByteArray hash; /**< the wire hash of the value at the stream's path after the event */
    };
    /**
     * event for a stream at `at`, with the hash of the value there; db is read for a merge whose keys go deeper than
     * one level. A fan-out's streams at one location come in a row: the last answer is reused first, without even a
     * lookup.
     */
    [[nodiscard]] const Encoded &encode(
        const SharedEvent &event, const Path &at, bool exportFormat, const Database &db);
    /** One event block: `event: NAME`, `data: DATA` (one line), and the blank line that ends it. */
    [[nodiscard]] static QByteArray block(QByteArrayView name, QByteArrayView data);

private:
    SharedEvent m_last; // held, so its address cannot be reused while its encodings are cached
    QHash<QString, Encoded> m_byPath; // key: the stream's path, with a mark for the export format
    const Encoded *m_lastAnswer = nullptr; // for m_lastPath and m_lastExport, of m_last
    Path m_lastPath;
    bool m_lastExport = false;
};

/**
 * One REST event stream (GET with `Accept: text/event-stream`): a listen of the tree on an HTTP connection that
 * answers with a stream of events instead of one body. It sends the value at its path first (`put` at `/`), then
 * every change at, above or below it, `keep-alive` when the server's timer says so, and ends with `cancel` when the
 * rules stop allowing the read or `auth_revoked` when its token expires. The client ends it by closing.
 *
 * Created by the REST route before the answer's head goes out, so the rules check and the first value come from one
 * instant; what it is told before attach() waits in memory. Owned by the server once attached.
 */
class EventStream : public QObject, public ListenerSink
{
    Q_OBJECT
public:
    struct Spec {
        Database *db = nullptr;
        Path path;
        Query query;
        Identity identity;
        qint64 tokenExpiresAtMs = 0; /**< epoch ms when the token expires (--auth verify); 0: never */
        bool exportFormat = false; /**< format=export: values keep their priorities */
        QHostAddress peer;
    };

    EventStream(Server *server, Spec spec, QString handle);
    ~EventStream() override;

    /** The answer's head is queued on socket (State::Streaming): sends what waited, and takes the socket. */
    void attach(ServerWebSocket *socket);
    void deliver(const SharedEvent &event) override;
    /** `keep-alive` with `data: null`: an idle stream shows it is alive, and a dead peer is found by the kernel. */
    void keepAlive();
    /** Ends the stream with `cancel` (the read is no longer allowed): data is the reason, as a JSON string. */
    void cancel(const QString &reason);
    /** The server shuts down: the stream ends without an event, and its client reconnects. */
    void close();
    /** Ends a peer that does not take what it is sent (ServerWebSocket::tooSlow); true if it did. */
    bool closeIfTooSlow();

    [[nodiscard]] const QString &handle() const { return m_handle; }
    [[nodiscard]] Database *database() const { return m_spec.db; }
    [[nodiscard]] const Spec &spec() const { return m_spec; }
    [[nodiscard]] ServerWebSocket *socket() const { return m_socket; }
    /** For the admin feed and the dashboard: {handle, kind "sse", namespace, path, query, identity, remote, openedAt}.
     */
    [[nodiscard]] QJsonObject describe() const;

Q_SIGNALS:
    /** The connection is gone (closed by either side); the server forgets the stream. */
    void ended(lark::EventStream *stream, const QString &reason);

private:
    void send(const QByteArray &bytes);
    /** Sends a last event, then closes once it is written. */
    void endWith(const QByteArray &block, const QString &reason);
    void onTokenExpired();

    Server *m_server;
    Spec m_spec;
    QString m_handle;
    qint64 m_openedAt = 0;
    ServerWebSocket *m_socket = nullptr;
    QByteArray m_pending; // what was delivered before attach()
    QByteArray m_lastHash; // of the value at the path last sent: a write that leaves it as it was sends nothing
    bool m_filtered = false; // a query's window: the tree compares results itself
    bool m_closing = false;
    QString m_endReason;
};

} // namespace lark
