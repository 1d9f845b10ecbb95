// SPDX-License-Identifier: MIT
#include "server/accesspolicy.h"

#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

Q_DECLARE_METATYPE(std::optional<QByteArray>)

class TestAccessPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void check_data();
    void check();
    void normaliseOrigin_data();
    void normaliseOrigin();
    void originOption();
};

namespace
{
const std::optional<QByteArray> None = std::nullopt;
}

void TestAccessPolicy::check_data()
{
    QTest::addColumn<QStringList>("origins"); // --allow-origin
    QTest::addColumn<QStringList>("hosts"); // --allow-host
    QTest::addColumn<bool>("loopbackListener");
    QTest::addColumn<std::optional<QByteArray>>("host");
    QTest::addColumn<std::optional<QByteArray>>("origin");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("admission");

    using A = AccessPolicy::Admission;
    const std::optional<QByteArray> local("127.0.0.1:9000");
    // Who may connect (docs/semantics.md §7).
    QTest::newRow("no Origin: an SDK in Node, a native app")
        << QStringList() << QStringList() << true << local << None << 0 << int(A::NoOrigin);
    QTest::newRow("localhost page") << QStringList() << QStringList() << true << local
                                    << std::optional<QByteArray>("http://localhost:3000") << 0
                                    << int(A::LoopbackOrigin);
    QTest::newRow("127.0.0.1 page") << QStringList() << QStringList() << true << local
                                    << std::optional<QByteArray>("http://127.0.0.1:5173") << 0
                                    << int(A::LoopbackOrigin);
    QTest::newRow("127.8.9.10 page") << QStringList() << QStringList() << true << local
                                     << std::optional<QByteArray>("https://127.8.9.10") << 0 << int(A::LoopbackOrigin);
    QTest::newRow("[::1] page") << QStringList() << QStringList() << true << local
                                << std::optional<QByteArray>("http://[::1]:8080") << 0 << int(A::LoopbackOrigin);
    QTest::newRow("app.localhost page") << QStringList() << QStringList() << true << local
                                        << std::optional<QByteArray>("http://app.localhost:3000") << 0
                                        << int(A::LoopbackOrigin);
    QTest::newRow("LOCALHOST in capitals")
        << QStringList() << QStringList() << true << local << std::optional<QByteArray>("HTTP://LOCALHOST:3000") << 0
        << int(A::LoopbackOrigin);
    QTest::newRow("foreign page") << QStringList() << QStringList() << true << local
                                  << std::optional<QByteArray>("https://evil.example") << 403 << 0;
    QTest::newRow("a name that resolves to loopback is not loopback")
        << QStringList() << QStringList() << true << local << std::optional<QByteArray>("http://localtest.me:3000")
        << 403 << 0;
    QTest::newRow("localhost as a prefix") << QStringList() << QStringList() << true << local
                                           << std::optional<QByteArray>("http://localhost.evil.example") << 403 << 0;
    QTest::newRow("opaque null origin") << QStringList() << QStringList() << true << local
                                        << std::optional<QByteArray>("null") << 403 << 0;
    QTest::newRow("garbage origin") << QStringList() << QStringList() << true << local
                                    << std::optional<QByteArray>("not an origin") << 403 << 0;
    QTest::newRow("listed origin") << QStringList {u"https://app.example.com"_s} << QStringList() << true << local
                                   << std::optional<QByteArray>("https://app.example.com") << 0 << int(A::ListedOrigin);
    QTest::newRow("listed origin, default port spelt out")
        << QStringList {u"https://app.example.com"_s} << QStringList() << true << local
        << std::optional<QByteArray>("https://app.example.com:443") << 0 << int(A::ListedOrigin);
    QTest::newRow("listed origin, other port")
        << QStringList {u"https://app.example.com"_s} << QStringList() << true << local
        << std::optional<QByteArray>("https://app.example.com:8443") << 403 << 0;
    QTest::newRow("listed origin, other scheme")
        << QStringList {u"https://app.example.com"_s} << QStringList() << true << local
        << std::optional<QByteArray>("http://app.example.com") << 403 << 0;
    QTest::newRow("listed null") << QStringList {u"null"_s} << QStringList() << true << local
                                 << std::optional<QByteArray>("null") << 0 << int(A::ListedOrigin);
    QTest::newRow("any origin") << QStringList {u"*"_s} << QStringList() << true << local
                                << std::optional<QByteArray>("https://evil.example") << 0 << int(A::AnyOrigin);
    QTest::newRow("any origin, but a listed one is named")
        << QStringList {u"*"_s, u"https://app.example.com"_s} << QStringList() << true << local
        << std::optional<QByteArray>("https://app.example.com") << 0 << int(A::ListedOrigin);
    // Host (RFC 6455 §4.2.1; DNS rebinding).
    QTest::newRow("no Host") << QStringList() << QStringList() << true << None << None << 400 << 0;
    QTest::newRow("empty Host") << QStringList() << QStringList() << true << std::optional<QByteArray>("") << None
                                << 400 << 0;
    QTest::newRow("Host localhost") << QStringList() << QStringList() << true
                                    << std::optional<QByteArray>("localhost:9000") << None << 0 << int(A::NoOrigin);
    QTest::newRow("Host without port") << QStringList() << QStringList() << true
                                       << std::optional<QByteArray>("127.0.0.1") << None << 0 << int(A::NoOrigin);
    QTest::newRow("Host [::1]") << QStringList() << QStringList() << true << std::optional<QByteArray>("[::1]:9000")
                                << None << 0 << int(A::NoOrigin);
    QTest::newRow("rebinding Host") << QStringList() << QStringList() << true
                                    << std::optional<QByteArray>("evil.example:9000") << None << 403 << 0;
    QTest::newRow("rebinding Host from a loopback page")
        << QStringList() << QStringList() << true << std::optional<QByteArray>("evil.example:9000")
        << std::optional<QByteArray>("http://localhost:3000") << 403 << 0;
    QTest::newRow("listed Host") << QStringList() << QStringList {u"devbox.lan"_s} << true
                                 << std::optional<QByteArray>("DevBox.lan:9000") << None << 0 << int(A::NoOrigin);
    QTest::newRow("any Host") << QStringList() << QStringList {u"*"_s} << true
                              << std::optional<QByteArray>("evil.example:9000") << None << 0 << int(A::NoOrigin);
    QTest::newRow("any Host on a public listener")
        << QStringList() << QStringList() << false << std::optional<QByteArray>("lark.example.com") << None << 0
        << int(A::NoOrigin);
    QTest::newRow("malformed Host") << QStringList() << QStringList() << true
                                    << std::optional<QByteArray>("127.0.0.1:99999") << None << 400 << 0;
    QTest::newRow("Host with a path") << QStringList() << QStringList() << true
                                      << std::optional<QByteArray>("localhost/x") << None << 400 << 0;
    QTest::newRow("unbracketed IPv6 Host")
        << QStringList() << QStringList() << true << std::optional<QByteArray>("::1:9000") << None << 400 << 0;
}

void TestAccessPolicy::check()
{
    QFETCH(QStringList, origins);
    QFETCH(QStringList, hosts);
    QFETCH(bool, loopbackListener);
    QFETCH(std::optional<QByteArray>, host);
    QFETCH(std::optional<QByteArray>, origin);
    QFETCH(int, status);
    QFETCH(int, admission);

    const AccessPolicy policy(origins, hosts, loopbackListener);
    const AccessPolicy::Verdict v = policy.check(host, origin);
    QCOMPARE(v.status, status);
    if (status == 0)
        QCOMPARE(int(v.admission), admission);
    else
        QVERIFY2(!v.reason.isEmpty(), "a refusal says why");
}

void TestAccessPolicy::normaliseOrigin_data()
{
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<QByteArray>("normalised"); // empty: not an origin

    QTest::newRow("plain") << QByteArray("http://localhost:3000") << QByteArray("http://localhost:3000");
    QTest::newRow("case") << QByteArray("HTTPS://App.Example.COM") << QByteArray("https://app.example.com");
    QTest::newRow("default http port") << QByteArray("http://a.example:80") << QByteArray("http://a.example");
    QTest::newRow("default https port") << QByteArray("https://a.example:443") << QByteArray("https://a.example");
    QTest::newRow("trailing slash") << QByteArray("http://a.example/") << QByteArray("http://a.example");
    QTest::newRow("ipv6") << QByteArray("http://[::1]:8080") << QByteArray("http://[::1]:8080");
    QTest::newRow("path") << QByteArray("http://a.example/x") << QByteArray();
    QTest::newRow("userinfo") << QByteArray("http://u@a.example") << QByteArray();
    QTest::newRow("no scheme") << QByteArray("a.example") << QByteArray();
    QTest::newRow("bad port") << QByteArray("http://a.example:x") << QByteArray();
    QTest::newRow("empty host") << QByteArray("http://") << QByteArray();
}

void TestAccessPolicy::normaliseOrigin()
{
    QFETCH(QByteArray, origin);
    QFETCH(QByteArray, normalised);
    QCOMPARE(AccessPolicy::normaliseOrigin(origin), normalised);
}

void TestAccessPolicy::originOption()
{
    QString why;
    QVERIFY(AccessPolicy::isValidOriginOption(u"*"_s, &why));
    QVERIFY(AccessPolicy::isValidOriginOption(u"null"_s, &why));
    QVERIFY(AccessPolicy::isValidOriginOption(u"https://app.example.com:8443"_s, &why));
    QVERIFY(!AccessPolicy::isValidOriginOption(u"app.example.com"_s, &why));
    QVERIFY(why.contains(u"scheme://host"_s));
}

QTEST_GUILESS_MAIN(TestAccessPolicy)
#include "tst_accesspolicy.moc"
