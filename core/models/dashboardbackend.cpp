// SPDX-License-Identifier: MIT
#include "dashboardbackend.h"

#include "datatreemodel.h"

#include "tabs/tabsmodel.h"

#include <utility>

namespace lark::models
{

DashboardBackend::DashboardBackend(const Models &models, const QString &ns, QObject *parent)
    : QObject(parent)
    , m_models(models)
    , m_ns(ns)
{
}

DashboardBackend::~DashboardBackend() = default; // the implementations delete the tree before its database

void DashboardBackend::setMessage(const QString &message)
{
    m_message = message;
    Q_EMIT runningChanged();
}

void DashboardBackend::aimTabs(const QHostAddress &host, quint16 port, const HubConfig &config)
{
    lark::tabs::Tab::Options options;
    options.minReconnectDelayMs = config.reconnectDelayMs;
    options.ns = m_ns;
    m_models.tabs->setTarget(host, port, options);
}

void DashboardBackend::dropTree()
{
    DataTreeModel *oldTree = std::exchange(m_tree, nullptr);
    Q_EMIT runningChanged(); // views drop the old tree before it goes
    delete oldTree;
}

} // namespace lark::models
