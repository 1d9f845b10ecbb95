// SPDX-License-Identifier: MIT
#pragma once

#include <QHostAddress>
#include <QObject>

#include <memory>
#include <vector>

class QTcpServer;

namespace lark::netsim
{

/**
 * A loopback TCP proxy in front of a server, for one client: the dashboard's simulated tabs and the tests reach
 * the server through their own LinkProxy, so one tab's network can be broken without touching the others.
 *
 * Modes, switchable at any time:
 *  - Pass: bytes flow both ways.
 *  - Blackhole: a silent network drop. Bytes are accepted and discarded, nothing is forwarded and nobody is told;
 *    only heartbeats can notice. New connections are accepted and go nowhere. When the mode returns to Pass, a
 *    link whose other side gave up meanwhile is closed, so the survivor learns of it then.
 *  - Reset: every link is torn down with a TCP reset on both sides (a blip), and new connections are reset too.
 *  - Delay: bytes flow after delayMs in each direction.
 */
class LinkProxy : public QObject
{
    Q_OBJECT
    Q_PROPERTY(Mode mode READ mode WRITE setMode NOTIFY modeChanged)
    Q_PROPERTY(int delayMs READ delayMs WRITE setDelayMs NOTIFY modeChanged)
    Q_PROPERTY(int linkCount READ linkCount NOTIFY countersChanged)
    Q_PROPERTY(qint64 bytesUp READ bytesUp NOTIFY countersChanged)
    Q_PROPERTY(qint64 bytesDown READ bytesDown NOTIFY countersChanged)
    Q_PROPERTY(qint64 bytesDropped READ bytesDropped NOTIFY countersChanged)
    Q_PROPERTY(int connectionsAccepted READ connectionsAccepted NOTIFY countersChanged)
    Q_PROPERTY(int resets READ resets NOTIFY countersChanged)
public:
    enum class Mode { Pass, Blackhole, Reset, Delay };
    Q_ENUM(Mode)

    LinkProxy(const QHostAddress &targetHost, quint16 targetPort, QObject *parent = nullptr);
    ~LinkProxy() override;

    /** Listens on 127.0.0.1 (port 0: any free port). */
    bool listen(quint16 port = 0);
    [[nodiscard]] quint16 port() const;
    /** Where links opened from now on connect (open links keep theirs): the server moved to another port. */
    void setTarget(const QHostAddress &host, quint16 port)
    {
        m_targetHost = host;
        m_targetPort = port;
    }

    [[nodiscard]] Mode mode() const { return m_mode; }
    void setMode(Mode mode);
    [[nodiscard]] int delayMs() const { return m_delayMs; }
    void setDelayMs(int ms);
    /** A blip: resets every current link, then keeps passing traffic. */
    void blip();

    [[nodiscard]] int linkCount() const { return int(m_links.size()); }
    [[nodiscard]] qint64 bytesUp() const { return m_bytesUp; }
    [[nodiscard]] qint64 bytesDown() const { return m_bytesDown; }
    [[nodiscard]] qint64 bytesDropped() const { return m_bytesDropped; }
    [[nodiscard]] int connectionsAccepted() const { return m_accepted; }
    [[nodiscard]] int resets() const { return m_resets; }

    [[nodiscard]] static QString modeName(Mode mode);

Q_SIGNALS:
    void modeChanged();
    void countersChanged();

private:
    struct Link;
    void onNewConnection();
    void resetAll();
    void removeLink(Link *link);

    QHostAddress m_targetHost;
    quint16 m_targetPort;
    QTcpServer *m_server;
    Mode m_mode = Mode::Pass;
    int m_delayMs = 0;
    std::vector<std::unique_ptr<Link>> m_links;
    qint64 m_bytesUp = 0;
    qint64 m_bytesDown = 0;
    qint64 m_bytesDropped = 0;
    int m_accepted = 0;
    int m_resets = 0;
};

} // namespace lark::netsim
