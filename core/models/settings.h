// SPDX-License-Identifier: MIT
#pragma once

#include "hub.h"

#include <QRect>
#include <QStringList>

class QSettings;

namespace lark::models
{

/**
 * The settings a run took from its command line. They apply to that run only: at exit the saved value is kept for
 * each of them unless the UI changed it or the user kept them (Hub::keepOneOffOptions()).
 */
struct OneOffOptions {
    bool mode = false; /**< --port (host mode) or --connect */
    bool port = false;
    bool pingInterval = false;
    bool deadAfter = false;
    bool grace = false;
    bool data = false; /**< --data or --no-data */
    [[nodiscard]] bool any() const { return mode || port || pingInterval || deadAfter || grace || data; }
    /** What the header says about them: "port 0", "grace 3 s", "data in memory"... */
    [[nodiscard]] QStringList describe(const HubConfig &config) const;
};

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
    /**
     * What to save at exit: now, except that each one-off option that is still as this run started (started)
     * keeps the value saved before (the saved settings this run loaded).
     */
    [[nodiscard]] static DashboardSettings toSave(const DashboardSettings &saved, const HubConfig &started,
        const OneOffOptions &oneOff, const DashboardSettings &now);
    /**
     * The saved settings in use this run that differ from the defaults (those a one-off option overrides are not in
     * use): "port 9100", "grace 7 s", "connect ws://...", "data in memory". Empty when the defaults apply.
     */
    [[nodiscard]] QStringList describeInUse(const OneOffOptions &oneOff) const;
};

} // namespace lark::models
