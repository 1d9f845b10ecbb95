// SPDX-License-Identifier: MIT
#pragma once

#include <QProcess>
#include <QRegularExpression>
#include <QTest>

/**
 * Starts the lark-server binary (LARK_SERVER_PATH, set by the test's CMake target) with args and returns the port
 * from its "listening on" line; 0 when it did not start or exited first.
 */
inline quint16 startServerProcess(
    QProcess &p, const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(LARK_SERVER_PATH), args);
    if (!p.waitForStarted(10000))
        return 0;
    static const QRegularExpression re(QStringLiteral("listening on ws://127\\.0\\.0\\.1:(\\d+)"));
    QString out;
    if (!QTest::qWaitFor(
            [&] {
                out += QString::fromUtf8(p.readAllStandardOutput());
                return re.match(out).hasMatch() || p.state() == QProcess::NotRunning;
            },
            10000))
        return 0;
    return quint16(re.match(out).captured(1).toUInt());
}
