// SPDX-License-Identifier: MIT
#include "storerows.h"

#include <QJsonDocument>

#include <sqlite3.h>

using namespace Qt::Literals::StringLiterals;

namespace lark::storerows
{

// Paths are stored in their wire form; keys cannot contain '/', so splitting gives the keys back exactly, including
// a trailing .priority, which Path::parse would check against the wire rules.
Path pathFromText(const QString &text)
{
    return Path(text.split(u'/', Qt::SkipEmptyParts));
}

QByteArray compactJson(const QJsonArray &a)
{
    return QJsonDocument(a).toJson(QJsonDocument::Compact);
}

QString columnText(sqlite3_stmt *stmt, int i)
{
    return QString::fromUtf8(
        reinterpret_cast<const char *>(sqlite3_column_text(stmt, i)), sqlite3_column_bytes(stmt, i));
}

QJsonArray columnArray(sqlite3_stmt *stmt, int i, bool *ok)
{
    const QByteArray bytes(reinterpret_cast<const char *>(sqlite3_column_blob(stmt, i)), sqlite3_column_bytes(stmt, i));
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    *ok = doc.isArray();
    return doc.array();
}

void bindText(sqlite3_stmt *stmt, int i, const QByteArray &utf8)
{
    // SQLITE_TRANSIENT copies: the bytes are often temporaries of the caller.
    sqlite3_bind_text(stmt, i, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
}

QJsonObject identityJson(const Identity &i)
{
    const QString kind = i.kind == Identity::Kind::Admin ? u"admin"_s
        : i.kind == Identity::Kind::User                 ? u"user"_s
                                                         : u"anonymous"_s;
    return {{u"kind"_s, kind}, {u"uid"_s, i.uid}, {u"provider"_s, i.provider}, {u"claims"_s, i.claims}};
}

Identity identityFromJson(const QJsonObject &o)
{
    Identity i;
    const QString kind = o.value(u"kind"_s).toString();
    i.kind = kind == u"admin"_s ? Identity::Kind::Admin
        : kind == u"user"_s     ? Identity::Kind::User
                                : Identity::Kind::Anonymous;
    i.uid = o.value(u"uid"_s).toString();
    i.provider = o.value(u"provider"_s).toString();
    i.claims = o.value(u"claims"_s).toObject();
    if (i.kind == Identity::Kind::User)
        i.authCache = i.toAuthJson();
    return i;
}

QByteArray opsJson(const std::vector<OnDisconnectQueue::Op> &ops)
{
    QJsonArray a;
    for (const OnDisconnectQueue::Op &op : ops) {
        a.append(QJsonObject {{u"path"_s, op.path.toString()}, {u"kind"_s, OnDisconnectQueue::kindName(op.kind)},
            {u"value"_s, op.value}, {u"registeredAt"_s, double(op.registeredAt)}});
    }
    return compactJson(a);
}

// A registration row as the wire names it, with its value in an array (so that scalars are JSON documents too):
// [value] for o, [[relative path, value], ...] for om, [] for oc.
const char *actionName(Registration::Action action)
{
    switch (action) {
    case Registration::Action::Set:
        return "o";
    case Registration::Action::Update:
        return "om";
    case Registration::Action::Cancel:
        return "oc";
    }
    return "";
}

QByteArray registrationValue(const Registration &r)
{
    QJsonArray a;
    if (r.action == Registration::Action::Set)
        a.append(r.value);
    for (const auto &[rel, value] : r.children)
        a.append(QJsonArray {rel.toString(), value});
    return compactJson(a);
}

bool registrationFromRow(
    const QString &action, const QString &path, const QJsonArray &value, qint64 at, Registration *out)
{
    out->path = pathFromText(path);
    out->at = at;
    if (action == u"o"_s && value.size() == 1) {
        out->action = Registration::Action::Set;
        out->value = value.at(0);
        return true;
    }
    if (action == u"om"_s) {
        out->action = Registration::Action::Update;
        for (const QJsonValue &v : value) {
            const QJsonArray pair = v.toArray();
            if (pair.size() != 2 || !pair.at(0).isString())
                return false;
            out->children.emplace_back(pathFromText(pair.at(0).toString()), pair.at(1));
        }
        return true;
    }
    if (action == u"oc"_s && value.isEmpty()) {
        out->action = Registration::Action::Cancel;
        return true;
    }
    return false;
}

OnDisconnectQueue::Kind kindFromName(const QString &name)
{
    if (name == OnDisconnectQueue::kindName(OnDisconnectQueue::Kind::Update))
        return OnDisconnectQueue::Kind::Update;
    if (name == OnDisconnectQueue::kindName(OnDisconnectQueue::Kind::Remove))
        return OnDisconnectQueue::Kind::Remove;
    return OnDisconnectQueue::Kind::Set;
}

} // namespace lark::storerows
