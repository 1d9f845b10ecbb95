// SPDX-License-Identifier: MIT
#pragma once
// Test values written as text, so the cases read like the data they describe. Bad test input is a bug in the
// test: it stops the run at once with the reason.

#include "db/node.h"
#include "db/path.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

inline QJsonValue json(const QString &text)
{
    QJsonParseError pe;
    // Wrapped in an array so scalars parse too.
    const QJsonDocument doc = QJsonDocument::fromJson((QStringLiteral("[") + text + QStringLiteral("]")).toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError)
        qFatal("bad test JSON %s: %s", qPrintable(text), qPrintable(pe.errorString()));
    return doc.array().at(0);
}

inline lark::Node node(const QString &text)
{
    lark::Node n;
    QString error;
    if (!lark::Node::fromJson(json(text), &n, &error))
        qFatal("bad test node %s: %s", qPrintable(text), qPrintable(error));
    return n;
}

inline lark::Path path(const QString &text)
{
    lark::Path p;
    QString error;
    if (!lark::Path::parse(text, &p, &error))
        qFatal("bad test path %s: %s", qPrintable(text), qPrintable(error));
    return p;
}

inline QJsonValue json(const char *text)
{
    return json(QString::fromUtf8(text));
}

inline lark::Node node(const char *text)
{
    return node(QString::fromUtf8(text));
}
