// SPDX-License-Identifier: MIT
#pragma once

// The fixture of the protocol fuzz (tst_fuzz, tst_fuzz_regressions): a real server with a small message cap over
// 127.0.0.1, a bystander that holds /data and listens to it, the ops each session fired and why each ended, and the
// checks on the stored tree and on the tree read back over the wire.

#include "rawclient.h"

#include "db/database.h"
#include "server/server.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <utility>

inline constexpr int WaitMs = 60000; // generous: the tests also run under AddressSanitizer

/**
 * Waits until predicate holds, handling events as they arrive. QTest::qWaitFor sleeps 10 ms between its passes, and
 * a seed waits some hundred times for a loopback round trip that takes well under a millisecond.
 */
bool waitFor(const std::function<bool()> &predicate, int timeoutMs = WaitMs);

// QVERIFY2 builds its message even when the check passes; these checks run for every message.
#define FUZZ_VERIFY(condition, message)                                                                                \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            QFAIL(qPrintable(context(message)));                                                                       \
    } while (false)

class FuzzFixture : public QObject
{
    Q_OBJECT

protected:
    /** The tests' init(): the server (with dataFile, if not empty), the bystander and its /data. */
    void startServer(const QString &dataFile);
    /** The tests' cleanup(). */
    void stopServer();

    QString context(const QString &what) const;
    lark::Session *sessionById(const QString &id) const;
    /** The accepted writes and fired ops that name the last key of problem's path, for failure reports. */
    QString culprits(const QString &problem) const;

    /** The stored tree is one a Firebase database could hold, and the fuzz wrote only under /fuzz. */
    void checkStoredTree();
    /** A fresh client reads the same tree over the wire, by a get and by a listen. */
    void checkTreeOverTheWire();

    lark::ServerConfig m_config;
    std::unique_ptr<lark::Server> m_server;
    lark::Database *m_db = nullptr;
    std::unique_ptr<RawClient> m_bystander;
    QJsonObject m_dataBefore;
    QString m_case; // "seed N" or the data row, for failure messages
    QList<std::pair<QString, QJsonArray>> m_fired; // session handle, the ops it fired
    QHash<QString, QString> m_endReasons; // session handle → why it ended
    QStringList m_okWrites; // writes the server accepted, for failure reports
};
