// SPDX-License-Identifier: MIT
#pragma once

#include "client/reference.h"
#include "server/server.h"

#include <QTest>
#include <QUrl>

/** Waits for a client completion and keeps its error: shared by the client SDK's integration tests. */
struct Done {
    bool called = false;
    lark::client::Error error;
    lark::client::Completion callback()
    {
        return [this](const lark::client::Error &e) {
            called = true;
            error = e;
        };
    }
    bool wait(int ms = 10000)
    {
        return QTest::qWaitFor([this] { return called; }, ms);
    }
};

inline QUrl serverUrl(const lark::Server &server)
{
    return QUrl(server.url());
}
