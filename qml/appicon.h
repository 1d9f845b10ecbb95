// SPDX-License-Identifier: MIT
#pragma once

#include <QIcon>
#include <QString>

namespace lark::dashboard
{

/** Where the scalable app icon (resources/icons, also installed into hicolor) is compiled into the binary. */
inline QString appIconPath()
{
    return QStringLiteral(":/qt/qml/Lark/Dashboard/icons/io.github.lark.Lark.svg");
}

/**
 * The windows' icon: the installed theme icon if there is one, else the compiled-in SVG. Rendering the SVG needs
 * Qt's SVG icon engine or image plugin (Debian: libqt6svg6); without them the icon is empty.
 */
inline QIcon appIcon()
{
    return QIcon::fromTheme(QStringLiteral("io.github.lark.Lark"), QIcon(appIconPath()));
}

} // namespace lark::dashboard
