// SPDX-License-Identifier: MIT
#include "tabsmodel.h"

#include "netsim/linkproxy.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::tabs
{

TabsModel::TabsModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

TabsModel::~TabsModel() = default;

void TabsModel::setTarget(const QHostAddress &serverHost, quint16 serverPort, const Tab::Options &options)
{
    m_host = serverHost;
    m_port = serverPort;
    m_options = options;
    // Open tabs follow a server that restarted elsewhere, as a browser tab reconnects to the same site.
    for (Tab *tab : std::as_const(m_tabs))
        tab->proxy()->setTarget(serverHost, serverPort);
}

Tab *TabsModel::openTab(const QString &uid, int windowId)
{
    if (!Tab::uidProblem(uid).isEmpty())
        return nullptr;
    return open(uid, Tab::SignIn::Custom, windowId);
}

Tab *TabsModel::openAnonymousTab(int windowId)
{
    return open(Tab::newAnonymousUid(), Tab::SignIn::Anonymous, windowId);
}

Tab *TabsModel::open(const QString &uid, Tab::SignIn signIn, int windowId)
{
    if (m_port == 0)
        return nullptr;
    const int row = int(m_tabs.size());
    beginInsertRows({}, row, row);
    auto *tab = new Tab(m_nextId++, uid, signIn, windowId, m_host, m_port, m_options, this);
    m_tabs.append(tab);
    endInsertRows();
    Q_EMIT countChanged();
    return tab;
}

void TabsModel::closeTab(int tabId)
{
    for (qsizetype i = 0; i < m_tabs.size(); ++i) {
        if (m_tabs.at(i)->tabId() != tabId)
            continue;
        beginRemoveRows({}, int(i), int(i));
        Tab *tab = m_tabs.takeAt(i);
        endRemoveRows();
        tab->closeCleanly(); // deletes itself once its close frame is out
        Q_EMIT countChanged();
        return;
    }
}

void TabsModel::closeWindowTabs(int windowId)
{
    QList<int> ids;
    for (const Tab *t : std::as_const(m_tabs)) {
        if (t->windowId() == windowId)
            ids.append(t->tabId());
    }
    for (int id : std::as_const(ids))
        closeTab(id);
}

int TabsModel::tabIdOfSession(const QString &sessionShort) const
{
    if (sessionShort.isEmpty())
        return 0;
    for (const Tab *t : m_tabs) {
        if (t->sessionShort() == sessionShort)
            return t->tabId();
    }
    return 0;
}

Tab *TabsModel::tab(int tabId) const
{
    for (Tab *t : m_tabs) {
        if (t->tabId() == tabId)
            return t;
    }
    return nullptr;
}

Tab *TabsModel::at(int row) const
{
    return row >= 0 && row < m_tabs.size() ? m_tabs.at(row) : nullptr;
}

int TabsModel::countInWindow(int windowId) const
{
    return int(
        std::count_if(m_tabs.begin(), m_tabs.end(), [windowId](const Tab *t) { return t->windowId() == windowId; }));
}

int TabsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_tabs.size());
}

QVariant TabsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    Tab *t = m_tabs.at(index.row());
    switch (role) {
    case TabRole:
        return QVariant::fromValue(t);
    case TabIdRole:
        return t->tabId();
    case Qt::DisplayRole:
    case UidRole:
        return t->uid();
    case AnonymousRole:
        return t->anonymous();
    case WindowIdRole:
        return t->windowId();
    default:
        return {};
    }
}

QHash<int, QByteArray> TabsModel::roleNames() const
{
    return {{TabRole, "tab"}, {TabIdRole, "tabId"}, {UidRole, "uid"}, {AnonymousRole, "anonymous"},
        {WindowIdRole, "windowId"}};
}

} // namespace lark::tabs
