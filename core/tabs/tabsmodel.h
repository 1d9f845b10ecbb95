// SPDX-License-Identifier: MIT
#pragma once

#include "tab.h"

#include <QAbstractListModel>

namespace lark::tabs
{

/** The open simulated tabs of every window, in opening order. The model owns them. */
class TabsModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        TabRole = Qt::UserRole + 1, /**< the Tab object */
        TabIdRole, /**< unique id of the tab */
        UidRole, /**< the user it is signed in as */
        AnonymousRole, /**< whether that user signed in anonymously */
        WindowIdRole, /**< the window that shows it */
    };
    Q_ENUM(Roles)

    explicit TabsModel(QObject *parent = nullptr);
    ~TabsModel() override;

    /** Where tabs connect (through their own proxies) and how they reconnect; open tabs reconnect there too. */
    void setTarget(const QHostAddress &serverHost, quint16 serverPort, const Tab::Options &options);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    /** Opens a tab signed in as uid in a window; nullptr when there is no server or uid is not valid (Tab::uidProblem).
     */
    Q_INVOKABLE lark::tabs::Tab *openTab(const QString &uid, int windowId);
    /** Opens a tab signed in anonymously, as a new anonymous user (each such tab is a user of its own). */
    Q_INVOKABLE lark::tabs::Tab *openAnonymousTab(int windowId);
    /** Closes a tab as a browser does: a clean close, so its onDisconnect ops fire at once. */
    Q_INVOKABLE void closeTab(int tabId);
    /** Closes every tab of a window (the window closed). */
    Q_INVOKABLE void closeWindowTabs(int windowId);
    [[nodiscard]] Q_INVOKABLE lark::tabs::Tab *tab(int tabId) const;
    [[nodiscard]] Q_INVOKABLE lark::tabs::Tab *at(int row) const;
    /** The open tab whose current session has this short id (as Tab::sessionShort()), or 0: tab ids start at 1. */
    [[nodiscard]] Q_INVOKABLE int tabIdOfSession(const QString &sessionShort) const;
    [[nodiscard]] Q_INVOKABLE int countInWindow(int windowId) const;

Q_SIGNALS:
    void countChanged();

private:
    Tab *open(const QString &uid, Tab::SignIn signIn, int windowId);

    QList<Tab *> m_tabs;
    QHostAddress m_host;
    quint16 m_port = 0;
    Tab::Options m_options;
    int m_nextId = 1;
};

} // namespace lark::tabs
