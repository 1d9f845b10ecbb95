// SPDX-License-Identifier: MIT
#include "report.h"

#include <QJsonObject>
#include <QJsonValue>

#include <cmath>
#include <cstdio>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

namespace
{

QString fmt(const QJsonValue &v)
{
    if (v.isUndefined() || v.isNull())
        return u"—"_s;
    const double d = v.toDouble();
    if (std::abs(d) >= 1000)
        return QString::number(qint64(std::llround(d)));
    if (std::abs(d) >= 10)
        return QString::number(d, 'f', 1);
    return QString::number(d, 'f', 2);
}

} // namespace

QJsonArray printTable(const QList<Row> &rows, const QJsonArray &results)
{
    QJsonArray table;
    std::printf("\n%-18s %-44s %12s %12s %8s %12s %8s %-18s %s\n", "scenario", "metric", "lark", "baseline", "×base",
        "peer", "×peer", "target", "met");
    for (const Row &row : std::as_const(rows)) {
        QJsonObject entry;
        for (const QJsonValue &v : std::as_const(results)) {
            if (v.toObject().value(u"scenario"_s) == row.scenario)
                entry = v.toObject();
        }
        const QJsonValue lark = entry.value(u"lark"_s).toObject().value(row.key);
        const QJsonValue base = entry.value(u"baseline"_s).toObject().value(row.key);
        const QJsonValue peer = entry.value(u"peer"_s).toObject().value(row.key);
        const auto ratio = [&](const QJsonValue &other) -> QJsonValue {
            if (!lark.isDouble() || !other.isDouble() || other.toDouble() == 0)
                return QJsonValue();
            return lark.toDouble() / other.toDouble();
        };
        QJsonValue met;
        if (row.target >= 0 && lark.isDouble())
            met = row.higherBetter ? lark.toDouble() >= row.target : lark.toDouble() <= row.target;
        const QString metText = met.isBool() ? (met.toBool() ? u"yes"_s : u"NO"_s) : u"—"_s;
        std::printf("%-18s %-44s %12s %12s %8s %12s %8s %-18s %s\n", qPrintable(row.scenario), qPrintable(row.metric),
            qPrintable(fmt(lark)), qPrintable(fmt(base)), qPrintable(fmt(ratio(base))), qPrintable(fmt(peer)),
            qPrintable(fmt(ratio(peer))), qPrintable(row.targetText), qPrintable(metText));
        table.append(QJsonObject {{u"scenario"_s, row.scenario}, {u"metric"_s, row.metric}, {u"key"_s, row.key},
            {u"lark"_s, lark}, {u"baseline"_s, base}, {u"ratio_baseline"_s, ratio(base)}, {u"peer"_s, peer},
            {u"ratio_peer"_s, ratio(peer)}, {u"target"_s, row.targetText}, {u"met"_s, met}});
    }
    return table;
}

} // namespace bench
