// SPDX-License-Identifier: MIT
#pragma once

#include <QMetaType>
#include <QString>

class QDebug;

namespace lark::client
{

/**
 * The outcome of a request: ok, or a code with the server's (or the SDK's) status string and message.
 *
 * Every status that Lark's server or this SDK produces has a code; any other status (a newer server, another
 * Firebase-protocol server) is Code::Unknown, and status() keeps it as received. A Q_GADGET, so qDebug() and QML
 * show the code by name.
 */
class Error
{
    Q_GADGET
    Q_PROPERTY(lark::client::Error::Code code READ code CONSTANT)
    Q_PROPERTY(QString status READ status CONSTANT)
    Q_PROPERTY(QString message READ message CONSTANT)
public:
    enum class Code {
        Ok, /**< "ok" */
        PermissionDenied, /**< "permission_denied": refused by the server's rules; also a listen the server revoked */
        InvalidRequest, /**< "invalid_request": malformed or invalid; also the SDK's own checks (e.g. a write to .info)
                         */
        DataStale, /**< "datastale": a transaction's base changed on the server (the SDK retries on its own) */
        WriteFailed, /**< "write_failed": the server's data file could not keep the write or op */
        TooManyOps, /**< "too_many_ops": the session's onDisconnect queue is full */
        TooManyListens, /**< "too_many_listens": the connection holds as many listens as the server allows */
        InvalidToken, /**< "invalid_token": the credential was refused */
        ExpiredToken, /**< "expired_token": the credential has expired (Firebase servers) */
        Unavailable, /**< "unavailable": the server cannot serve the request now */
        Disconnected, /**< "disconnect" (SDK): a transaction's write was in flight when the connection dropped */
        MaxRetries, /**< "maxretry" (SDK): a transaction was retried too often on concurrent changes */
        Unknown, /**< any other status, kept in status() */
    };
    Q_ENUM(Code)

    /** Ok. */
    Error() = default;
    /** An error made by the SDK, with the code's status string. */
    Error(Code code, QString message);
    /** From a status as the server sent it: "ok" is Ok, a status without a code is Unknown. */
    [[nodiscard]] static Error fromStatus(const QString &status, QString message);

    [[nodiscard]] Code code() const { return m_code; }
    [[nodiscard]] bool isOk() const { return m_code == Code::Ok; }
    /** The status string: "ok", "permission_denied", "disconnect", ...; for Unknown, as received. */
    [[nodiscard]] const QString &status() const { return m_status; }
    [[nodiscard]] const QString &message() const { return m_message; }
    /** "PERMISSION_DENIED: message", as the JS SDK words it; "ok" when ok. */
    [[nodiscard]] QString toString() const;

    /** The status string of a code ("unknown" for Unknown). */
    [[nodiscard]] static QString statusOf(Code code);
    /** The code of a status string; Unknown when it has none. */
    [[nodiscard]] static Code codeOf(const QString &status);

private:
    Code m_code = Code::Ok;
    QString m_status = QStringLiteral("ok");
    QString m_message;
};

/** Error(PermissionDenied, "PERMISSION_DENIED: message") */
QDebug operator<<(QDebug debug, const Error &error);

} // namespace lark::client
