// SPDX-License-Identifier: MIT
// Bad input of docs/semantics.md §7: each case gets its status or close code with a reason, the server keeps
// serving the other clients, and stored data stays as it was.

#include "rawclient.h"
#include "silentclient.h"
#include "testserver.h"

using namespace Qt::Literals::StringLiterals;

class TstBadInput : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void closesConnection_data();
    void closesConnection();
    void refusedRequests_data();
    void refusedRequests();
    void oversizeStringLeaf();
    void oversizeMessageInOneFrame();
    void invalidUtf8Frame();
    void floodOfRequestsDoesNotStarveOthers();
    void slowReaderIsClosed();
    void wrongEndpointIsRefused();

private:
    void checkOthersUnharmed();

    std::unique_ptr<lark::Server> m_server;
    std::unique_ptr<RawClient> m_bystander;
    QJsonObject m_before;
};

void TstBadInput::init()
{
    m_server = startTestServer(50, 60000, 60000, 256 * 1024);
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_before = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
}

void TstBadInput::cleanup()
{
    m_bystander.reset();
    m_server.reset();
}

void TstBadInput::checkOthersUnharmed()
{
    QVERIFY(!m_bystander->closed);
    // Still served, and the stored data is what it was.
    QCOMPARE(m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}}), m_before);
    QCOMPARE(replyStatus(m_bystander->call(u"p"_s, {{u"p"_s, u"/data/c"_s}, {u"d"_s, 3}})), u"ok"_s);
    QVERIFY(!m_bystander->waitPush(pushAt(u"d"_s, u"/data/c"_s)).isEmpty());
}

void TstBadInput::closesConnection_data()
{
    QTest::addColumn<QStringList>("frames");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    QTest::newRow("invalid JSON") << QStringList {u"{\"t\":\"d\",\"d\":"_s} << 1007 << u"invalid JSON"_s;
    QTest::newRow("not an envelope: array") << QStringList {u"[1,2,3]"_s} << 1002 << u"envelope"_s;
    QTest::newRow("not an envelope: unknown t") << QStringList {u"{\"t\":\"x\",\"d\":{}}"_s} << 1002 << u"envelope"_s;
    QTest::newRow("data without r") << QStringList {u"{\"t\":\"d\",\"d\":{\"a\":\"p\",\"b\":{}}}"_s} << 1002
                                    << u"request number"_s;
    QTest::newRow("request number beyond 64 bits")
        << QStringList {u"{\"t\":\"d\",\"d\":{\"r\":1e20,\"a\":\"s\",\"b\":{}}}"_s} << 1002 << u"request number"_s;
    QTest::newRow("frame count out of range") << QStringList {u"999999"_s} << 1002 << u"frame count"_s;
    QTest::newRow("frames joined past the cap")
        << QStringList {u"20"_s, QString(200 * 1024, u'x'), QString(200 * 1024, u'x')} << 1009 << u"larger than"_s;
    QTest::newRow("pieces that do not join to JSON")
        << QStringList {u"2"_s, u"{\"t\":"_s, u"nope"_s} << 1007 << u"invalid JSON"_s;
}

void TstBadInput::closesConnection()
{
    QFETCH(QStringList, frames);
    QFETCH(int, code);
    QFETCH(QString, reason);
    RawClient bad;
    QVERIFY(bad.open(m_server->port()));
    bad.call(u"o"_s, {{u"p"_s, u"/status/bad"_s}, {u"d"_s, u"gone"_s}});
    for (const QString &f : std::as_const(frames))
        bad.sendRaw(f);
    QTRY_VERIFY_WITH_TIMEOUT(bad.closed, 5000);
    QCOMPARE(int(bad.socket.closeCode()), code);
    QVERIFY2(bad.socket.closeReason().contains(reason), qPrintable(bad.socket.closeReason()));
    // An abnormal loss: the session is suspended with its ops, not fired.
    QTRY_VERIFY_WITH_TIMEOUT(m_server->sessions().constLast()->state() == lark::Session::State::Suspended, 5000);
    QCOMPARE(m_server->sessions().constLast()->queue().ops().size(), size_t(1));
    checkOthersUnharmed();
}

void TstBadInput::refusedRequests_data()
{
    QTest::addColumn<QString>("action");
    QTest::addColumn<QJsonObject>("body");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("message");
    const QJsonObject deep = [] {
        QJsonObject o {{u"leaf"_s, 1}};
        for (int i = 0; i < 32; ++i)
            o = QJsonObject {{u"k"_s, o}};
        return o;
    }();
    QTest::newRow("invalid key in path") << u"p"_s << QJsonObject {{u"p"_s, u"/data/a.b"_s}, {u"d"_s, 1}}
                                         << u"invalid_request"_s << u"invalid path"_s;
    QTest::newRow("missing path") << u"p"_s << QJsonObject {{u"d"_s, 1}} << u"invalid_request"_s << u"missing path"_s;
    QTest::newRow("path too deep") << u"p"_s << QJsonObject {{u"p"_s, QString(u"/k"_s).repeated(33)}, {u"d"_s, 1}}
                                   << u"invalid_request"_s << u"32"_s;
    QTest::newRow("value too deep") << u"p"_s << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, deep}}
                                    << u"invalid_request"_s << u"32 levels"_s;
    QTest::newRow("invalid key in value")
        << u"p"_s << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a$"_s, 1}}}} << u"invalid_request"_s
        << u"invalid key"_s;
    QTest::newRow("bad server value") << u"p"_s
                                      << QJsonObject {{u"p"_s, u"/data"_s},
                                             {u"d"_s, QJsonObject {{u".sv"_s, u"bogus"_s}}}}
                                      << u"invalid_request"_s << u"server value"_s;
    QTest::newRow("write to .info") << u"p"_s << QJsonObject {{u"p"_s, u"/.info/connected"_s}, {u"d"_s, true}}
                                    << u"permission_denied"_s << u".info"_s;
    QTest::newRow("update not an object")
        << u"m"_s << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, 5}} << u"invalid_request"_s << u"object"_s;
    QTest::newRow("update overlapping paths")
        << u"m"_s << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}, {u"a/b"_s, 2}}}}
        << u"invalid_request"_s << u"overlap"_s;
    QTest::newRow("update bad key") << u"m"_s
                                    << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a#"_s, 1}}}}
                                    << u"invalid_request"_s << u"invalid path"_s;
    QTest::newRow("bad query index") << u"q"_s
                                     << QJsonObject {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject {{u"i"_s, 5}}},
                                            {u"t"_s, 1}}
                                     << u"invalid_request"_s << u"index"_s;
    QTest::newRow("bad query limit") << u"q"_s
                                     << QJsonObject {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject {{u"l"_s, -1}}},
                                            {u"t"_s, 1}}
                                     << u"invalid_request"_s << u"limit"_s;
    QTest::newRow("onDisconnect with bad data")
        << u"o"_s << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a/b"_s, 1}}}} << u"invalid_request"_s
        << u"invalid key"_s;
    QTest::newRow("onDisconnect to .info")
        << u"o"_s << QJsonObject {{u"p"_s, u"/.info/x"_s}, {u"d"_s, 1}} << u"permission_denied"_s << u".info"_s;
    QTest::newRow("update below a .priority path")
        << u"m"_s << QJsonObject {{u"p"_s, u"/data/a/.priority"_s}, {u"d"_s, QJsonObject {{u"b"_s, 1}}}}
        << u"invalid_request"_s << u"invalid path"_s;
    QTest::newRow("onDisconnect update below a .priority path")
        << u"om"_s << QJsonObject {{u"p"_s, u"/data/a/.priority"_s}, {u"d"_s, QJsonObject {{u"b"_s, 1}}}}
        << u"invalid_request"_s << u"invalid path"_s;
    QTest::newRow("update with an .info key")
        << u"m"_s << QJsonObject {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u".info"_s, 1}}}} << u"invalid_request"_s
        << u"invalid path"_s;
    QTest::newRow("update of .info from the root")
        << u"m"_s << QJsonObject {{u"p"_s, u"/"_s}, {u"d"_s, QJsonObject {{u".info/connected"_s, true}}}}
        << u"permission_denied"_s << u".info"_s;
    QTest::newRow("onDisconnect update of .info from the root")
        << u"om"_s << QJsonObject {{u"p"_s, u"/"_s}, {u"d"_s, QJsonObject {{u".info/x"_s, 1}}}}
        << u"permission_denied"_s << u".info"_s;
    QTest::newRow("priority that is an object")
        << u"p"_s << QJsonObject {{u"p"_s, u"/data/a/.priority"_s}, {u"d"_s, QJsonObject {{u"x"_s, 1}}}}
        << u"invalid_request"_s << u".priority must be"_s;
    QTest::newRow("key path in the value over 768 bytes")
        << u"p"_s
        << QJsonObject {{u"p"_s, u"/data/c"_s},
               {u"d"_s, QJsonObject {{QString(700, u'k'), QJsonObject {{QString(70, u'k'), 1}}}}}}
        << u"invalid_request"_s << u"768 bytes"_s;
    QTest::newRow("unknown action") << u"frobnicate"_s << QJsonObject() << u"invalid_request"_s << u"unknown action"_s;
    QTest::newRow("bad token") << u"auth"_s << QJsonObject {{u"cred"_s, u"x.y"_s}} << u"invalid_token"_s << u"JWT"_s;
}

void TstBadInput::refusedRequests()
{
    QFETCH(QString, action);
    QFETCH(QJsonObject, body);
    QFETCH(QString, status);
    QFETCH(QString, message);
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    const QJsonObject reply = c.call(action, body);
    QCOMPARE(replyStatus(reply), status);
    QVERIFY2(reply.value(u"d"_s).toString().contains(message), qPrintable(reply.value(u"d"_s).toString()));
    QVERIFY(!reply.contains(u"error"_s)); // the SDK throws on an error key
    QCOMPARE(m_server->sessions().constLast()->queue().ops().size(), size_t(0));
    // The connection itself carries on.
    QVERIFY(!c.closed);
    QCOMPARE(replyStatus(c.call(u"s"_s, {})), u"ok"_s);
    checkOthersUnharmed();
}

void TstBadInput::oversizeStringLeaf()
{
    m_server = startTestServer(50, 60000, 60000); // 16 MiB messages
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_before = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    c.socket.setOutgoingFrameSize(1024 * 1024);
    const QJsonObject reply = c.call(u"p"_s, {{u"p"_s, u"/big"_s}, {u"d"_s, QString(10 * 1024 * 1024 + 1, u'x')}});
    QCOMPARE(replyStatus(reply), u"invalid_request"_s);
    QVERIFY(reply.value(u"d"_s).toString().contains(u"10 MiB"_s));
    const QJsonObject ok = c.call(u"p"_s, {{u"p"_s, u"/big"_s}, {u"d"_s, QString(100000, u'x')}});
    QCOMPARE(replyStatus(ok), u"ok"_s);
    QCOMPARE(m_bystander->call(u"g"_s, {{u"p"_s, u"/big"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toString().size(),
        100000);
}

void TstBadInput::oversizeMessageInOneFrame()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    c.sendRaw(QString(300 * 1024, u'x')); // over the 256 KiB cap of this server
    QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
    QCOMPARE(int(c.socket.closeCode()), 1009);
    checkOthersUnharmed();
}

void TstBadInput::invalidUtf8Frame()
{
    SilentClient raw;
    QVERIFY(raw.open(m_server->port(), u"test"_s));
    raw.sendText(QByteArray("{\"t\":\"d\",\"d\":\xff\xfe}"));
    // Qt's WebSocket layer closes the connection: a close frame with 1007, then the TCP close.
    QTRY_VERIFY_WITH_TIMEOUT(
        raw.socket.state() == QAbstractSocket::UnconnectedState || raw.socket.bytesAvailable() > 0, 5000);
    const QByteArray in = raw.socket.readAll();
    const qsizetype close = in.indexOf(char(0x88));
    QVERIFY(close >= 0);
    QCOMPARE((uchar(in.at(close + 2)) << 8) | uchar(in.at(close + 3)), 1007);
    checkOthersUnharmed();
}

void TstBadInput::floodOfRequestsDoesNotStarveOthers()
{
    RawClient flood;
    QVERIFY(flood.open(m_server->port()));
    for (int i = 0; i < 20000; ++i)
        flood.request(u"p"_s, {{u"p"_s, u"/flood/%1"_s.arg(i % 100)}, {u"d"_s, i}});
    checkOthersUnharmed();
    QTRY_COMPARE_WITH_TIMEOUT(flood.replies.size(), 20000, 60000);
}

void TstBadInput::slowReaderIsClosed()
{
    lark::ServerConfig config;
    config.port = 0;
    config.maxBacklogBytes = 1024 * 1024;
    config.slowAfterMs = 300; // over the cap with nothing taken for this long: too slow
    m_server = std::make_unique<lark::Server>(config);
    QVERIFY(m_server->listen());
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_before = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});

    SilentClient slow; // listens, then never reads
    QVERIFY(slow.open(m_server->port(), u"test"_s));
    slow.socket.setReadBufferSize(1024);
    slow.request(1, u"q"_s, {{u"p"_s, u"/firehose"_s}, {u"h"_s, u""_s}});
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 2, 5000);
    RawClient writer;
    QVERIFY(writer.open(m_server->port()));
    writer.socket.setOutgoingFrameSize(1024 * 1024);
    const QString chunk(512 * 1024, u'y');
    for (int i = 0; i < 200 && m_server->connectionCount() == 3; ++i)
        QCOMPARE(replyStatus(writer.call(u"p"_s, {{u"p"_s, u"/firehose"_s}, {u"d"_s, chunk + QString::number(i)}})),
            u"ok"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 2, 10000);
    QVERIFY(!writer.closed);
    checkOthersUnharmed();
}

void TstBadInput::wrongEndpointIsRefused()
{
    QWebSocket ws;
    ws.open(QUrl(u"ws://127.0.0.1:%1/other?v=5"_s.arg(m_server->port())));
    QTRY_VERIFY_WITH_TIMEOUT(
        ws.state() == QAbstractSocket::UnconnectedState && ws.closeCode() != QWebSocketProtocol::CloseCodeNormal, 5000);
    QCOMPARE(ws.closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
    QVERIFY(ws.closeReason().contains(u"/.ws"_s));
    checkOthersUnharmed();
}

QTEST_GUILESS_MAIN(TstBadInput)
#include "tst_badinput.moc"
