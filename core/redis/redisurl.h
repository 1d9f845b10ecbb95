// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

namespace lark::redis
{

/** Where a Redis is: redis://[:password@]host[:port][/db] (hiredis 0.14 has no URL parser of its own). */
struct RedisUrl {
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString password; /**< sent with AUTH after connecting; empty: none */
    int db = 0; /**< sent with SELECT after connecting when not 0 */

    /** False with a reason for anything but redis://[:password@]host[:port][/db]. */
    static bool parse(const QString &text, RedisUrl *url, QString *error);
    /** redis://host:port[/db], without the password: for logs and messages. */
    [[nodiscard]] QString toString() const;
};

} // namespace lark::redis
