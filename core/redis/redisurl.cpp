// SPDX-License-Identifier: MIT
#include "redisurl.h"

#include <QUrl>

using namespace Qt::Literals::StringLiterals;

namespace lark::redis
{

bool RedisUrl::parse(const QString &text, RedisUrl *url, QString *error)
{
    const QUrl u(text, QUrl::StrictMode);
    const auto fail = [&](const QString &why) {
        *error = u"%1: %2 (expected redis://[:password@]host[:port][/db])"_s.arg(text, why);
        return false;
    };
    if (!u.isValid())
        return fail(u.errorString());
    if (u.scheme() != u"redis"_s)
        return fail(u"the scheme is not redis://"_s);
    if (u.host().isEmpty())
        return fail(u"no host"_s);
    if (u.hasQuery() || u.hasFragment())
        return fail(u"no query or fragment is understood"_s);
    RedisUrl out;
    out.host = u.host();
    const int port = u.port(6379);
    if (port < 1 || port > 65535)
        return fail(u"the port is not 1 to 65535"_s);
    out.port = quint16(port);
    // redis://:secret@host (the usual form) or redis://user:secret@host: Redis 7's default user takes the password.
    out.password = u.password(QUrl::FullyDecoded);
    if (out.password.isEmpty() && !u.userName().isEmpty())
        out.password = u.userName(QUrl::FullyDecoded);
    const QString path = u.path();
    if (!path.isEmpty() && path != u"/"_s) {
        bool ok = false;
        out.db = path.mid(1).toInt(&ok);
        if (!ok || out.db < 0)
            return fail(u"the database is not a number from 0"_s);
    }
    *url = out;
    return true;
}

QString RedisUrl::toString() const
{
    return u"redis://%1:%2"_s.arg(host).arg(port) + (db ? u"/%1"_s.arg(db) : QString());
}

} // namespace lark::redis
