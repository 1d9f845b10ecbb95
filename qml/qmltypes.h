// SPDX-License-Identifier: MIT
#pragma once

#include "models/hub.h"

#include <QQmlEngine>

// Core stays free of QtQml (docs/house-style.md §1): these wrappers give its types to QML without touching them.

/** The application's Hub, set by main() (or a test's setup) before the engine loads anything. */
struct HubSingleton {
    Q_GADGET
    QML_FOREIGN(lark::models::Hub)
    QML_NAMED_ELEMENT(Hub)
    QML_SINGLETON
public:
    static lark::models::Hub *create(QQmlEngine *, QJSEngine *)
    {
        Q_ASSERT(s_instance);
        // The engine must not delete it: main() owns it and it outlives the engine.
        QJSEngine::setObjectOwnership(s_instance, QJSEngine::CppOwnership);
        return s_instance;
    }
    static inline lark::models::Hub *s_instance = nullptr;
};

struct TabForeign {
    Q_GADGET
    QML_FOREIGN(lark::tabs::Tab)
    QML_NAMED_ELEMENT(SimulatedTab)
    QML_UNCREATABLE("tabs are opened with Hub.tabs.openTab()")
};

struct TabsModelForeign {
    Q_GADGET
    QML_FOREIGN(lark::tabs::TabsModel)
    QML_NAMED_ELEMENT(TabsModel)
    QML_UNCREATABLE("use Hub.tabs")
};

struct SessionsModelForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::SessionsModel)
    QML_NAMED_ELEMENT(SessionsModel)
    QML_UNCREATABLE("use Hub.sessions")
};

struct StreamsModelForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::StreamsModel)
    QML_NAMED_ELEMENT(StreamsModel)
    QML_UNCREATABLE("use Hub.streams")
};

struct FiredOpsModelForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::FiredOpsModel)
    QML_NAMED_ELEMENT(FiredOpsModel)
    QML_UNCREATABLE("use Hub.firedOps")
};

struct PresenceModelForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::PresenceModel)
    QML_NAMED_ELEMENT(PresenceModel)
    QML_UNCREATABLE("use Hub.presence")
};

struct DataTreeModelForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::DataTreeModel)
    QML_NAMED_ELEMENT(DataTreeModel)
    QML_UNCREATABLE("use Hub.tree")
};

struct RulesEditorForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::RulesEditor)
    QML_NAMED_ELEMENT(RulesEditor)
    QML_UNCREATABLE("use Hub.rules")
};

struct EventLogFilterForeign {
    Q_GADGET
    QML_FOREIGN(lark::models::EventLogFilter)
    QML_NAMED_ELEMENT(EventLog)
    QML_UNCREATABLE("use Hub.eventLog")
};
