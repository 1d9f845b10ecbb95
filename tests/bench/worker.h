// SPDX-License-Identifier: MIT
#pragma once

// The load side of lark-bench: `lark-bench --worker` holds a share of the connections and runs commands read as
// JSON lines on stdin, answering each with one JSON line on stdout. The orchestrator splits large connection
// counts over several workers because one Qt event loop polls every socket it owns on every iteration.

#include "benchclient.h"
#include "httpload.h"
#include "rawclients.h"

#include <QJsonObject>

#include <memory>
#include <unordered_map>

namespace bench
{

class Worker : public QObject
{
public:
    /** Executes one command and returns its answer (always with "ok"). */
    QJsonObject handle(const QJsonObject &cmd);

private:
    QJsonObject open(const QJsonObject &cmd);
    QJsonObject writes(const QJsonObject &cmd);
    QJsonObject arm(const QJsonObject &cmd);
    QJsonObject report(const QJsonObject &cmd);
    QJsonObject closeAll(const QJsonObject &cmd);
    QJsonObject pingAll();
    QJsonObject httpOpen(const QJsonObject &cmd);
    [[nodiscard]] qint64 errorCount() const;
    [[nodiscard]] QString firstError() const;
    bool waitReplies(int timeoutMs);

    std::vector<Client *> m_clients;
    std::unique_ptr<RawClients> m_raw; // "open" with "raw": the epoll clients instead of m_clients
    std::unique_ptr<HttpLoad> m_http; // "http-open": REST writers or event streams
    int m_first = 0;
    qint64 m_pendingReplies = 0;
    // fan-out listening
    qint64 m_armUs = -1;
    qint64 m_received = 0;
    qint64 m_lastRecvUs = 0;
    Histogram m_hist;
};

} // namespace bench
