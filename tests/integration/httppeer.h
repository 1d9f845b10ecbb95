// SPDX-License-Identifier: MIT
#pragma once
// A raw HTTP/1.1 peer for the tests of the routes on the server's port: it sends exactly the bytes given, so a test
// controls every header, pipelining and splitting.
#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QTcpSocket>
#include <QTest>

/** One parsed response: status line, head, body. */
struct Response {
    QByteArray status;
    QByteArray head;
    QByteArray body;
    [[nodiscard]] bool hasHeader(const QByteArray &line) const { return head.contains("\r\n" + line + "\r\n"); }
};

/** A raw HTTP/1.1 client: sends exactly the bytes given, splits what comes back into responses (Content-Length). */
class HttpPeer
{
public:
    static constexpr int Timeout = 5000;

    HttpPeer()
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] { in += socket.readAll(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, [this] { closed = true; });
    }
    ~HttpPeer() { QObject::disconnect(&socket, nullptr, nullptr, nullptr); }
    bool connectTo(quint16 port)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        return socket.waitForConnected(Timeout);
    }
    void send(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }
    /** The responses complete so far. */
    [[nodiscard]] QList<Response> responses() const
    {
        QList<Response> out;
        qsizetype at = 0;
        for (;;) {
            const qsizetype end = in.indexOf("\r\n\r\n", at);
            if (end < 0)
                break;
            Response r;
            r.head = in.mid(at, end + 2 - at);
            r.status = r.head.left(r.head.indexOf("\r\n"));
            const qsizetype cl = r.head.indexOf("Content-Length: ");
            const qsizetype length
                = cl < 0 ? 0 : r.head.mid(cl + 16, r.head.indexOf("\r\n", cl) - cl - 16).toLongLong();
            if (in.size() < end + 4 + length)
                break;
            r.body = in.mid(end + 4, length);
            out << r;
            at = end + 4 + length;
        }
        return out;
    }
    /** Sends one request and waits for its response (an empty status on timeout). */
    Response exchange(const QByteArray &request)
    {
        const qsizetype before = responses().size();
        send(request);
        (void)QTest::qWaitFor([&] { return responses().size() > before || closed; }, Timeout);
        const QList<Response> all = responses();
        return all.size() > before ? all.at(before) : Response {};
    }
    QTcpSocket socket;
    QByteArray in;
    bool closed = false;
};

inline QByteArray get(const QByteArray &target, const QByteArray &headers = {})
{
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

/** A whole request with a body (Content-Length set). */
inline QByteArray httpRequest(
    const QByteArray &method, const QByteArray &target, const QByteArray &body = {}, const QByteArray &headers = {})
{
    return method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers
        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}
