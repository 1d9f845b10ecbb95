// SPDX-License-Identifier: MIT
#pragma once

// A raw protocol client for integration tests: a QWebSocket speaking v5 JSON by hand, so tests see exactly what
// the server sends (replies, pushes, frame counts, close codes).

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <functional>

class RawClient : public QObject
{
    Q_OBJECT
public:
    /** origin: the Origin header a browser page would send; none by default, as from Node or a native app. */
    explicit RawClient(QObject *parent = nullptr, const QString &origin = QString())
        : QObject(parent)
        , socket(origin)
    {
        connect(&socket, &QWebSocket::textMessageReceived, this, &RawClient::onFrame);
        connect(&socket, &QWebSocket::disconnected, this, [this] { closed = true; });
    }

    /** Opens /.ws?v=5&ns=...[&ls=...] and waits for the hello. */
    bool open(quint16 port, const QString &ns = QStringLiteral("test"), const QString &ls = QString())
    {
        QString url = QStringLiteral("ws://127.0.0.1:%1/.ws?v=5&ns=%2").arg(port).arg(ns);
        if (!ls.isEmpty())
            url += QStringLiteral("&ls=") + ls;
        socket.open(QUrl(url));
        if (!QTest::qWaitFor([this] { return !hello.isEmpty() || closed; }, 10000))
            return false;
        return !hello.isEmpty();
    }

    QString sessionId() const { return hello.value(QStringLiteral("s")).toString(); }

    void sendRaw(const QString &frame) { socket.sendTextMessage(frame); }
    void sendJson(const QJsonObject &o) { sendRaw(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact))); }

    /** Sends request {r, a, b} and returns r. */
    qint64 request(const QString &action, const QJsonObject &body)
    {
        const qint64 r = nextR++;
        sendJson({{QStringLiteral("t"), QStringLiteral("d")},
            {QStringLiteral("d"),
                QJsonObject {
                    {QStringLiteral("r"), double(r)}, {QStringLiteral("a"), action}, {QStringLiteral("b"), body}}}});
        return r;
    }

    /** Waits for the reply to r and returns its body {s, d}. */
    QJsonObject waitReply(qint64 r, int timeoutMs = 10000)
    {
        (void)QTest::qWaitFor([&] { return replies.contains(r) || closed; }, timeoutMs);
        return replies.value(r);
    }

    /** request() + waitReply(). */
    QJsonObject call(const QString &action, const QJsonObject &body) { return waitReply(request(action, body)); }

    /** Waits until a push satisfies pred; returns it (empty object on timeout). */
    QJsonObject waitPush(const std::function<bool(const QJsonObject &)> &pred, int timeoutMs = 10000)
    {
        QJsonObject found;
        (void)QTest::qWaitFor(
            [&] {
                for (const QJsonObject &p : std::as_const(pushes)) {
                    if (pred(p)) {
                        found = p;
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
        return found;
    }

    /** Pushes (server data messages without r): {"a":..., "b":{...}}. */
    QList<QJsonObject> pushes;
    /** Every complete message in arrival order. */
    QList<QJsonObject> messages;
    /** Raw frames in arrival order, to check framing. */
    QStringList frames;
    QHash<qint64, QJsonObject> replies;
    QList<qint64> replyOrder;
    QJsonObject hello;
    bool closed = false;
    QWebSocket socket;

private:
    void onFrame(const QString &frame)
    {
        frames.append(frame);
        QString message;
        if (pending == 0 && frame.size() <= 6 && !frame.isEmpty() && frame.at(0).isDigit()) {
            pending = frame.toInt();
            buffer.clear();
            return;
        }
        if (pending > 0) {
            buffer += frame;
            if (--pending > 0)
                return;
            message = buffer;
        } else {
            message = frame;
        }
        const QJsonObject o = QJsonDocument::fromJson(message.toUtf8()).object();
        messages.append(o);
        const QJsonObject d = o.value(QStringLiteral("d")).toObject();
        if (o.value(QStringLiteral("t")) == QStringLiteral("c")) {
            if (d.value(QStringLiteral("t")) == QStringLiteral("h"))
                hello = d.value(QStringLiteral("d")).toObject();
            return;
        }
        if (d.contains(QStringLiteral("r"))) {
            const qint64 r = qint64(d.value(QStringLiteral("r")).toDouble());
            replies.insert(r, d.value(QStringLiteral("b")).toObject());
            replyOrder.append(r);
        } else {
            pushes.append(d);
        }
    }

    qint64 nextR = 1;
    int pending = 0;
    QString buffer;
};

/** A push predicate: action a ("d" or "m") at path p. */
inline std::function<bool(const QJsonObject &)> pushAt(const QString &a, const QString &p)
{
    return [a, p](const QJsonObject &push) {
        return push.value(QStringLiteral("a")) == a
            && push.value(QStringLiteral("b")).toObject().value(QStringLiteral("p")) == p;
    };
}

inline QJsonValue pushData(const QJsonObject &push)
{
    return push.value(QStringLiteral("b")).toObject().value(QStringLiteral("d"));
}

inline QString replyStatus(const QJsonObject &reply)
{
    return reply.value(QStringLiteral("s")).toString();
}
