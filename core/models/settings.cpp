// SPDX-License-Identifier: MIT
#include "settings.h"

#include <QSettings>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

DashboardSettings DashboardSettings::load(QSettings &s)
{
    DashboardSettings d;
    HubConfig &c = d.config;
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
    if (geometry.isValid())
        s.setValue(u"window/geometry"_s, geometry);
    s.sync();
}

} // namespace lark::models
