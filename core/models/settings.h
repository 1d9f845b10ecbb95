// SPDX-License-Identifier: MIT
#pragma once

#include "hub.h"

#include <QRect>

class QSettings;

namespace lark::models
{

/**
 * What the dashboard remembers between runs: the mode (host or connect), the port, the connect URL, the timers,
 * whether the embedded server keeps its data and in which file, and the main window's geometry. The admin token is not
 * stored: it is a credential, and config files get shared. Command-line options are applied on top by main(), so they
 * win over what was saved.
 */
struct DashboardSettings {
    HubConfig config; /**< connect mode when config.connectUrl is valid */
    QRect geometry; /**< the first window's; empty when never saved */

    /**
     * The data file used unless another was saved: data.lark under QStandardPaths::AppDataLocation (so tests that
     * enable QStandardPaths' test mode never touch the user's).
     */
    [[nodiscard]] static QString defaultDataFile();
    /** Reads from settings; missing or bad values keep the defaults (keeping data on, in defaultDataFile()). */
    [[nodiscard]] static DashboardSettings load(QSettings &settings);
    /** What hub runs now (mode, requested port, URLs, timers), with the window's geometry. */
    [[nodiscard]] static DashboardSettings fromHub(const Hub &hub, const QRect &geometry);
    void save(QSettings &settings) const;
};

} // namespace lark::models
