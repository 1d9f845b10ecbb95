// SPDX-License-Identifier: MIT
#include "websockettest.h"

#include "testserver.h"

#include <QJsonDocument>

#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace
{

constexpr char MaskKey[4] = {'\x37', '\xfa', '\x21', '\x3d'};

} // namespace

QByteArray upgradeRequest(const QByteArray &target)
{
    return "GET " + target
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + SampleKey
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

QByteArray frameHeader(quint8 first, quint64 size, bool masked)
{
    QByteArray h;
    h.append(char(first));
    const quint8 mask = masked ? 0x80 : 0;
    if (size < 126) {
        h.append(char(mask | size));
    } else if (size <= 0xffff) {
        h.append(char(mask | 126));
        h.append(char(size >> 8));
        h.append(char(size & 0xff));
    } else {
        h.append(char(mask | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            h.append(char((size >> shift) & 0xff));
    }
    if (masked)
        h.append(MaskKey, 4);
    return h;
}

QByteArray clientFrame(quint8 first, const QByteArray &payload, bool masked)
{
    QByteArray f = frameHeader(first, quint64(payload.size()), masked);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(masked ? char(payload.at(i) ^ MaskKey[i % 4]) : payload.at(i));
    return f;
}

QByteArray closePayload(quint16 code, const QByteArray &reason)
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

QByteArray request(int r, const QString &action, const QJsonObject &body)
{
    const QJsonObject d {{u"r"_s, r}, {u"a"_s, action}, {u"b"_s, body}};
    return QJsonDocument(QJsonObject {{u"t"_s, u"d"_s}, {u"d"_s, d}}).toJson(QJsonDocument::Compact);
}

QByteArray paddedRequest(int r, qsizetype size)
{
    const qsizetype bare = request(r, u"p"_s, {{u"p"_s, u"/pad"_s}, {u"d"_s, u""_s}}).size();
    return request(r, u"p"_s, {{u"p"_s, u"/pad"_s}, {u"d"_s, QString(size - bare, u'x')}});
}

Peer::Peer()
{
    QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] { read(); });
    QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] {
        read();
        closed = true;
    });
}

bool Peer::connectTo(quint16 port)
{
    socket.connectToHost(QHostAddress::LocalHost, port);
    socket.setSocketOption(QAbstractSocket::LowDelayOption, 1); // no Nagle: a write is its own segment
    return QTest::qWaitFor([this] { return socket.state() == QAbstractSocket::ConnectedState; }, Timeout);
}

void Peer::send(const QByteArray &bytes)
{
    socket.write(bytes);
    socket.flush();
}

bool Peer::open(quint16 port, const QByteArray &then)
{
    if (!connectTo(port))
        return false;
    send(upgradeRequest() + then);
    return QTest::qWaitFor([this] { return !hello().isEmpty() || closed; }, Timeout) && !hello().isEmpty();
}

bool Peer::hasHeader(const QByteArray &line) const
{
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        if (lines.at(i).trimmed() == line)
            return true;
    }
    return false;
}

QList<QByteArray> Peer::payloads(quint8 opcode) const
{
    QList<QByteArray> list;
    for (const Frame &f : frames) {
        if ((f.first & 0x0f) == opcode)
            list.append(f.payload);
    }
    return list;
}

QList<QJsonObject> Peer::messages() const
{
    QList<QJsonObject> list;
    for (const QByteArray &p : payloads(Op::Text))
        list.append(QJsonDocument::fromJson(p).object());
    return list;
}

QJsonObject Peer::hello() const
{
    for (const QJsonObject &m : messages()) {
        const QJsonObject d = m.value(u"d"_s).toObject();
        if (m.value(u"t"_s) == u"c"_s && d.value(u"t"_s) == u"h"_s)
            return d.value(u"d"_s).toObject();
    }
    return {};
}

QJsonObject Peer::reply(int r) const
{
    for (const QJsonObject &m : messages()) {
        const QJsonObject d = m.value(u"d"_s).toObject();
        if (m.value(u"t"_s) == u"d"_s && d.value(u"r"_s) == r)
            return d.value(u"b"_s).toObject();
    }
    return {};
}

qsizetype Peer::indexOf(quint8 opcode, const QByteArray *payload) const
{
    for (qsizetype i = 0; i < frames.size(); ++i) {
        if ((frames.at(i).first & 0x0f) == opcode && (!payload || frames.at(i).payload == *payload))
            return i;
    }
    return -1;
}

int Peer::closeCode() const
{
    const QList<QByteArray> close = payloads(Op::Close);
    if (close.isEmpty())
        return -1;
    const QByteArray &p = close.constFirst();
    return p.size() < 2 ? 0 : (uchar(p.at(0)) << 8) | uchar(p.at(1));
}

QByteArray Peer::closeReason() const
{
    const QList<QByteArray> close = payloads(Op::Close);
    return close.isEmpty() ? QByteArray() : close.constFirst().mid(2);
}

void Peer::read()
{
    if (!socket.isOpen()) // the test aborted it
        return;
    m_in += socket.readAll();
    if (head.isEmpty()) {
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        head = m_in.left(end);
        m_in.remove(0, end + 4);
    }
    if (!head.startsWith("HTTP/1.1 101 ")) {
        body += std::exchange(m_in, {});
        return;
    }
    while (m_in.size() >= 2) {
        const auto *p = reinterpret_cast<const uchar *>(m_in.constData());
        quint64 size = p[1] & 0x7f;
        qsizetype header = 2;
        if (size == 126) {
            if (m_in.size() < 4)
                return;
            size = (quint64(p[2]) << 8) | p[3];
            header = 4;
        } else if (size == 127) {
            if (m_in.size() < 10)
                return;
            size = 0;
            for (int i = 2; i < 10; ++i)
                size = (size << 8) | p[i];
            header = 10;
        }
        if (p[1] & 0x80)
            maskedFrame = true;
        if (quint64(m_in.size() - header) < size)
            return;
        frames.append({p[0], m_in.mid(header, qsizetype(size))});
        m_in.remove(0, header + qsizetype(size));
    }
}

void WebSocketTest::startServer()
{
    // No ping during a test, and a grace far longer than one: only a clean close can fire ops.
    m_server = startTestServer(30000, 60000, 60000, MaxMessage);
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_before = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
}

void WebSocketTest::stopServer()
{
    m_bystander.reset();
    m_server.reset();
}

void WebSocketTest::checkOthersUnharmed()
{
    QVERIFY(!m_bystander->closed);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 1, Timeout);
    QCOMPARE(m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}}), m_before);
    QCOMPARE(replyStatus(m_bystander->call(u"p"_s, {{u"p"_s, u"/data/c"_s}, {u"d"_s, 3}})), u"ok"_s);
    QVERIFY(!m_bystander->waitPush(pushAt(u"d"_s, u"/data/c"_s)).isEmpty());
}

QJsonValue WebSocketTest::valueAt(const QString &path)
{
    return m_bystander->call(u"g"_s, {{u"p"_s, path}, {u"q"_s, QJsonObject()}}).value(u"d"_s);
}
