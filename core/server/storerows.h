// SPDX-License-Identifier: MIT
#pragma once
// How the data file's rows encode paths, identities, queued ops and registrations (Store's own; not an API).

#include "identity.h"
#include "ondisconnectqueue.h"

#include "db/path.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <vector>

struct sqlite3_stmt;

namespace lark::storerows
{

using Registration = OnDisconnectQueue::Registration;

/** Paths are stored in their wire form; see the definition for why splitting is exact. */
Path pathFromText(const QString &text);
QByteArray compactJson(const QJsonArray &a);
QString columnText(sqlite3_stmt *stmt, int i);
QJsonArray columnArray(sqlite3_stmt *stmt, int i, bool *ok);
void bindText(sqlite3_stmt *stmt, int i, const QByteArray &utf8);
QJsonObject identityJson(const Identity &i);
Identity identityFromJson(const QJsonObject &o);
QByteArray opsJson(const std::vector<OnDisconnectQueue::Op> &ops);
/** A registration row's action as the wire names it: o, om, oc. */
const char *actionName(Registration::Action action);
/** [value] for o, [[relative path, value], ...] for om, [] for oc: scalars are JSON documents too. */
QByteArray registrationValue(const Registration &r);
bool registrationFromRow(
    const QString &action, const QString &path, const QJsonArray &value, qint64 at, Registration *out);
OnDisconnectQueue::Kind kindFromName(const QString &name);

} // namespace lark::storerows
