// SPDX-License-Identifier: MIT
#pragma once

// A WebSocket client that does the handshake by hand over a QTcpSocket and then never answers pings: what the
// server sees from a peer whose network went silent (no FIN, no RST, no pong).

#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>

class SilentClient
{
public:
    bool open(quint16 port, const QString &ns)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(5000))
            return false;
        const QByteArray key = QByteArray("dGhlIHNhbXBsZSBub25jZQ==");
        socket.write("GET /.ws?v=5&ns=" + ns.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
            + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
        // Read the 101 response and the hello frame (server frames are unmasked; the hello is < 126 bytes).
        QByteArray in;
        const bool ok = QTest::qWaitFor(
            [&] {
                socket.waitForReadyRead(50);
                in += socket.readAll();
                const qsizetype end = in.indexOf("\r\n\r\n");
                if (end < 0 || in.size() < end + 6)
                    return false;
                const QByteArray frame = in.mid(end + 4);
                const int len = uchar(frame.at(1)) & 0x7f;
                return frame.size() >= 2 + len;
            },
            5000);
        if (!ok || !in.startsWith("HTTP/1.1 101"))
            return false;
        const QByteArray frame = in.mid(in.indexOf("\r\n\r\n") + 4);
        const int len = uchar(frame.at(1)) & 0x7f;
        hello = QJsonDocument::fromJson(frame.mid(2, len)).object();
        sessionId = hello.value(QStringLiteral("d"))
                        .toObject()
                        .value(QStringLiteral("d"))
                        .toObject()
                        .value(QStringLiteral("s"))
                        .toString();
        return !sessionId.isEmpty();
    }

    /** Sends one masked text frame (payload < 64 KiB). */
    void sendText(const QByteArray &payload)
    {
        QByteArray f;
        f.append(char(0x81));
        if (payload.size() < 126) {
            f.append(char(0x80 | payload.size()));
        } else {
            f.append(char(0x80 | 126));
            f.append(char(payload.size() >> 8));
            f.append(char(payload.size() & 0xff));
        }
        const quint32 mask = QRandomGenerator::global()->generate();
        const char m[4] = {char(mask >> 24), char(mask >> 16), char(mask >> 8), char(mask)};
        f.append(m, 4);
        for (qsizetype i = 0; i < payload.size(); ++i)
            f.append(char(payload.at(i) ^ m[i % 4]));
        socket.write(f);
        socket.flush();
    }

    void request(int r, const QString &action, const QJsonObject &body)
    {
        const QJsonObject msg {{QStringLiteral("t"), QStringLiteral("d")},
            {QStringLiteral("d"),
                QJsonObject {{QStringLiteral("r"), r}, {QStringLiteral("a"), action}, {QStringLiteral("b"), body}}}};
        sendText(QJsonDocument(msg).toJson(QJsonDocument::Compact));
    }

    QTcpSocket socket;
    QJsonObject hello;
    QString sessionId;
};
