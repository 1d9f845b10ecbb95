// SPDX-License-Identifier: MIT
// The v5 protocol against a real server over loopback: handshake, ordering, framing, listens, writes, queries,
// transactions, namespaces, auth and the admin feed.

#include "rawclient.h"
#include "silentclient.h"
#include "testserver.h"

#include "db/node.h"

#include <QDateTime>
#include <QRegularExpression>

using namespace Qt::Literals::StringLiterals;

class TstProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void handshakeFields();
    void repliesInRequestOrder();
    void keepAliveAndControlPing();
    void largeMessagesAreFramed();
    void listenPushesBeforeOkAndWriterBeforeAck();
    void listenHashShortcut();
    void pushesBelowAtAndAboveListen();
    void updateWithMultiSegmentKeys();
    void serverValues();
    void taggedQueryPushesFilteredWindow();
    void getWithQuery();
    void transactionHashMismatchIsDatastale();
    void namespacesAreSeparate();
    void mockTokenAndAdminAuth();
    void adminFeedShowsSessionsAndOps();
    void adminFeedRefusedForNonAdmin();
    void adminFeedSaysWhenASessionGoesSilent();
};

void TstProtocol::handshakeFields()
{
    auto server = startTestServer();
    RawClient c;
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(c.open(server->port()));
    QCOMPARE(c.hello.value(u"v"_s).toString(), u"5"_s);
    // h must be exactly the Host we reached, or the SDK reconnects elsewhere (docs/wire-protocol.md §2).
    QCOMPARE(c.hello.value(u"h"_s).toString(), u"127.0.0.1:%1"_s.arg(server->port()));
    const double ts = c.hello.value(u"ts"_s).toDouble();
    QVERIFY(ts >= before - 1000 && ts <= QDateTime::currentMSecsSinceEpoch() + 1000);
    QCOMPARE(c.sessionId().size(), 22); // 128 random bits, base64url
    RawClient d;
    QVERIFY(d.open(server->port()));
    QVERIFY(d.sessionId() != c.sessionId());
}

void TstProtocol::repliesInRequestOrder()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    // Pipelined requests of every kind, including ones the SDK registers no callback for and unknown ones.
    const QList<std::pair<QString, QJsonObject>> requests = {
        {u"s"_s, {{u"c"_s, QJsonObject {{u"sdk.js.12"_s, 1}}}}},
        {u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 1}}},
        {u"q"_s, {{u"p"_s, u"/a"_s}, {u"h"_s, u""_s}}},
        {u"g"_s, {{u"p"_s, u"/a"_s}, {u"q"_s, QJsonObject()}}},
        {u"n"_s, {{u"p"_s, u"/a"_s}}},
        {u"o"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}}},
        {u"om"_s, {{u"p"_s, u"/y"_s}, {u"d"_s, QJsonObject {{u"k"_s, 1}}}}},
        {u"oc"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, QJsonValue()}}},
        {u"unauth"_s, {}},
        {u"appcheck"_s, {{u"token"_s, u"t"_s}}},
        {u"bogus"_s, {}},
        {u"m"_s, {{u"p"_s, u"/b"_s}, {u"d"_s, QJsonObject {{u"c"_s, 2}}}}},
    };
    for (const auto &[a, b] : requests)
        c.request(a, b);
    QVERIFY(QTest::qWaitFor([&] { return c.replyOrder.size() == requests.size(); }, 10000));
    for (int i = 0; i < requests.size(); ++i)
        QCOMPARE(c.replyOrder.at(i), qint64(i + 1));
    QCOMPARE(replyStatus(c.replies.value(11)), u"invalid_request"_s);
    QVERIFY(c.replies.value(11).value(u"d"_s).toString().contains(u"bogus"_s));
    for (qint64 r : c.replyOrder) {
        if (r != 11)
            QCOMPARE(replyStatus(c.replies.value(r)), u"ok"_s);
    }
    QCOMPARE(c.replies.value(4).value(u"d"_s).toDouble(), 1.0); // g returns the value
}

void TstProtocol::keepAliveAndControlPing()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    c.sendRaw(u"0"_s); // the SDK's keep-alive: must be ignored, never answered
    c.sendJson({{u"t"_s, u"c"_s}, {u"d"_s, QJsonObject {{u"t"_s, u"p"_s}, {u"d"_s, QJsonObject()}}}});
    QVERIFY(QTest::qWaitFor([&] { return c.messages.size() >= 2; }, 5000));
    const QJsonObject pong = c.messages.at(1);
    QCOMPARE(pong.value(u"t"_s).toString(), u"c"_s);
    QCOMPARE(pong.value(u"d"_s).toObject().value(u"t"_s).toString(), u"o"_s);
    QVERIFY(pong.value(u"d"_s).toObject().contains(u"d"_s)); // the SDK ignores control messages without d
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/k"_s}, {u"d"_s, true}})), u"ok"_s);
    // Never a bare "0" (or any short numeric frame that is not a real count) from the server.
    for (const QString &f : std::as_const(c.frames))
        QVERIFY2(f != u"0"_s, "server sent \"0\"");
}

void TstProtocol::largeMessagesAreFramed()
{
    auto server = startTestServer();
    RawClient writer, reader;
    QVERIFY(writer.open(server->port()));
    QVERIFY(reader.open(server->port()));
    QCOMPARE(replyStatus(reader.call(u"q"_s, {{u"p"_s, u"/big"_s}, {u"h"_s, u""_s}})), u"ok"_s);

    // The SDK's way: a count frame, then pieces of at most 16384 characters. Multi-byte text crosses the cuts.
    QString value;
    while (value.size() < 40000)
        value += u"héllo wörld ✓ "_s;
    const QString msg
        = QString::fromUtf8(QJsonDocument(QJsonObject {{u"t"_s, u"d"_s},
                                              {u"d"_s,
                                                  QJsonObject {{u"r"_s, 1}, {u"a"_s, u"p"_s},
                                                      {u"b"_s, QJsonObject {{u"p"_s, u"/big"_s}, {u"d"_s, value}}}}}})
                                .toJson(QJsonDocument::Compact));
    const int pieces = int((msg.size() + 16383) / 16384);
    writer.sendRaw(QString::number(pieces));
    for (int i = 0; i < pieces; ++i)
        writer.sendRaw(msg.mid(i * 16384, 16384));
    QCOMPARE(replyStatus(writer.waitReply(1)), u"ok"_s);

    const QJsonObject push = reader.waitPush(pushAt(u"d"_s, u"/big"_s));
    QCOMPARE(pushData(push).toString(), value);
    // The server split its push too: a count frame, then frames of at most 16384 UTF-8 bytes.
    qsizetype countAt = -1;
    static const QRegularExpression digits(u"^\\d{1,6}$"_s);
    for (qsizetype i = reader.frames.size() - 1; i >= 0 && countAt < 0; --i) {
        if (digits.match(reader.frames.at(i)).hasMatch())
            countAt = i;
    }
    QVERIFY(countAt >= 0);
    const int count = reader.frames.at(countAt).toInt();
    QVERIFY(count >= 3);
    for (int i = 1; i <= count; ++i)
        QVERIFY(reader.frames.at(countAt + i).toUtf8().size() <= 16384);
}

void TstProtocol::listenPushesBeforeOkAndWriterBeforeAck()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/rooms/r1"_s}, {u"d"_s, QJsonObject {{u"title"_s, u"hi"_s}}}})),
        u"ok"_s);
    const int before = c.messages.size();
    const qint64 r = c.request(u"q"_s, {{u"p"_s, u"/rooms/r1"_s}, {u"h"_s, u""_s}});
    c.waitReply(r);
    // Data push first, then the ok.
    QCOMPARE(c.messages.size(), before + 2);
    QCOMPARE(c.messages.at(before).value(u"d"_s).toObject().value(u"a"_s).toString(), u"d"_s);
    QCOMPARE(c.messages.at(before + 1).value(u"d"_s).toObject().value(u"r"_s).toDouble(), double(r));

    // A write: the writer's own listen is pushed before the ack.
    const int beforeWrite = c.messages.size();
    const qint64 w = c.request(u"p"_s, {{u"p"_s, u"/rooms/r1/title"_s}, {u"d"_s, u"bye"_s}});
    c.waitReply(w);
    QCOMPARE(c.messages.size(), beforeWrite + 2);
    const QJsonObject push = c.messages.at(beforeWrite).value(u"d"_s).toObject();
    QCOMPARE(push.value(u"b"_s).toObject().value(u"p"_s).toString(), u"/rooms/r1/title"_s);
    QCOMPARE(push.value(u"b"_s).toObject().value(u"d"_s).toString(), u"bye"_s);
}

void TstProtocol::listenHashShortcut()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    // Empty location: no push at all, just ok.
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/none"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    QCOMPARE(c.pushes.size(), 0);
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/ctr"_s}, {u"d"_s, 5}})), u"ok"_s);
    // The client's cached 5 (Node::hash() is checked against the SDK's own hashes in tst_hash).
    const QString hashOf5 = QString::fromLatin1(lark::Node::fromNumber(5).hash());
    RawClient d;
    QVERIFY(d.open(server->port()));
    QCOMPARE(replyStatus(d.call(u"q"_s, {{u"p"_s, u"/ctr"_s}, {u"h"_s, hashOf5}})), u"ok"_s);
    QCOMPARE(d.pushes.size(), 0); // client cache is current: nothing to send
    QCOMPARE(replyStatus(d.call(u"q"_s,
                 {{u"p"_s, u"/ctr"_s}, {u"q"_s, QJsonObject {{u"l"_s, 1}}}, {u"t"_s, 1}, {u"h"_s, u"stale"_s}})),
        u"ok"_s);
    QCOMPARE(d.pushes.size(), 1);
}

void TstProtocol::pushesBelowAtAndAboveListen()
{
    auto server = startTestServer();
    RawClient c, w;
    QVERIFY(c.open(server->port()));
    QVERIFY(w.open(server->port()));
    w.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, QJsonObject {{u"b"_s, QJsonObject {{u"c"_s, 1}}}}}});
    c.call(u"q"_s, {{u"p"_s, u"/a/b"_s}, {u"h"_s, u""_s}});
    c.call(u"q"_s, {{u"p"_s, u"/unrelated"_s}, {u"h"_s, u""_s}});
    c.pushes.clear();
    // Below the listen: pushed at the written path.
    w.call(u"p"_s, {{u"p"_s, u"/a/b/c"_s}, {u"d"_s, 2}});
    QCOMPARE(pushData(c.waitPush(pushAt(u"d"_s, u"/a/b/c"_s))).toDouble(), 2.0);
    // Above the listen: pushed as the listen path's new value.
    w.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, QJsonObject {{u"b"_s, QJsonObject {{u"z"_s, 9}}}}}});
    QCOMPARE(pushData(c.waitPush(pushAt(u"d"_s, u"/a/b"_s))).toObject(), (QJsonObject {{u"z"_s, 9}}));
    // Removal above: null.
    w.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, QJsonValue()}});
    QVERIFY(c.waitPush([](const QJsonObject &p) { return pushAt(u"d"_s, u"/a/b"_s)(p) && pushData(p).isNull(); }).size()
        > 0);
    // Nothing ever reached the unrelated listen.
    for (const QJsonObject &p : std::as_const(c.pushes))
        QVERIFY(!p.value(u"b"_s).toObject().value(u"p"_s).toString().startsWith(u"/unrelated"_s));
}

void TstProtocol::updateWithMultiSegmentKeys()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    c.call(u"p"_s, {{u"p"_s, u"/u"_s}, {u"d"_s, QJsonObject {{u"keep"_s, 1}, {u"x"_s, QJsonObject {{u"old"_s, 1}}}}}});
    c.call(u"q"_s, {{u"p"_s, u"/u"_s}, {u"h"_s, u""_s}});
    const QJsonObject r = c.call(u"m"_s,
        {{u"p"_s, u"/u"_s},
            {u"d"_s, QJsonObject {{u"x/y"_s, 2}, {u"n"_s, QJsonArray {1, 2}}, {u"keep"_s, QJsonValue()}}}});
    QCOMPARE(replyStatus(r), u"ok"_s);
    const QJsonObject push = c.waitPush(pushAt(u"m"_s, u"/u"_s));
    QCOMPARE(pushData(push).toObject().value(u"x/y"_s).toDouble(), 2.0);
    const QJsonObject value = c.call(u"g"_s, {{u"p"_s, u"/u"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    // Multi-segment keys merge deep, arrays are stored as objects, null deletes.
    QCOMPARE(value,
        (QJsonObject {
            {u"x"_s, QJsonObject {{u"old"_s, 1}, {u"y"_s, 2}}}, {u"n"_s, QJsonObject {{u"0"_s, 1}, {u"1"_s, 2}}}}));
}

void TstProtocol::serverValues()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    c.call(u"p"_s,
        {{u"p"_s, u"/sv"_s}, {u"d"_s, QJsonObject {{u"at"_s, QJsonObject {{u".sv"_s, u"timestamp"_s}}}, {u"n"_s, 5}}}});
    c.call(u"m"_s,
        {{u"p"_s, u"/sv"_s},
            {u"d"_s, QJsonObject {{u"n"_s, QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, 3}}}}}}}});
    c.call(u"m"_s,
        {{u"p"_s, u"/sv"_s},
            {u"d"_s, QJsonObject {{u"m"_s, QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, 2}}}}}}}});
    const QJsonObject v = c.call(u"g"_s, {{u"p"_s, u"/sv"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    QVERIFY(v.value(u"at"_s).toDouble() >= double(before));
    QVERIFY(v.value(u"at"_s).toDouble() <= double(QDateTime::currentMSecsSinceEpoch()));
    QCOMPARE(v.value(u"n"_s).toDouble(), 8.0);
    QCOMPARE(v.value(u"m"_s).toDouble(), 2.0); // increment of nothing is the delta
}

void TstProtocol::taggedQueryPushesFilteredWindow()
{
    auto server = startTestServer();
    RawClient c, w;
    QVERIFY(c.open(server->port()));
    QVERIFY(w.open(server->port()));
    for (int i = 1; i <= 5; ++i)
        w.call(u"p"_s, {{u"p"_s, u"/scores/p%1"_s.arg(i)}, {u"d"_s, QJsonObject {{u"s"_s, i * 10}}}});
    const QJsonObject q {{u"l"_s, 2}, {u"vf"_s, u"r"_s}, {u"i"_s, u"s"_s}};
    c.call(u"q"_s, {{u"p"_s, u"/scores"_s}, {u"q"_s, q}, {u"t"_s, 7}, {u"h"_s, u""_s}});
    QCOMPARE(c.pushes.size(), 1);
    QCOMPARE(c.pushes.at(0).value(u"b"_s).toObject().value(u"t"_s).toDouble(), 7.0);
    QCOMPARE(pushData(c.pushes.at(0)).toObject().keys(), (QStringList {u"p4"_s, u"p5"_s}));
    // A change outside the window pushes nothing; one that enters it re-pushes the window.
    w.call(u"p"_s, {{u"p"_s, u"/scores/p1/s"_s}, {u"d"_s, 11}});
    w.call(u"p"_s, {{u"p"_s, u"/scores/p2/s"_s}, {u"d"_s, 99}});
    const QJsonObject push = c.waitPush([](const QJsonObject &p) { return pushData(p).toObject().contains(u"p2"_s); });
    QCOMPARE(pushData(push).toObject().keys(), (QStringList {u"p2"_s, u"p5"_s}));
    QCOMPARE(c.pushes.size(), 2);
}

void TstProtocol::getWithQuery()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    for (const QString &k : {u"b"_s, u"a"_s, u"10"_s, u"9"_s, u"c"_s})
        c.call(u"p"_s, {{u"p"_s, u"/k/"_s + k}, {u"d"_s, true}});
    const QJsonObject r = c.call(
        u"g"_s, {{u"p"_s, u"/k"_s}, {u"q"_s, QJsonObject {{u"i"_s, u".key"_s}, {u"l"_s, 3}, {u"vf"_s, u"l"_s}}}});
    // Integer-like keys first, numerically.
    QCOMPARE(r.value(u"d"_s).toObject().keys(), (QStringList {u"10"_s, u"9"_s, u"a"_s}));
}

void TstProtocol::transactionHashMismatchIsDatastale()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/ctr"_s}, {u"d"_s, 1}, {u"h"_s, u""_s}})), u"ok"_s);
    const QJsonObject stale = c.call(u"p"_s, {{u"p"_s, u"/ctr"_s}, {u"d"_s, 1}, {u"h"_s, u""_s}});
    QCOMPARE(replyStatus(stale), u"datastale"_s);
    QCOMPARE(c.call(u"g"_s, {{u"p"_s, u"/ctr"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toDouble(), 1.0);
}

void TstProtocol::namespacesAreSeparate()
{
    auto server = startTestServer();
    RawClient a, b;
    QVERIFY(a.open(server->port(), u"one"_s));
    QVERIFY(b.open(server->port(), u"two"_s));
    a.call(u"p"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}});
    QVERIFY(b.call(u"g"_s, {{u"p"_s, u"/x"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).isNull());
    QCOMPARE(server->namespaces().size(), 2);
}

static QString mockToken(const QString &sub)
{
    auto b64 = [](const QByteArray &b) {
        return QString::fromLatin1(b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    };
    const QByteArray payload
        = QJsonDocument(QJsonObject {{u"sub"_s, sub}, {u"user_id"_s, sub}, {u"iat"_s, 0}, {u"exp"_s, 3600},
                            {u"firebase"_s, QJsonObject {{u"sign_in_provider"_s, u"custom"_s}}}})
              .toJson(QJsonDocument::Compact);
    return b64(R"({"alg":"none","type":"JWT"})") + u'.' + b64(payload) + u'.';
}

void TstProtocol::mockTokenAndAdminAuth()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    const QJsonObject r = c.call(u"auth"_s, {{u"cred"_s, mockToken(u"alice"_s)}});
    QCOMPARE(replyStatus(r), u"ok"_s);
    QCOMPARE(r.value(u"d"_s).toObject().value(u"auth"_s).toObject().value(u"uid"_s).toString(), u"alice"_s);
    QCOMPARE(server->sessions().constFirst()->identity().uid, u"alice"_s);
    QCOMPARE(replyStatus(c.call(u"auth"_s, {{u"cred"_s, u"not-a-jwt"_s}})), u"invalid_token"_s);
    QCOMPARE(replyStatus(c.call(u"gauth"_s, {{u"cred"_s, u"something"_s}})), u"invalid_token"_s);
    QCOMPARE(replyStatus(c.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"ok"_s);
    QVERIFY(server->sessions().constFirst()->identity().isAdmin());
}

void TstProtocol::adminFeedShowsSessionsAndOps()
{
    auto server = startTestServer();
    RawClient admin, user;
    QVERIFY(admin.open(server->port()));
    QCOMPARE(replyStatus(admin.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"ok"_s);
    const QJsonObject snapshot = admin.call(u"lark.watch"_s, {});
    QCOMPARE(replyStatus(snapshot), u"ok"_s);
    QCOMPARE(snapshot.value(u"d"_s).toObject().value(u"sessions"_s).toArray().size(), 1);
    QVERIFY(user.open(server->port()));
    user.call(u"o"_s, {{u"p"_s, u"/presence/u1"_s}, {u"d"_s, QJsonObject {{u".sv"_s, u"timestamp"_s}}}});
    const QJsonObject push = admin.waitPush([](const QJsonObject &p) {
        return p.value(u"a"_s) == u"lark.session"_s && !p.value(u"b"_s).toObject().value(u"ops"_s).toArray().isEmpty();
    });
    const QJsonObject s = push.value(u"b"_s).toObject();
    QCOMPARE(s.value(u"state"_s).toString(), u"live"_s);
    const QJsonObject op = s.value(u"ops"_s).toArray().at(0).toObject();
    QCOMPARE(op.value(u"path"_s).toString(), u"/presence/u1"_s);
    QCOMPARE(op.value(u"kind"_s).toString(), u"set"_s);
    // The feed never carries full session ids (bearer secrets).
    QVERIFY(!QJsonDocument(push).toJson().contains(user.sessionId().toUtf8()));
    user.socket.close();
    QVERIFY(!admin.waitPush([](const QJsonObject &p) { return p.value(u"a"_s) == u"lark.session.ended"_s; }).isEmpty());
    // What the ops wrote, resolved, came just before: lark.fired.
    qsizetype firedAt = -1, endedAt = -1;
    for (qsizetype i = 0; i < admin.pushes.size(); ++i) {
        const QString a = admin.pushes.at(i).value(u"a"_s).toString();
        if (a == u"lark.fired"_s)
            firedAt = i;
        else if (a == u"lark.session.ended"_s)
            endedAt = i;
    }
    QVERIFY(firedAt >= 0);
    QCOMPARE(endedAt, firedAt + 1);
    const QJsonObject fired = admin.pushes.at(firedAt).value(u"b"_s).toObject();
    QCOMPARE(fired.value(u"session"_s).toObject().value(u"endReason"_s).toString(), u"clean close"_s);
    QCOMPARE(fired.value(u"session"_s).toObject().value(u"handle"_s), s.value(u"handle"_s));
    const QJsonArray ops = fired.value(u"ops"_s).toArray();
    QCOMPARE(ops.size(), 1);
    QCOMPARE(ops.at(0).toObject().value(u"path"_s).toString(), u"/presence/u1"_s);
    // The ServerValue is resolved, to the time of the batch.
    QCOMPARE(ops.at(0).toObject().value(u"value"_s).toDouble(), fired.value(u"firedAt"_s).toDouble());
    QVERIFY(fired.value(u"firedAt"_s).toDouble() >= op.value(u"registeredAt"_s).toDouble());
    QVERIFY(!QJsonDocument(fired).toJson().contains(user.sessionId().toUtf8()));
}

void TstProtocol::adminFeedRefusedForNonAdmin()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port()));
    QCOMPARE(replyStatus(c.call(u"lark.watch"_s, {})), u"permission_denied"_s);
    c.call(u"o"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}});
    for (const QJsonObject &p : std::as_const(c.pushes))
        QVERIFY(!p.value(u"a"_s).toString().startsWith(u"lark."_s));
}

void TstProtocol::adminFeedSaysWhenASessionGoesSilent()
{
    // Pings every 50 ms: silent after 175 ms without a word, dropped at 1.5 s.
    auto server = startTestServer(50, 1500, 60000);
    RawClient admin;
    QVERIFY(admin.open(server->port()));
    QCOMPARE(replyStatus(admin.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"ok"_s);
    QCOMPARE(replyStatus(admin.call(u"lark.watch"_s, {})), u"ok"_s);
    SilentClient quiet; // never answers a ping
    QVERIFY(quiet.open(server->port(), u"lark"_s));
    const auto sessionPush = [](bool silent) {
        return [silent](const QJsonObject &p) {
            const QJsonObject s = p.value(u"b"_s).toObject();
            return p.value(u"a"_s) == u"lark.session"_s && s.value(u"identity"_s) == u"anonymous"_s
                && s.value(u"state"_s) == u"live"_s && s.contains(u"silent"_s)
                && s.value(u"silent"_s).toBool() == silent;
        };
    };
    const QJsonObject silent = admin.waitPush(sessionPush(true));
    QVERIFY(!silent.isEmpty());
    const QJsonObject s = silent.value(u"b"_s).toObject();
    QVERIFY(s.value(u"lastActivityMsAgo"_s).toDouble() >= 175);
    QCOMPARE(s.value(u"deadAfterMs"_s).toInt(), 1500);
    // Any frame is life: the feed says so at the next sweep.
    admin.pushes.clear();
    quiet.sendText(R"({"t":"c","d":{"t":"p","d":{}}})");
    QVERIFY(!admin.waitPush(sessionPush(false)).isEmpty());
    // And silent again, then dropped at dead-after: suspended.
    QVERIFY(!admin.waitPush(sessionPush(true)).isEmpty());
    QVERIFY(!admin
                 .waitPush([](const QJsonObject &p) {
                     return p.value(u"a"_s) == u"lark.session"_s
                         && p.value(u"b"_s).toObject().value(u"state"_s) == u"suspended"_s;
                 })
                 .isEmpty());
    // A watcher that answers its pings is never reported silent.
    for (const QJsonObject &p : std::as_const(admin.pushes))
        QVERIFY(p.value(u"b"_s).toObject().value(u"identity"_s) != u"admin"_s
            || !p.value(u"b"_s).toObject().value(u"silent"_s).toBool());
}

QTEST_GUILESS_MAIN(TstProtocol)
#include "tst_protocol.moc"
