// SPDX-License-Identifier: MIT
// The namespaces' rules as the request path's Authorizer: loading (set, dryRun, errors, reset), the admin bypass,
// the `auth` the rules see, and how a denial names its rule.
#include "testvalues.h"

#include "db/database.h"
#include "server/securityrules.h"

#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

const QByteArray Presence = R"({
  // the owner writes, everyone reads
  "rules": {
    "presence": {
      "$uid": {".read": true, ".write": "$uid === auth.uid"}
    }
  }
})";

Identity user(const QString &uid)
{
    Identity who;
    who.kind = Identity::Kind::User;
    who.uid = uid;
    who.provider = u"custom"_s;
    who.claims = {{u"sub"_s, uid}, {u"admin"_s, false}};
    return who;
}

Identity admin()
{
    Identity who;
    who.kind = Identity::Kind::Admin;
    who.uid = u"owner"_s;
    return who;
}

std::vector<Write> setTo(const QString &value)
{
    std::vector<Write> writes;
    writes.push_back({Path(), node(value)});
    return writes;
}

} // namespace

class TestSecurityRules : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void noRulesIsOpen();
    void setInstallsAndSignals();
    void dryRunInstallsNothing();
    void errorKeepsThePreviousRules();
    void resetOpens();
    void namespacesAreIndependent();
    void adminBypassesEverything();
    void authVariable();
    void denialNamesItsRule();
    void unindexedQueryWarnsOnce();

private:
    std::unique_ptr<Database> m_db;
    std::unique_ptr<SecurityRules> m_rules;
};

void TestSecurityRules::init()
{
    m_db = std::make_unique<Database>(u"app"_s);
    m_rules = std::make_unique<SecurityRules>();
}

void TestSecurityRules::noRulesIsOpen()
{
    QVERIFY(!m_rules->hasRules(u"app"_s));
    QCOMPARE(m_rules->ruleset(u"app"_s)->source(), rules::Ruleset::open()->source());
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/any"_s), Query(), 1));
    QVERIFY(!m_rules->mayWrite(Identity(), *m_db, path(u"/any"_s), setTo(u"1"_s), 1));
}

void TestSecurityRules::setInstallsAndSignals()
{
    QSignalSpy changed(m_rules.get(), &SecurityRules::rulesChanged);
    const SecurityRules::Result r = m_rules->set(u"app"_s, Presence);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toString(), u"app"_s);
    QVERIFY(m_rules->hasRules(u"app"_s));
    QCOMPARE(m_rules->ruleset(u"app"_s)->source(), Presence); // byte for byte, comment included
    // The owner may write their entry, nobody else's; everyone may read one, but nothing above.
    QVERIFY(!m_rules->mayWrite(user(u"alice"_s), *m_db, path(u"/presence/alice"_s), setTo(u"true"_s), 1));
    QVERIFY(m_rules->mayWrite(user(u"bob"_s), *m_db, path(u"/presence/alice"_s), setTo(u"true"_s), 1));
    QVERIFY(m_rules->mayWrite(Identity(), *m_db, path(u"/presence/alice"_s), setTo(u"true"_s), 1));
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/presence/alice"_s), Query(), 1));
    QVERIFY(m_rules->mayRead(user(u"alice"_s), *m_db, path(u"/presence"_s), Query(), 1));
}

void TestSecurityRules::dryRunInstallsNothing()
{
    QSignalSpy changed(m_rules.get(), &SecurityRules::rulesChanged);
    QVERIFY(m_rules->set(u"app"_s, Presence, true).ok);
    QVERIFY(!m_rules->hasRules(u"app"_s));
    QCOMPARE(changed.count(), 0);
    const SecurityRules::Result bad = m_rules->set(u"app"_s, R"({"rules": {".read": "auth.uid"}})", true);
    QVERIFY(!bad.ok);
    QVERIFY(!bad.error.isEmpty());
}

void TestSecurityRules::errorKeepsThePreviousRules()
{
    QVERIFY(m_rules->set(u"app"_s, Presence).ok);
    QSignalSpy changed(m_rules.get(), &SecurityRules::rulesChanged);
    const SecurityRules::Result bad = m_rules->set(u"app"_s, "{\n  \"rules\": {\n    \".read\": tru\n  }\n}");
    QVERIFY(!bad.ok);
    // "L:C: message", as the emulator's 400 body carries it.
    QVERIFY2(QRegularExpression(u"^\\d+:\\d+: \\S"_s).match(bad.error).hasMatch(), qPrintable(bad.error));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(m_rules->ruleset(u"app"_s)->source(), Presence);
}

void TestSecurityRules::resetOpens()
{
    QVERIFY(m_rules->set(u"app"_s, R"({"rules": {}})").ok);
    QVERIFY(m_rules->mayRead(Identity(), *m_db, path(u"/x"_s), Query(), 1));
    QSignalSpy changed(m_rules.get(), &SecurityRules::rulesChanged);
    m_rules->reset(u"app"_s);
    QCOMPARE(changed.count(), 1);
    QVERIFY(!m_rules->hasRules(u"app"_s));
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/x"_s), Query(), 1));
    m_rules->reset(u"app"_s); // nothing to reset: no re-check needed
    QCOMPARE(changed.count(), 1);
}

void TestSecurityRules::namespacesAreIndependent()
{
    QVERIFY(m_rules->set(u"other"_s, R"({"rules": {}})").ok);
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/x"_s), Query(), 1));
    const Database other(u"other"_s);
    QVERIFY(m_rules->mayRead(Identity(), other, path(u"/x"_s), Query(), 1));
}

void TestSecurityRules::adminBypassesEverything()
{
    // Nothing may be read or written, and every value fails its .validate: the admin still may.
    QVERIFY(m_rules->set(u"app"_s, R"({"rules": {".read": false, ".write": false, ".validate": false}})").ok);
    QVERIFY(m_rules->mayWrite(user(u"alice"_s), *m_db, path(u"/a"_s), setTo(u"1"_s), 1));
    QVERIFY(!m_rules->mayWrite(admin(), *m_db, path(u"/a"_s), setTo(u"1"_s), 1));
    QVERIFY(!m_rules->mayRead(admin(), *m_db, path(u"/"_s), Query(), 1));
}

void TestSecurityRules::authVariable()
{
    QVERIFY(SecurityRules::authVariable(Identity()).isNull());
    const QJsonObject auth = SecurityRules::authVariable(user(u"alice"_s)).toObject();
    QCOMPARE(auth.value(u"uid"_s).toString(), u"alice"_s);
    QCOMPARE(auth.value(u"provider"_s).toString(), u"custom"_s);
    QCOMPARE(auth.value(u"token"_s).toObject().value(u"sub"_s).toString(), u"alice"_s);
    // The rules read it: a claim of the token decides.
    QVERIFY(m_rules->set(u"app"_s, R"({"rules": {".read": "auth.token.sub === 'alice'"}})").ok);
    QVERIFY(!m_rules->mayRead(user(u"alice"_s), *m_db, path(u"/"_s), Query(), 1));
    QVERIFY(m_rules->mayRead(user(u"bob"_s), *m_db, path(u"/"_s), Query(), 1));
}

void TestSecurityRules::denialNamesItsRule()
{
    QVERIFY(m_rules->set(u"app"_s, Presence).ok);
    const std::optional<Denied> write
        = m_rules->mayWrite(user(u"bob"_s), *m_db, path(u"/presence/alice"_s), setTo(u"true"_s), 1);
    QVERIFY(write);
    QCOMPARE(write->rule, u"/presence/$uid .write: \"$uid === auth.uid\""_s);
    QCOMPARE(write->message, u"no .write rule granted access to /presence/alice"_s);
    const std::optional<Denied> read = m_rules->mayRead(user(u"bob"_s), *m_db, path(u"/"_s), Query(), 1);
    QVERIFY(read);
    QCOMPARE(read->rule, u"/ (no rule granted)"_s);
}

void TestSecurityRules::unindexedQueryWarnsOnce()
{
    QVERIFY(m_rules->set(u"app"_s, R"({"rules": {".read": true, "people": {".indexOn": ["age"]}}})").ok);
    Query byAge, byName, byValue;
    QString error;
    QVERIFY(Query::fromWire({{u"i"_s, u"age"_s}}, &byAge, &error));
    QVERIFY(Query::fromWire({{u"i"_s, u"name/first"_s}}, &byName, &error));
    QVERIFY(Query::fromWire({{u"i"_s, u".value"_s}}, &byValue, &error));
    QTest::failOnWarning(QRegularExpression(u".*"_s)); // only the warnings expected below
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/people"_s), byAge, 1)); // indexed: no warning
    QTest::ignoreMessage(QtWarningMsg,
        "namespace app: Using an unspecified index. Consider adding \".indexOn\": \"name/first\" at /people to your "
        "security rules for better performance");
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/people"_s), byName, 1));
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/people"_s), byName, 2)); // once per (ns, path, index)
    QTest::ignoreMessage(QtWarningMsg,
        "namespace app: Using an unspecified index. Consider adding \".indexOn\": \".value\" at /scores to your "
        "security rules for better performance");
    QVERIFY(!m_rules->mayRead(Identity(), *m_db, path(u"/scores"_s), byValue, 1)); // never affects permission
}

QTEST_GUILESS_MAIN(TestSecurityRules)
#include "tst_securityrules.moc"
