// SPDX-License-Identifier: MIT
#pragma once

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QString>

namespace lark::models
{

/** Compact JSON text of any value, scalars included (QJsonDocument only takes arrays and objects). */
inline QString jsonText(const QJsonValue &v)
{
    const QByteArray text = QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(text.mid(1, text.size() - 2));
}

} // namespace lark::models
