// SPDX-License-Identifier: MIT
#include "settings.h"

#include <QSettings>
#include <QStandardPaths>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

QString DashboardSettings::defaultDataFile()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + u"/data.lark"_s;
}

DashboardSettings DashboardSettings::load(QSettings &s)
{
    DashboardSettings d;
    HubConfig &c = d.config;
    // The dashboard keeps its data by default, so "Restart server" shows sessions coming back (docs/semantics.md §6).
    c.keepData = s.value(u"data/keep"_s, true).toBool();
    c.dataFile = s.value(u"data/file"_s).toString();
    if (c.dataFile.isEmpty())
        c.dataFile = defaultDataFile();
    bool ok = false;
    const uint port = s.value(u"host/port"_s).toUInt(&ok);
    if (ok && port <= 65535)
        c.port = quint16(port);
    const std::pair<QString, int *> timers[] = {{u"timers/pingIntervalMs"_s, &c.pingIntervalMs},
        {u"timers/deadAfterMs"_s, &c.deadAfterMs}, {u"timers/graceMs"_s, &c.graceMs}};
    for (const auto &[key, target] : timers) {
        const int ms = s.value(key).toInt(&ok);
        if (ok && ms >= 0)
            *target = ms;
    }
    c.lastConnectUrl = s.value(u"connect/url"_s).toString();
    if (s.value(u"mode"_s).toString() == u"connect"_s) {
        const QUrl url(c.lastConnectUrl);
        if (url.isValid() && !url.host().isEmpty())
            c.connectUrl = url;
    }
    d.geometry = s.value(u"window/geometry"_s).toRect();
    return d;
}

DashboardSettings DashboardSettings::fromHub(const Hub &hub, const QRect &geometry)
{
    DashboardSettings d;
    d.config.port = quint16(hub.requestedPort());
    d.config.pingIntervalMs = hub.pingIntervalMs();
    d.config.deadAfterMs = hub.deadAfterMs();
    d.config.graceMs = hub.graceMs();
    d.config.lastConnectUrl = hub.connectUrl();
    d.config.keepData = hub.keepData();
    d.config.dataFile = hub.dataFile();
    if (hub.isRemote())
        d.config.connectUrl = QUrl(hub.connectUrl());
    d.geometry = geometry;
    return d;
}

void DashboardSettings::save(QSettings &s) const
{
    s.setValue(u"mode"_s, config.connectUrl.isValid() ? u"connect"_s : u"host"_s);
    s.setValue(u"host/port"_s, config.port);
    s.setValue(u"connect/url"_s, config.connectUrl.isValid() ? config.connectUrl.toString() : config.lastConnectUrl);
    s.setValue(u"timers/pingIntervalMs"_s, config.pingIntervalMs);
    s.setValue(u"timers/deadAfterMs"_s, config.deadAfterMs);
    s.setValue(u"timers/graceMs"_s, config.graceMs);
    s.setValue(u"data/keep"_s, config.keepData);
    // The default location is not written, so it follows AppDataLocation; a file given with --data is.
    if (config.dataFile.isEmpty() || config.dataFile == defaultDataFile())
        s.remove(u"data/file"_s);
    else
        s.setValue(u"data/file"_s, config.dataFile);
    if (geometry.isValid())
        s.setValue(u"window/geometry"_s, geometry);
    s.sync();
}

} // namespace lark::models
