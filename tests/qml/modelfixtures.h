// SPDX-License-Identifier: MIT
// What the dashboard's model tests (tst_datatreemodel, tst_sessionsmodel, tst_eventlogmodel, the Hub's) share: a
// real embedded server, fast client options, writes that wait for the server's answer, and lookups in the tree.
#pragma once

#include "client/database.h"
#include "db/database.h"
#include "models/datatreemodel.h"
#include "server/server.h"

#include <QAbstractItemModel>
#include <QJsonValue>
#include <QString>
#include <QTest>

#include <memory>

/** A real Lark server on 127.0.0.1 with a free port and short timers; the test stops if it cannot start. */
inline std::unique_ptr<lark::Server> startServer(int pingMs = 50, int deadAfterMs = 400, int graceMs = 800)
{
    lark::ServerConfig config;
    config.port = 0;
    config.pingIntervalMs = pingMs;
    config.deadAfterMs = deadAfterMs;
    config.graceMs = graceMs;
    auto server = std::make_unique<lark::Server>(config);
    QString error;
    if (!server->listen(&error))
        qFatal("cannot start the test server: %s", qPrintable(error));
    return server;
}

/** Client options that reconnect quickly. */
inline lark::client::DatabaseOptions fast()
{
    lark::client::DatabaseOptions o;
    o.minReconnectDelayMs = 50;
    return o;
}

/** Sets value at ref and waits until the server has taken it. */
inline bool writeAndWait(const lark::client::Reference &ref, const QJsonValue &value)
{
    bool done = false;
    ref.set(value, ref.database(), [&](const lark::client::Error &e) { done = e.isOk(); });
    return QTest::qWaitFor([&] { return done; }, 10000);
}

/** Removes ref and waits until the server has taken it. */
inline bool removeAndWait(const lark::client::Reference &ref)
{
    bool done = false;
    ref.remove(ref.database(), [&](const lark::client::Error &e) { done = e.isOk(); });
    return QTest::qWaitFor([&] { return done; }, 10000);
}

/** The value the server holds at the path text in namespace ns (undefined if the path does not parse). */
inline QJsonValue valueAt(lark::Server *server, const QString &ns, const QString &text)
{
    lark::Path path;
    QString error;
    if (!lark::Path::parse(text, &path, &error))
        return QJsonValue::Undefined;
    return server->database(ns)->valueJson(path);
}

/** The child of parent whose key is key, or an invalid index. */
inline QModelIndex childByKey(const QAbstractItemModel &m, const QModelIndex &parent, const QString &key)
{
    for (int r = 0; r < m.rowCount(parent); ++r) {
        const QModelIndex i = m.index(r, 0, parent);
        if (i.data(lark::models::DataTreeModel::KeyRole).toString() == key)
            return i;
    }
    return {};
}
