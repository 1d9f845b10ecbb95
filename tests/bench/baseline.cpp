// SPDX-License-Identifier: MIT
// lark-bench-baseline: a raw Qt WebSocket echo/broadcast server with no Lark code, built with the same transport
// fixes as lark-server (QT_NO_GLIB, own QTcpServer with a big backlog + handleConnection, drained pending queues).
// It answers lark-bench's traffic just enough to be driven by the same clients, so its figures are the transport
// ceiling Lark's are compared with:
//  - on connect it sends a fixed hello;
//  - every request is echoed back as its "reply" (the echo carries the same "r");
//  - "q" subscribes the socket to broadcasts, "p" broadcasts {"a":"d","b":<the request's b>} to every subscriber
//    before the echo (like a listen push before the ack), "o"/"om" are kept and broadcast the same way when the
//    socket closes (like onDisconnect ops).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

#include <cstdio>

using namespace Qt::Literals::StringLiterals;

namespace
{

class Baseline : public QObject
{
public:
    bool listen(quint16 port)
    {
        m_tcp.setListenBacklogSize(4096);
        m_tcp.setMaxPendingConnections(100000);
        if (!m_tcp.listen(QHostAddress::LocalHost, port))
            return false;
        m_ws.setMaxPendingConnections(100000);
        connect(&m_tcp, &QTcpServer::newConnection, this, [this] {
            while (m_tcp.hasPendingConnections())
                m_ws.handleConnection(m_tcp.nextPendingConnection());
        });
        connect(&m_ws, &QWebSocketServer::newConnection, this, [this] {
            while (m_ws.hasPendingConnections())
                accept(m_ws.nextPendingConnection());
        });
        return true;
    }
    [[nodiscard]] quint16 port() const { return m_tcp.serverPort(); }

private:
    void accept(QWebSocket *s)
    {
        s->setMaxAllowedIncomingMessageSize(16 * 1024 * 1024);
        s->setMaxAllowedIncomingFrameSize(16 * 1024 * 1024);
        connect(s, &QWebSocket::textMessageReceived, this, [this, s](const QString &m) { onMessage(s, m); });
        connect(s, &QWebSocket::disconnected, this, [this, s] {
            m_subscribers.remove(s);
            const QStringList wills = m_wills.take(s);
            for (const QString &w : wills)
                broadcast(w);
            s->deleteLater();
        });
        s->sendTextMessage(
            u"{\"t\":\"c\",\"d\":{\"t\":\"h\",\"d\":{\"ts\":0,\"v\":\"5\",\"h\":\"baseline\",\"s\":\"b\"}}}"_s);
    }

    static QString pushOf(const QString &request)
    {
        const qsizetype b = request.indexOf(u"\"b\":");
        return u"{\"t\":\"d\",\"d\":{\"a\":\"d\",\"b\":"_s + request.mid(b + 4);
    }

    void broadcast(const QString &push)
    {
        for (QWebSocket *sub : std::as_const(m_subscribers))
            sub->sendTextMessage(push);
    }

    void onMessage(QWebSocket *s, const QString &m)
    {
        if (m.startsWith(u"{\"t\":\"c\"")) {
            s->sendTextMessage(u"{\"t\":\"c\",\"d\":{\"t\":\"o\",\"d\":null}}"_s);
            return;
        }
        if (m.contains(u"\"a\":\"p\""))
            broadcast(pushOf(m));
        else if (m.contains(u"\"a\":\"q\""))
            m_subscribers.insert(s);
        else if (m.contains(u"\"a\":\"o\"") || m.contains(u"\"a\":\"om\""))
            m_wills[s].append(pushOf(m));
        s->sendTextMessage(m);
    }

    QTcpServer m_tcp;
    QWebSocketServer m_ws {u"baseline"_s, QWebSocketServer::NonSecureMode};
    QSet<QWebSocket *> m_subscribers;
    QHash<QWebSocket *, QStringList> m_wills;
};

} // namespace

int main(int argc, char *argv[])
{
    // The same dispatcher as lark-server: poll() instead of glib (docs/transport.md §2).
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(u"The transport ceiling for lark-bench: a raw Qt WebSocket echo/broadcast "
                                     u"server with no Lark code, on 127.0.0.1."_s);
    parser.addHelpOption();
    const QCommandLineOption portOption(
        u"port"_s, u"Port to listen on (0: any free port, printed)."_s, u"port"_s, u"0"_s);
    parser.addOption(portOption);
    parser.process(app);
    bool ok = false;
    const uint requested = parser.value(portOption).toUInt(&ok);
    if (!ok || requested > 65535) {
        std::fprintf(stderr, "lark-bench-baseline: --port needs a number from 0 to 65535\n");
        return 2;
    }
    const auto port = quint16(requested);
    Baseline server;
    if (!server.listen(port)) {
        std::fprintf(stderr, "lark-bench-baseline: cannot listen on port %u\n", port);
        return 1;
    }
    std::printf("lark-bench-baseline: listening on ws://127.0.0.1:%u\n", server.port());
    std::fflush(stdout);
    return app.exec();
}
