// SPDX-License-Identifier: MIT
// Security rules on the real server over 127.0.0.1, in raw v5 frames: denied requests change nothing, the owner is
// allowed, and a change of rules or identity revokes listens (the `c` push) and drops queued ops (lark.dropped).
#include "rawclient.h"
#include "testserver.h"

#include "server/session.h"

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

const QByteArray PresenceRules = R"({"rules": {
  "presence": {"$uid": {".read": true, ".write": "$uid === auth.uid"}},
  "secret": {".read": false, ".write": false}
}})";

/** An emulator-style (unsigned) token for uid, as the SDK's mockUserToken. */
QString unsignedToken(const QString &uid)
{
    const auto b64 = [](const QByteArray &b) {
        return QString::fromLatin1(b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    };
    return b64(R"({"alg":"none","type":"JWT"})") + u'.'
        + b64(QJsonDocument(QJsonObject {{u"sub"_s, uid}, {u"iat"_s, 0}}).toJson(QJsonDocument::Compact)) + u'.';
}

bool isRevoked(const QJsonObject &push)
{
    return push.value(u"a"_s) == u"c"_s;
}

QJsonObject body(const QString &p, const QJsonValue &d = QJsonValue::Undefined)
{
    QJsonObject b {{u"p"_s, p}};
    if (!d.isUndefined())
        b.insert(u"d"_s, d);
    return b;
}

} // namespace

class TestEnforcement : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void deniedRequestsChangeNothing();
    void ownerIsAllowed();
    void tightenedRulesRevokeListens();
    void unauthRevokesListens();
    void tightenedRulesDropQueuedOps();
    void identityChangeRechecksOps();

private:
    bool signIn(RawClient &c, const QString &uid)
    {
        return replyStatus(c.call(u"auth"_s, {{u"cred"_s, unsignedToken(uid)}})) == u"ok"_s;
    }
    Session *session(const RawClient &c) const { return m_server->findSession(c.sessionId()); }
    QJsonValue value(const QString &p) const
    {
        Path at;
        QString error;
        (void)Path::parse(p, &at, &error);
        return m_server->database(u"test"_s)->valueJson(at);
    }
    std::unique_ptr<Server> m_server;
};

void TestEnforcement::init()
{
    m_server = startTestServer();
    const SecurityRules::Result r = m_server->rules().set(u"test"_s, PresenceRules);
    QVERIFY2(r.ok, qPrintable(r.error));
}

void TestEnforcement::cleanup()
{
    m_server.reset();
}

void TestEnforcement::deniedRequestsChangeNothing()
{
    QVERIFY(m_server->importJson(u"test"_s, Path(), R"({"secret": 42, "presence": {"bob": "online"}})", nullptr));
    QSignalSpy denials(m_server->adminFeed(), &AdminFeed::requestDenied);
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QVERIFY(signIn(c, u"alice"_s));
    const auto denied = [](const QJsonObject &reply) {
        return replyStatus(reply) == u"permission_denied"_s && reply.value(u"d"_s) == u"Permission denied"_s;
    };
    QVERIFY(denied(c.call(u"q"_s, {{u"p"_s, u"/secret"_s}, {u"h"_s, u""_s}})));
    QVERIFY(denied(c.call(u"g"_s, {{u"p"_s, u"/secret"_s}})));
    QVERIFY(denied(c.call(u"p"_s, body(u"/presence/bob"_s, u"hacked"_s))));
    // An update with one allowed and one denied key is refused whole.
    QVERIFY(denied(c.call(u"m"_s, body(u"/presence"_s, QJsonObject {{u"alice"_s, u"on"_s}, {u"bob"_s, u"x"_s}}))));
    QVERIFY(denied(c.call(u"p"_s, {{u"p"_s, u"/secret"_s}, {u"d"_s, 1}, {u"h"_s, u"whatever"_s}}))); // transaction
    QVERIFY(denied(c.call(u"o"_s, body(u"/presence/bob"_s, u"offline"_s))));
    QVERIFY(denied(c.call(u"om"_s, body(u"/presence"_s, QJsonObject {{u"bob"_s, QJsonValue::Null}}))));
    // No data push went out for the denied listen, nothing was written, nothing was queued.
    QVERIFY(c.pushes.isEmpty());
    QCOMPARE(value(u"/secret"_s), QJsonValue(42));
    QCOMPARE(value(u"/presence"_s), QJsonValue(QJsonObject {{u"bob"_s, u"online"_s}}));
    QVERIFY(session(c)->queue().isEmpty());
    // Every denial reached the admin feed with who, what and the rule.
    QCOMPARE(denials.count(), 7);
    const QJsonObject write = denials.at(2).at(0).toJsonObject();
    QCOMPARE(write.value(u"action"_s).toString(), u"set"_s);
    QCOMPARE(write.value(u"path"_s).toString(), u"/presence/bob"_s);
    QCOMPARE(write.value(u"identity"_s).toString(), u"user:alice"_s);
    QCOMPARE(write.value(u"transport"_s).toString(), u"websocket"_s);
    QCOMPARE(write.value(u"rule"_s).toString(), u"/presence/$uid .write: \"$uid === auth.uid\""_s);
    QCOMPARE(denials.at(4).at(0).toJsonObject().value(u"action"_s).toString(), u"transaction"_s);
}

void TestEnforcement::ownerIsAllowed()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QVERIFY(signIn(c, u"alice"_s));
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/presence/bob"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"p"_s, body(u"/presence/alice"_s, u"online"_s))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"m"_s, body(u"/presence"_s, QJsonObject {{u"alice"_s, u"away"_s}}))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, body(u"/presence/alice"_s, u"offline"_s))), u"ok"_s);
    QCOMPARE(value(u"/presence/alice"_s), QJsonValue(u"away"_s));
    c.socket.close(); // a clean close fires the op
    QTRY_COMPARE(value(u"/presence/alice"_s), QJsonValue(u"offline"_s));
}

void TestEnforcement::tightenedRulesRevokeListens()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/presence/alice"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    const QJsonObject q {{u"i"_s, u"at"_s}, {u"l"_s, 2}, {u"vf"_s, u"l"_s}};
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/presence/bob"_s}, {u"q"_s, q}, {u"t"_s, 1}, {u"h"_s, u""_s}})),
        u"ok"_s);
    QCOMPARE(m_server->database(u"test"_s)->listenCount(), 2);
    QVERIFY(m_server->rules().set(u"test"_s, R"({"rules": {"presence": {"bob": {".read": true}}}})").ok);
    // The plain listen is revoked without q, and the tagged one is kept: its path is still readable.
    const QJsonObject plain = c.waitPush(isRevoked, 5000);
    QCOMPARE(plain.value(u"b"_s).toObject(), (QJsonObject {{u"p"_s, u"/presence/alice"_s}}));
    QCOMPARE(m_server->database(u"test"_s)->listenCount(), 1);
    QVERIFY(m_server->rules().set(u"test"_s, R"({"rules": {}})").ok);
    QTRY_COMPARE(std::count_if(c.pushes.cbegin(), c.pushes.cend(), isRevoked), 2);
    const QJsonObject tagged = c.pushes.last();
    QCOMPARE(tagged.value(u"b"_s).toObject(), (QJsonObject {{u"p"_s, u"/presence/bob"_s}, {u"q"_s, QJsonArray {q}}}));
    QCOMPARE(m_server->database(u"test"_s)->listenCount(), 0);
    // Rules are not re-checked on data change, and a revoked listen gets no more data.
    const qsizetype before = c.pushes.size();
    QVERIFY(m_server->importJson(u"test"_s, Path(), R"({"presence": {"alice": 1, "bob": 2}})", nullptr));
    QCOMPARE(replyStatus(c.call(u"s"_s, {})), u"ok"_s); // a round trip: any push would have arrived before it
    QCOMPARE(c.pushes.size(), before);
}

void TestEnforcement::unauthRevokesListens()
{
    QVERIFY(m_server->rules().set(u"test"_s, R"({"rules": {"members": {".read": "auth != null"}}})").ok);
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/members"_s}, {u"h"_s, u""_s}})), u"permission_denied"_s);
    QVERIFY(signIn(c, u"alice"_s));
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/members"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"unauth"_s, {})), u"ok"_s);
    const QJsonObject revoked = c.waitPush(isRevoked, 5000);
    QCOMPARE(revoked.value(u"b"_s).toObject(), (QJsonObject {{u"p"_s, u"/members"_s}}));
    QCOMPARE(m_server->database(u"test"_s)->listenCount(), 0);
}

void TestEnforcement::tightenedRulesDropQueuedOps()
{
    QVERIFY(m_server->importJson(u"test"_s, Path(), R"({"presence": {"alice": "online"}})", nullptr));
    RawClient admin;
    QVERIFY(admin.open(m_server->port()));
    QCOMPARE(replyStatus(admin.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"ok"_s);
    QCOMPARE(replyStatus(admin.call(u"lark.watch"_s, {})), u"ok"_s);
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QVERIFY(signIn(c, u"alice"_s));
    QCOMPARE(replyStatus(c.call(u"o"_s, body(u"/presence/alice"_s, u"offline"_s))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, body(u"/log/alice"_s, u"left"_s))), u"permission_denied"_s);
    const QString handle = session(c)->handle();
    QCOMPARE(session(c)->queue().ops().size(), 1u);

    QVERIFY(m_server->rules().set(u"test"_s, R"({"rules": {"presence": {".read": true, ".write": false}}})").ok);
    const QJsonObject dropped
        = admin.waitPush([](const QJsonObject &p) { return p.value(u"a"_s) == u"lark.dropped"_s; });
    QVERIFY2(!dropped.isEmpty(), "no lark.dropped on the admin feed");
    const QJsonObject b = dropped.value(u"b"_s).toObject();
    QCOMPARE(b.value(u"session"_s).toString(), handle);
    QCOMPARE(b.value(u"path"_s).toString(), u"/presence/alice"_s);
    QCOMPARE(b.value(u"rule"_s).toString(), u"/presence .write: \"false\""_s);
    QVERIFY(!b.value(u"reason"_s).toString().isEmpty());
    QVERIFY(session(c)->queue().isEmpty());

    // The session ends: the dropped op does not fire.
    QSignalSpy ended(m_server->adminFeed(), &AdminFeed::sessionRemoved);
    c.socket.close();
    QVERIFY(ended.wait(5000));
    QCOMPARE(value(u"/presence/alice"_s), QJsonValue(u"online"_s));
}

void TestEnforcement::identityChangeRechecksOps()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QVERIFY(signIn(c, u"alice"_s));
    QCOMPARE(replyStatus(c.call(u"o"_s, body(u"/presence/alice"_s, u"offline"_s))), u"ok"_s);
    QSignalSpy dropped(m_server->adminFeed(), &AdminFeed::opDropped);
    // Signing in as someone else binds the session's ops to bob, who may not write alice's entry.
    QVERIFY(signIn(c, u"bob"_s));
    QCOMPARE(dropped.count(), 1);
    QCOMPARE(dropped.at(0).at(0).toJsonObject().value(u"identity"_s).toString(), u"user:bob"_s);
    QVERIFY(session(c)->queue().isEmpty());
}

QTEST_GUILESS_MAIN(TestEnforcement)
#include "tst_enforcement.moc"
