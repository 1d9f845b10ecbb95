// SPDX-License-Identifier: MIT
#include "linkproxy.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

using namespace Qt::Literals::StringLiterals;

namespace lark::netsim
{

struct LinkProxy::Link {
    QPointer<QTcpSocket> client;
    QPointer<QTcpSocket> upstream;
    QByteArray pendingUp; // client bytes waiting for the upstream connection
    bool upstreamConnected = false;
};

LinkProxy::LinkProxy(const QHostAddress &targetHost, quint16 targetPort, QObject *parent)
    : QObject(parent)
    , m_targetHost(targetHost)
    , m_targetPort(targetPort)
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &LinkProxy::onNewConnection);
}

LinkProxy::~LinkProxy()
{
    for (auto &link : m_links) {
        for (QTcpSocket *s : {link->client.data(), link->upstream.data()}) {
            if (s) {
                s->disconnect(this);
                s->abort();
                delete s;
            }
        }
    }
}

bool LinkProxy::listen(quint16 port)
{
    return m_server->listen(QHostAddress::LocalHost, port);
}

quint16 LinkProxy::port() const
{
    return m_server->serverPort();
}

QString LinkProxy::modeName(Mode mode)
{
    switch (mode) {
    case Mode::Pass:
        return u"pass"_s;
    case Mode::Blackhole:
        return u"blackhole"_s;
    case Mode::Reset:
        return u"reset"_s;
    case Mode::Delay:
        return u"delay"_s;
    }
    return {};
}

void LinkProxy::setMode(Mode mode)
{
    if (mode == m_mode)
        return;
    const Mode old = m_mode;
    m_mode = mode;
    if (mode == Mode::Reset)
        resetAll();
    if (old == Mode::Blackhole && mode != Mode::Blackhole) {
        // The network is back: a side that gave up while we swallowed everything is gone; tell the other side.
        std::vector<Link *> dead;
        for (auto &l : m_links) {
            if (!l->client || l->client->state() != QAbstractSocket::ConnectedState || !l->upstream
                || (l->upstreamConnected && l->upstream->state() != QAbstractSocket::ConnectedState))
                dead.push_back(l.get());
        }
        for (Link *l : dead)
            removeLink(l);
    }
    Q_EMIT modeChanged();
}

void LinkProxy::setDelayMs(int ms)
{
    m_delayMs = std::max(0, ms);
    Q_EMIT modeChanged();
}

void LinkProxy::blip()
{
    resetAll();
}

void LinkProxy::resetAll()
{
    while (!m_links.empty()) {
        ++m_resets;
        removeLink(m_links.front().get());
    }
    Q_EMIT countersChanged();
}

void LinkProxy::removeLink(Link *link)
{
    // abort() drops the connection without a FIN handshake: to the peers it looks like a reset.
    for (QTcpSocket *s : {link->client.data(), link->upstream.data()}) {
        if (s) {
            s->disconnect(this);
            s->abort();
            s->deleteLater();
        }
    }
    m_links.erase(std::remove_if(m_links.begin(), m_links.end(), [link](const auto &l) { return l.get() == link; }),
        m_links.end());
    Q_EMIT countersChanged();
}

void LinkProxy::onNewConnection()
{
    while (m_server->hasPendingConnections()) {
        QTcpSocket *client = m_server->nextPendingConnection();
        ++m_accepted;
        if (m_mode == Mode::Reset) {
            ++m_resets;
            client->abort();
            client->deleteLater();
            Q_EMIT countersChanged();
            continue;
        }
        auto link = std::make_unique<Link>();
        Link *l = link.get();
        l->client = client;
        l->upstream = new QTcpSocket(this);
        m_links.push_back(std::move(link));

        auto forward = [this, l](QTcpSocket *from, QTcpSocket *to, bool up) {
            const QByteArray data = from->readAll();
            if (m_mode == Mode::Blackhole) {
                m_bytesDropped += data.size();
                Q_EMIT countersChanged();
                return;
            }
            (up ? m_bytesUp : m_bytesDown) += data.size();
            Q_EMIT countersChanged();
            auto deliver = [this, l, to, data, up] {
                if (!to || to->state() != QAbstractSocket::ConnectedState) {
                    if (up && to == l->upstream)
                        l->pendingUp += data;
                    return;
                }
                to->write(data);
            };
            if (m_mode == Mode::Delay && m_delayMs > 0)
                QTimer::singleShot(m_delayMs, to, deliver);
            else
                deliver();
        };
        connect(client, &QTcpSocket::readyRead, this, [l, forward] { forward(l->client, l->upstream, true); });
        connect(l->upstream, &QTcpSocket::readyRead, this, [l, forward] { forward(l->upstream, l->client, false); });
        connect(l->upstream, &QTcpSocket::connected, this, [l] {
            l->upstreamConnected = true;
            l->upstream->write(l->pendingUp);
            l->pendingUp.clear();
        });
        // A side that closed cleanly (a FIN after, say, a WebSocket close frame) is closed cleanly on the other side
        // too, after its last bytes: aborting would turn a tab close into a reset and lose the close frame.
        auto onGone = [this, l, forward](QTcpSocket *from, QTcpSocket *to, bool up) {
            // In a blackhole nobody hears about it until the network comes back (see setMode).
            if (m_mode == Mode::Blackhole)
                return;
            if (!to || !l->upstreamConnected || to->state() == QAbstractSocket::UnconnectedState) {
                removeLink(l);
                return;
            }
            if (from->bytesAvailable() > 0)
                forward(from, to, up);
            if (m_mode == Mode::Delay && m_delayMs > 0)
                QTimer::singleShot(m_delayMs, to, [to] { to->disconnectFromHost(); });
            else
                to->disconnectFromHost();
        };
        connect(client, &QTcpSocket::disconnected, this, [l, onGone] { onGone(l->client, l->upstream, true); });
        connect(l->upstream, &QTcpSocket::disconnected, this, [l, onGone] { onGone(l->upstream, l->client, false); });
        connect(l->upstream, &QTcpSocket::errorOccurred, this, [this, l](QAbstractSocket::SocketError) {
            if (!l->upstreamConnected && m_mode != Mode::Blackhole)
                removeLink(l); // the server is not there: the client sees its connection dropped
        });
        l->upstream->connectToHost(m_targetHost, m_targetPort);
        Q_EMIT countersChanged();
    }
}

} // namespace lark::netsim
