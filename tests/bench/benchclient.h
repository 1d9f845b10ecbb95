// SPDX-License-Identifier: MIT
#pragma once

// Pieces shared by lark-bench's orchestrator and its worker processes: a monotonic clock that all processes share
// (CLOCK_MONOTONIC), a log-bucket latency histogram that can travel as JSON, and a raw-protocol client on
// QWebSocket that parses only what the benchmark needs (hello, reply number and status, push payload), so the
// load side stays cheap.

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>
#include <QWebSocket>

#include <cmath>
#include <ctime>
#include <functional>
#include <vector>

namespace bench
{

/** Microseconds on CLOCK_MONOTONIC: comparable between the orchestrator, its workers and the server. */
inline qint64 nowUs()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

/** Runs the event loop until pred() holds or timeoutMs passes; returns pred(). */
inline bool waitFor(const std::function<bool()> &pred, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    // The tick keeps WaitForMoreEvents from sleeping past the deadline when nothing happens.
    QTimer tick;
    tick.start(5);
    while (!pred()) {
        if (deadline.hasExpired())
            return pred();
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

/** Latencies in µs in buckets 2 % wide: cheap to fill, mergeable across processes. */
class Histogram
{
public:
    static constexpr int Buckets = 1000; // 1.02^1000 µs is far beyond any run
    Histogram()
        : m_counts(Buckets, 0)
    {
    }
    void add(qint64 us)
    {
        const int i = us < 1 ? 0 : std::min(Buckets - 1, 1 + int(std::log(double(us)) / std::log(1.02)));
        ++m_counts[size_t(i)];
        ++m_total;
    }
    void merge(const Histogram &o)
    {
        for (int i = 0; i < Buckets; ++i)
            m_counts[size_t(i)] += o.m_counts[size_t(i)];
        m_total += o.m_total;
    }
    [[nodiscard]] qint64 count() const { return m_total; }
    /** The p-quantile (0..1) in ms, as the upper edge of its bucket; 0 when empty. */
    [[nodiscard]] double percentileMs(double p) const
    {
        if (m_total == 0)
            return 0;
        const qint64 rank = std::max<qint64>(1, qint64(std::ceil(p * double(m_total))));
        qint64 seen = 0;
        for (int i = 0; i < Buckets; ++i) {
            seen += m_counts[size_t(i)];
            if (seen >= rank)
                return i == 0 ? 0.0 : std::pow(1.02, i) / 1000.0;
        }
        return 0;
    }
    void clear()
    {
        std::fill(m_counts.begin(), m_counts.end(), 0);
        m_total = 0;
    }
    [[nodiscard]] QJsonArray toJson() const
    {
        QJsonArray a;
        for (int i = 0; i < Buckets; ++i) {
            if (m_counts[size_t(i)])
                a.append(QJsonArray {i, double(m_counts[size_t(i)])});
        }
        return a;
    }
    static Histogram fromJson(const QJsonArray &a)
    {
        Histogram h;
        for (const QJsonValue &v : a) {
            const QJsonArray pair = v.toArray();
            const int i = std::clamp(pair.at(0).toInt(), 0, Buckets - 1);
            const auto n = qint64(pair.at(1).toDouble());
            h.m_counts[size_t(i)] += n;
            h.m_total += n;
        }
        return h;
    }

private:
    std::vector<qint64> m_counts;
    qint64 m_total = 0;
};

/**
 * The body of an `auth` request that signs in as uid with an unsigned emulator token (what mockUserToken sends):
 * the rules scenario's writers need an identity for `auth.uid === $uid`.
 */
inline QByteArray signInBody(const QByteArray &uid)
{
    const auto b64 = [](const QByteArray &b) {
        return b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    return "{\"cred\":\"" + b64(R"({"alg":"none","typ":"JWT"})") + '.' + b64("{\"sub\":\"" + uid + "\",\"iat\":0}")
        + ".\"}";
}

/**
 * One raw protocol v5 connection. Speaks to lark-server, firebase-server (which prefixes every message with a
 * frame count and answers without "/") and the baseline (which echoes requests as their replies: echo mode
 * takes any message with an "r" as a successful reply).
 */
class Client : public QObject
{
    Q_OBJECT
public:
    Client(int index, bool echo, QObject *parent = nullptr)
        : QObject(parent)
        , index(index)
        , m_echo(echo)
    {
        connect(&ws, &QWebSocket::textMessageReceived, this, &Client::onFrame);
        connect(&ws, &QWebSocket::disconnected, this, [this] {
            closed = true;
            if (onClosed)
                onClosed(this);
        });
    }

    void open(const QUrl &url) { ws.open(url); }

    /** Sends {"t":"d","d":{"r":R,"a":action,"b":body}}; body is JSON text. Returns R. */
    qint64 request(const char *action, const QByteArray &body)
    {
        const qint64 r = nextR++;
        const QByteArray m
            = "{\"t\":\"d\",\"d\":{\"r\":" + QByteArray::number(r) + ",\"a\":\"" + action + "\",\"b\":" + body + "}}";
        ws.sendTextMessage(QString::fromUtf8(m));
        ++outstanding;
        return r;
    }

    /** The number after the last "d": of a push: the microsecond stamp a fan-out writer put there; -1 if none. */
    static double pushNumber(const QString &message)
    {
        const qsizetype at = message.lastIndexOf(u"\"d\":");
        if (at < 0)
            return -1;
        qsizetype end = at + 4;
        while (end < message.size() && message.at(end) != u',' && message.at(end) != u'}')
            ++end;
        bool ok = false;
        const double v = QStringView(message).mid(at + 4, end - at - 4).toDouble(&ok);
        return ok ? v : -1;
    }

    int index;
    QWebSocket ws;
    bool ready = false; // hello received
    bool closed = false;
    qint64 nextR = 1;
    qint64 outstanding = 0;
    qint64 errors = 0;
    QString firstError;
    std::function<void(Client *, qint64 r, bool ok)> onReply;
    std::function<void(Client *, const QString &message)> onReplyText; // the whole reply message
    std::function<void(Client *, const QString &message)> onPush;
    std::function<void(Client *)> onClosed;

private:
    void onFrame(const QString &frame)
    {
        // Frame counts (docs/wire-protocol.md §3): a short all-digit frame says how many frames the next message spans.
        if (m_pending == 0 && !frame.isEmpty() && frame.size() <= 6) {
            bool numeric = true;
            for (const QChar c : frame)
                numeric = numeric && c.isDigit();
            if (numeric) {
                m_pending = frame.toInt();
                m_buffer.clear();
                return;
            }
        }
        if (m_pending > 0) {
            m_buffer += frame;
            if (--m_pending > 0)
                return;
            const QString message = std::move(m_buffer);
            m_buffer.clear();
            onMessage(message);
            return;
        }
        onMessage(frame);
    }

    void onMessage(const QString &m)
    {
        if (m.startsWith(u"{\"t\":\"c\"") || m.endsWith(u"\"t\":\"c\"}")) {
            if (m.contains(u"\"t\":\"h\""))
                ready = true;
            return;
        }
        const qsizetype at = m.indexOf(u"\"r\":");
        if (at >= 0) {
            qsizetype end = at + 4;
            while (end < m.size() && m.at(end).isDigit())
                ++end;
            const qint64 r = QStringView(m).mid(at + 4, end - at - 4).toLongLong();
            const bool ok = m_echo || m.contains(u"\"s\":\"ok\"");
            if (!ok) {
                ++errors;
                if (firstError.isEmpty())
                    firstError = m.left(200);
            }
            --outstanding;
            if (onReplyText)
                onReplyText(this, m);
            if (onReply)
                onReply(this, r, ok);
            return;
        }
        if (onPush)
            onPush(this, m);
    }

    bool m_echo;
    int m_pending = 0;
    QString m_buffer;
};

} // namespace bench
