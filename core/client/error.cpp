// SPDX-License-Identifier: MIT
#include "error.h"

#include <QDebug>
#include <QMetaEnum>

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

namespace
{

struct StatusName {
    Error::Code code;
    QLatin1StringView status;
};

// The wire's spelling of each code. Codes are matched by status, not by name, so renaming a code never changes
// what is sent or understood.
constexpr StatusName Statuses[] = {
    {Error::Code::Ok, "ok"_L1},
    {Error::Code::PermissionDenied, "permission_denied"_L1},
    {Error::Code::InvalidRequest, "invalid_request"_L1},
    {Error::Code::DataStale, "datastale"_L1},
    {Error::Code::WriteFailed, "write_failed"_L1},
    {Error::Code::TooManyOps, "too_many_ops"_L1},
    {Error::Code::TooManyListens, "too_many_listens"_L1},
    {Error::Code::InvalidToken, "invalid_token"_L1},
    {Error::Code::ExpiredToken, "expired_token"_L1},
    {Error::Code::Unavailable, "unavailable"_L1},
    {Error::Code::Disconnected, "disconnect"_L1},
    {Error::Code::MaxRetries, "maxretry"_L1},
    {Error::Code::Unknown, "unknown"_L1},
};

} // namespace

Error::Error(Code code, QString message)
    : m_code(code)
    , m_status(statusOf(code))
    , m_message(std::move(message))
{
}

Error Error::fromStatus(const QString &status, QString message)
{
    Error e;
    e.m_code = codeOf(status);
    e.m_status = status;
    e.m_message = std::move(message);
    return e;
}

QString Error::statusOf(Code code)
{
    for (const StatusName &s : Statuses) {
        if (s.code == code)
            return s.status;
    }
    return u"unknown"_s;
}

Error::Code Error::codeOf(const QString &status)
{
    for (const StatusName &s : Statuses) {
        if (s.status == status)
            return s.code;
    }
    return Code::Unknown;
}

QString Error::toString() const
{
    return isOk() ? u"ok"_s : m_status.toUpper() + u": "_s + m_message;
}

QDebug operator<<(QDebug debug, const Error &error)
{
    const QDebugStateSaver saver(debug);
    debug.nospace() << "Error(" << QMetaEnum::fromType<Error::Code>().valueToKey(int(error.code())) << ", "
                    << error.toString() << ')';
    return debug;
}

} // namespace lark::client
