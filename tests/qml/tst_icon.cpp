// SPDX-License-Identifier: MIT
// The app icon renders: the scalable SVG compiled into the app needs Qt's SVG plugins at run time (Debian:
// libqt6svg6), which nothing links against, so only a test that draws it notices when they are missing.
#include "appicon.h"

#include <QFile>
#include <QGuiApplication>
#include <QImageReader>
#include <QPixmap>
#include <QTest>
#include <QWindow>

class TstIcon : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void svgPluginIsInstalled();
    void iconRendersAt64px();
    void windowsShowIt();
};

void TstIcon::svgPluginIsInstalled()
{
    QVERIFY2(QImageReader::supportedImageFormats().contains("svg"),
        "no SVG image plugin: install libqt6svg6 (packaging/deps.sh does)");
}

void TstIcon::iconRendersAt64px()
{
    QVERIFY(QFile::exists(lark::dashboard::appIconPath()));
    for (const QIcon &icon : {QIcon(lark::dashboard::appIconPath()), lark::dashboard::appIcon()}) {
        const QPixmap pixmap = icon.pixmap(QSize(64, 64));
        QVERIFY2(!pixmap.isNull(), "the SVG icon did not render");
        QCOMPARE(pixmap.size(), QSize(64, 64));
        // The picture itself, not a placeholder: the rounded green square, transparent around it.
        const QImage image = pixmap.toImage();
        QCOMPARE(image.pixelColor(10, 50), QColor(0x1e, 0x56, 0x31));
        QCOMPARE(image.pixelColor(1, 1).alpha(), 0);
    }
}

void TstIcon::windowsShowIt()
{
    // What main() does: windows without an icon of their own take the application's.
    QGuiApplication::setWindowIcon(lark::dashboard::appIcon());
    QWindow window;
    QVERIFY(!window.icon().pixmap(QSize(64, 64)).isNull());
}

QTEST_MAIN(TstIcon)
#include "tst_icon.moc"
