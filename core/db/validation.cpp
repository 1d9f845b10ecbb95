// SPDX-License-Identifier: MIT
#include "validation.h"

#include "servervalues.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{
const QString InvalidRequest = u"invalid_request"_s;
const QString PermissionDenied = u"permission_denied"_s;
} // namespace

bool parseRequestPath(const QJsonObject &body, bool forWrite, Path *path, Refusal *error)
{
    const QJsonValue p = body.value(u"p"_s);
    QString why;
    if (!p.isString()) {
        *error = {InvalidRequest, u"missing path p"_s};
        return false;
    }
    if (!Path::parse(p.toString(), path, &why)) {
        *error = {InvalidRequest, why};
        return false;
    }
    if (forWrite && !path->isRoot() && path->front() == u".info"_s) {
        *error = {PermissionDenied, u".info is read-only"_s};
        return false;
    }
    return true;
}

bool parseUpdateChildren(
    const QJsonObject &body, const Path &path, std::vector<std::pair<Path, QJsonValue>> *out, Refusal *error)
{
    const QJsonValue d = body.value(u"d"_s);
    if (!d.isObject()) {
        *error = {InvalidRequest, u"update data must be an object"_s};
        return false;
    }
    const QJsonObject children = d.toObject();
    for (auto it = children.constBegin(); it != children.constEnd(); ++it) {
        Path rel;
        QString why;
        if (!Path::parseRelative(path, it.key(), &rel, &why)) {
            *error = {InvalidRequest, why};
            return false;
        }
        if (path.isRoot() && rel.front() == u".info"_s) {
            *error = {PermissionDenied, u".info is read-only"_s};
            return false;
        }
        for (const auto &[other, value] : *out) {
            if (other.overlaps(rel)) {
                *error = {
                    InvalidRequest, u"update paths \"%1\" and \"%2\" overlap"_s.arg(other.toString().mid(1), it.key())};
                return false;
            }
        }
        out->emplace_back(rel, it.value());
    }
    return true;
}

bool buildWriteValue(const QJsonValue &json, const Path &at, const Node &root, qint64 nowMs, Node *out, QString *error)
{
    QJsonValue resolved = json;
    if (containsServerValues(json) && !resolveServerValues(json, root.at(at), nowMs, &resolved, error))
        return false;
    // Depth counts the path: a value may nest only as deep as the 32 levels left below it.
    if (!Node::fromJsonAt(resolved, at, out, error))
        return false;
    // A priority is a number, a string or null (setPriority); an object there would silently clear it.
    if (!at.isRoot() && at.back() == u".priority"_s && out->type() != Node::Type::Null
        && out->type() != Node::Type::Number && out->type() != Node::Type::String) {
        *error = u".priority must be a number, a string or null"_s;
        return false;
    }
    return true;
}

} // namespace lark
