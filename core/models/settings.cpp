// SPDX-License-Identifier: MIT
#include "settings.h"

#include <QSettings>
#include <QStandardPaths>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

namespace
{

QString duration(int ms)
{
    return ms % 1000 ? u"%1 ms"_s.arg(ms) : u"%1 s"_s.arg(ms / 1000);
}

QString modeText(const HubConfig &c)
{
    return c.connectUrl.isValid() ? u"connect "_s + c.connectUrl.toString() : u"host mode"_s;
}

QString dataText(const HubConfig &c)
{
    return c.keepData ? u"data in "_s + c.dataFile : u"data in memory"_s;
}

} // namespace

QStringList OneOffOptions::describe(const HubConfig &c) const
{
    QStringList out;
    if (mode && c.connectUrl.isValid())
        out << modeText(c);
    if (port)
        out << u"port %1"_s.arg(c.port);
    if (pingInterval)
        out << u"ping %1"_s.arg(duration(c.pingIntervalMs));
    if (deadAfter)
        out << u"dead after %1"_s.arg(duration(c.deadAfterMs));
    if (grace)
        out << u"grace %1"_s.arg(duration(c.graceMs));
    if (data)
        out << dataText(c);
    return out;
}

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

DashboardSettings DashboardSettings::toSave(
    const DashboardSettings &saved, const HubConfig &started, const OneOffOptions &oneOff, const DashboardSettings &now)
{
    DashboardSettings out = now;
    HubConfig &o = out.config;
    const HubConfig &n = now.config;
    const HubConfig &s = saved.config;
    if (oneOff.mode && n.connectUrl == started.connectUrl) {
        o.connectUrl = s.connectUrl;
        o.lastConnectUrl = s.connectUrl.isValid() ? s.connectUrl.toString() : s.lastConnectUrl;
    }
    if (oneOff.port && n.port == started.port)
        o.port = s.port;
    if (oneOff.pingInterval && n.pingIntervalMs == started.pingIntervalMs)
        o.pingIntervalMs = s.pingIntervalMs;
    if (oneOff.deadAfter && n.deadAfterMs == started.deadAfterMs)
        o.deadAfterMs = s.deadAfterMs;
    if (oneOff.grace && n.graceMs == started.graceMs)
        o.graceMs = s.graceMs;
    if (oneOff.data && n.keepData == started.keepData && n.dataFile == started.dataFile) {
        o.keepData = s.keepData;
        o.dataFile = s.dataFile;
    }
    return out;
}

QStringList DashboardSettings::describeInUse(const OneOffOptions &oneOff) const
{
    const DashboardSettings defaults;
    const HubConfig &d = defaults.config;
    const HubConfig &c = config;
    QStringList out;
    if (!oneOff.mode && c.connectUrl.isValid())
        out << modeText(c);
    if (!oneOff.port && !c.connectUrl.isValid() && c.port != d.port)
        out << u"port %1"_s.arg(c.port);
    if (!oneOff.pingInterval && c.pingIntervalMs != d.pingIntervalMs)
        out << u"ping %1"_s.arg(duration(c.pingIntervalMs));
    if (!oneOff.deadAfter && c.deadAfterMs != d.deadAfterMs)
        out << u"dead after %1"_s.arg(duration(c.deadAfterMs));
    if (!oneOff.grace && c.graceMs != d.graceMs)
        out << u"grace %1"_s.arg(duration(c.graceMs));
    // The default keeps data in defaultDataFile() (see load()).
    if (!oneOff.data && (!c.keepData || c.dataFile != defaultDataFile()))
        out << dataText(c);
    return out;
}

} // namespace lark::models
