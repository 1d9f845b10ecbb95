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

bool isV5DataAction(const QString &action)
{
    static const QStringList actions {u"q"_s, u"l"_s, u"n"_s, u"g"_s, u"p"_s, u"m"_s, u"o"_s, u"om"_s, u"oc"_s};
    return actions.contains(action);
}

bool decodeV5Request(const QString &action, const QJsonObject &b, Request *out, Reply *refusal)
{
    using Action = Request::Action;
    *out = Request();
    if (action == u"q"_s || action == u"l"_s) {
        out->action = Action::Listen;
        if (!decodeLocation(b, out, refusal))
            return false;
        (void)protocol::toInt64(b.value(u"t"_s), &out->tag); // untagged unless t is a whole number
        out->hash = b.value(u"h"_s).toString().toLatin1();
        return true;
    }
    if (action == u"n"_s || action == u"g"_s) {
        out->action = action == u"n"_s ? Action::Unlisten : Action::Get;
        return decodeLocation(b, out, refusal);
    }
    if (action == u"p"_s || action == u"o"_s) {
        out->action = action == u"p"_s ? Action::Set : Action::OnDisconnectSet;
        if (!decodePath(b, true, &out->path, refusal))
            return false;
        if (!b.contains(u"d"_s))
            return refuse(refusal, status::InvalidRequest, u"missing data d"_s);
        out->data = b.value(u"d"_s);
        const QJsonValue hash = b.value(u"h"_s);
        if (action == u"p"_s && hash.isString()) { // a transaction: set only if the location is as the client saw it
            out->hasExpectedHash = true;
            out->hash = hash.toString().toLatin1();
        }
        return true;
    }
    if (action == u"m"_s || action == u"om"_s) {
        out->action = action == u"m"_s ? Action::Update : Action::OnDisconnectUpdate;
        return decodePath(b, true, &out->path, refusal) && decodeChildren(b, out, refusal);
    }
    if (action == u"oc"_s) {
        out->action = Action::OnDisconnectCancel;
        return decodePath(b, true, &out->path, refusal);
    }
    return refuse(refusal, status::InvalidRequest, u"unknown action \"%1\""_s.arg(action.left(64)));
}

} // namespace lark
