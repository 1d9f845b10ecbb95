// SPDX-License-Identifier: MIT
#pragma once

// HTTP load clients for lark-bench's workers (docs/performance.md, "REST and event streams"): raw non-blocking TCP
// sockets on one epoll set, as rawclients.h does for WebSockets. The same connections are REST writers (open()
// plain, then restWrites(): keep-alive PUTs, one in flight each, as the Admin SDKs send them) or event streams
// (open() with a target: GET with Accept: text/event-stream, then arm() to count the `put` events whose data is a
// stamp, and their latency from it).

#include "benchclient.h"

#include <QJsonObject>
#include <QObject>
#include <QSocketNotifier>

#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

namespace bench
{

class HttpLoad : public QObject
{
public:
    HttpLoad();
    ~HttpLoad() override;
    HttpLoad(const HttpLoad &) = delete;
    HttpLoad &operator=(const HttpLoad &) = delete;

    /**
     * Connects n sockets to host:port. With streamTarget (e.g. /bench/s.json?ns=bench), each opens that stream and
     * waits for its head and first event. Answers {opened, ms} or {error}.
     */
    QJsonObject open(const QString &host, quint16 port, int n, const QByteArray &streamTarget);
    /**
     * Closed loop for durationUs: each connection PUTs a number at <prefix>/<index>.json?ns=ns and sends the next
     * once the 200 is in. Answers {sent, acked, inWindow, windowUs, errors, firstError, lost}.
     */
    QJsonObject restWrites(qint64 durationUs, const QByteArray &prefix, const QByteArray &ns);
    /** Streams: counts each `put` whose data is a stamp of at least fromUs, with its latency. */
    void arm(qint64 fromUs, qint64 *received, qint64 *lastRecvUs, Histogram *hist);
    [[nodiscard]] int closedCount() const;
    [[nodiscard]] qint64 errors() const { return m_errors; }
    [[nodiscard]] const QString &firstError() const { return m_firstError; }

private:
    struct Conn {
        int fd = -1;
        int index = 0;
        std::string in;
        bool headSeen = false;
        bool closed = false;
        bool stream = false; // an event stream, else a REST writer
        int answersDue = 0;
    };
    /** One epoll round (at most timeoutMs): reads what came and handles it. */
    void poll(int timeoutMs);
    void onReadable(Conn &c);
    void parseAnswers(Conn &c);
    void parseEvents(Conn &c);
    bool sendAll(Conn &c, const std::string &bytes);
    void note(const QString &what);

    int m_epoll = -1;
    std::unique_ptr<QSocketNotifier> m_notifier;
    std::vector<std::unique_ptr<Conn>> m_conns;
    std::vector<char> m_buf;
    qint64 m_errors = 0;
    QString m_firstError;
    qint64 m_answered = 0; // REST answers parsed so far (200s)
    // Stream counting (pointers into the worker, set by arm()).
    qint64 m_armUs = -1;
    qint64 *m_received = nullptr;
    qint64 *m_lastRecvUs = nullptr;
    Histogram *m_hist = nullptr;
};

} // namespace bench
