// SPDX-License-Identifier: MIT
#pragma once

// lark-bench's table: one row per figure, lark beside the baseline and the peer, the ratios and the target.

#include <QJsonArray>
#include <QList>
#include <QString>

#include <utility>

namespace bench
{

struct Row {
    Row(QString scenario, QString metric, QString key, bool higherBetter = true, double target = -1,
        QString targetText = {})
        : scenario(std::move(scenario))
        , metric(std::move(metric))
        , key(std::move(key))
        , higherBetter(higherBetter)
        , target(target)
        , targetText(std::move(targetText))
    {
    }
    QString scenario, metric, key;
    bool higherBetter;
    double target; // < 0: no target
    QString targetText;
};

/**
 * Prints the table of rows on stdout, taking each row's figures from its scenario's entry in results, and returns
 * it as JSON.
 */
QJsonArray printTable(const QList<Row> &rows, const QJsonArray &results);

} // namespace bench
