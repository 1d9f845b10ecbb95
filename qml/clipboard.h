// SPDX-License-Identifier: MIT
#pragma once

#include <QClipboard>
#include <QGuiApplication>
#include <QObject>
#include <QQmlEngine>

/** The system clipboard for QML ("Copy path"); QtQuick has no clipboard API of its own in 6.4. */
class Clipboard : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
public:
    using QObject::QObject;
    Q_INVOKABLE void setText(const QString &text) { QGuiApplication::clipboard()->setText(text); }
    [[nodiscard]] Q_INVOKABLE QString text() const { return QGuiApplication::clipboard()->text(); }
};
