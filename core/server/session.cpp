// SPDX-License-Identifier: MIT
#include "session.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

Session::Session(QString id, quint64 number, Database *db)
    : m_id(std::move(id))
    , m_number(number)
    , m_db(db)
{
}

QString Session::handle() const
{
    return u"S"_s + QString::number(m_number);
}

QString Session::stateName(State s)
{
    switch (s) {
    case State::Live:
        return u"live"_s;
    case State::Suspended:
        return u"suspended"_s;
    case State::Ended:
        return u"ended"_s;
    }
    return {};
}

QString Session::endReasonName(EndReason r)
{
    switch (r) {
    case EndReason::None:
        return {};
    case EndReason::CleanClose:
        return u"clean close"_s;
    case EndReason::Timeout:
        return u"timeout"_s;
    case EndReason::Takeover:
        return u"takeover"_s;
    case EndReason::IdentityChanged:
        return u"identity changed"_s;
    case EndReason::ServerShutdown:
        return u"server shutdown"_s;
    }
    return {};
}

} // namespace lark
