// SPDX-License-Identifier: MIT
#include "v5requests.h"

#include "db/validation.h"
#include "protocol/messages.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

bool refuse(Reply *out, const QString &status, const QString &message)
{
    *out = {status, message};
    return false;
}

bool decodePath(const QJsonObject &b, bool forWrite, Path *path, Reply *refusal)
{
    Refusal why;
    if (parseRequestPath(b, forWrite, path, &why))
        return true;
    return refuse(refusal, why.status, why.message);
}

bool decodeLocation(const QJsonObject &b, Request *out, Reply *refusal)
{
    if (!decodePath(b, false, &out->path, refusal))
        return false;
    QString why;
    if (!Query::fromWire(b.value(u"q"_s).toObject(), &out->query, &why))
        return refuse(refusal, status::InvalidRequest, why);
    return true;
}

bool decodeChildren(const QJsonObject &b, Request *out, Reply *refusal)
{
    Refusal why;
    if (parseUpdateChildren(b, out->path, &out->children, &why))
        return true;
    return refuse(refusal, why.status, why.message);
}

} // namespace

std::optional<Request::Action> v5DataAction(QStringView action)
{
    // Every request passes here: compare by length first rather than against a list of strings.
    using Action = Request::Action;
    if (action.size() == 1) {
        switch (action.front().unicode()) {
        case 'q':
        case 'l':
            return Action::Listen;
        case 'n':
            return Action::Unlisten;
        case 'g':
            return Action::Get;
        case 'p':
            return Action::Set;
        case 'm':
            return Action::Update;
        case 'o':
            return Action::OnDisconnectSet;
        default:
            return std::nullopt;
        }
    }
    if (action == u"om")
        return Action::OnDisconnectUpdate;
    if (action == u"oc")
        return Action::OnDisconnectCancel;
    return std::nullopt;
}

bool decodeV5Request(Request::Action action, const QJsonObject &b, Request *out, Reply *refusal)
{
    using Action = Request::Action;
    out->action = action;
    switch (action) {
    case Action::Listen:
        if (!decodeLocation(b, out, refusal))
            return false;
        (void)protocol::toInt64(b.value(u"t"_s), &out->tag); // untagged unless t is a whole number
        out->hash = b.value(u"h"_s).toString().toLatin1();
        return true;
    case Action::Unlisten:
    case Action::Get:
        return decodeLocation(b, out, refusal);
    case Action::Set:
    case Action::OnDisconnectSet: {
        if (!decodePath(b, true, &out->path, refusal))
            return false;
        if (!b.contains(u"d"_s))
            return refuse(refusal, status::InvalidRequest, u"missing data d"_s);
        out->data = b.value(u"d"_s);
        const QJsonValue hash = b.value(u"h"_s);
        if (action == Action::Set
            && hash.isString()) { // a transaction: set only if the location is as the client saw it
            out->hasExpectedHash = true;
            out->hash = hash.toString().toLatin1();
        }
        return true;
    }
    case Action::Update:
    case Action::OnDisconnectUpdate:
        return decodePath(b, true, &out->path, refusal) && decodeChildren(b, out, refusal);
    case Action::OnDisconnectCancel:
        return decodePath(b, true, &out->path, refusal);
    }
    return refuse(refusal, status::InvalidRequest, u"unknown request"_s);
}

} // namespace lark
