// SPDX-License-Identifier: MIT
#include "servervalues.h"

#include "node.h"

#include <QJsonArray>
#include <QJsonObject>

#include <cmath>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

bool containsServerValues(const QJsonValue &json)
{
    if (json.isObject()) {
        const QJsonObject o = json.toObject();
        if (o.contains(u".sv"_s))
            return true;
        for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
            if (containsServerValues(it.value()))
                return true;
        }
    } else if (json.isArray()) {
        for (const QJsonValue &v : json.toArray()) {
            if (containsServerValues(v))
                return true;
        }
    }
    return false;
}

static bool resolvePlaceholder(const QJsonValue &sv, const Node *current, qint64 now, QJsonValue *out, QString *error)
{
    if (sv.isString() && sv.toString() == u"timestamp"_s) {
        *out = double(now);
        return true;
    }
    if (sv.isObject()) {
        const QJsonObject o = sv.toObject();
        const QJsonValue delta = o.value(u"increment"_s);
        if (o.size() == 1 && delta.isDouble()) {
            const double base = (current && current->type() == Node::Type::Number) ? current->number() : 0.0;
            const double sum = base + delta.toDouble();
            // JSON has no infinity: stored, it would read back as null.
            if (!std::isfinite(sum)) {
                *error = u"increment overflows: the sum is not a finite number"_s;
                return false;
            }
            *out = sum;
            return true;
        }
    }
    *error = u"invalid server value"_s;
    return false;
}

bool resolveServerValues(const QJsonValue &in, const Node *current, qint64 now, QJsonValue *out, QString *error)
{
    if (in.isArray()) {
        const QJsonArray a = in.toArray();
        QJsonArray r;
        for (qsizetype i = 0; i < a.size(); ++i) {
            QJsonValue v;
            const Node *c = current ? current->child(QString::number(i)) : nullptr;
            if (!resolveServerValues(a.at(i), c, now, &v, error))
                return false;
            r.append(v);
        }
        *out = r;
        return true;
    }
    if (!in.isObject()) {
        *out = in;
        return true;
    }
    const QJsonObject o = in.toObject();
    if (const auto sv = o.constFind(u".sv"_s); sv != o.constEnd())
        return resolvePlaceholder(sv.value(), current, now, out, error);
    QJsonObject r;
    for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
        const Node *c = nullptr;
        if (current) {
            if (it.key() == u".value"_s)
                c = current;
            else if (it.key() != u".priority"_s)
                c = current->child(it.key());
        }
        QJsonValue v;
        if (!resolveServerValues(it.value(), c, now, &v, error))
            return false;
        r.insert(it.key(), v);
    }
    *out = r;
    return true;
}

} // namespace lark
