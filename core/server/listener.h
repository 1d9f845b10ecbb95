// SPDX-License-Identifier: MIT
#pragma once

#include "poller.h"

#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <functional>

namespace lark
{

/** The process's open-file limits (RLIMIT_NOFILE): what bounds its connection count. */
struct FileLimit {
    qint64 before = 0; /**< the soft limit found */
    qint64 soft = 0; /**< the soft limit now */
    qint64 hard = 0;
};
/**
 * Raises the soft open-file limit to the hard one (a desktop's default soft limit of 1024 would cap the server at
 * about a thousand connections) and says what it found. Process-wide: the entry points call it once at start.
 */
FileLimit raiseFileLimit();
/** The soft open-file limit now. */
[[nodiscard]] qint64 openFileLimit();
/**
 * Runs onStop on context's thread, from the event loop, when the process gets SIGINT or SIGTERM (a self-pipe: the
 * handler only writes a byte). Process-wide; the entry points call it once. False when the pipe cannot be made.
 */
bool onTerminationSignal(QObject *context, std::function<void()> onStop);

/**
 * The listening TCP socket: accepts through the server's poller and hands each descriptor on.
 *
 * It never stops accepting for good. When the process or the system is out of descriptors (EMFILE, ENFILE) or
 * memory, accept() fails while the connection stays queued, and a level-triggered poller would report it again at
 * once: so it stops watching, retries after a backoff (doubling up to a second), says so once in the log and again
 * when it accepts again. Qt's QTcpServer instead pauses for good on such an error, which left clients waiting in
 * the backlog with nothing in the log.
 */
class Listener : public QObject, private SocketPoller::Handler
{
    Q_OBJECT
public:
    /** onAccepted takes ownership of each accepted, non-blocking descriptor. */
    Listener(SocketPoller *poller, std::function<void(int fd)> onAccepted, QObject *parent = nullptr);
    ~Listener() override;

    /** Binds and listens; false with a reason (the address is taken, not local…). */
    bool listen(const QHostAddress &address, quint16 port, int backlog, QString *error);
    void close();
    [[nodiscard]] bool isListening() const { return m_fd >= 0; }
    [[nodiscard]] quint16 port() const { return m_port; }

    /**
     * Holds new connections in the kernel's backlog while set (the server has as many unfinished handshakes as it
     * takes at once); they are accepted once it is cleared.
     */
    void setHeld(bool held);
    [[nodiscard]] bool isHeld() const { return m_held; }
    /** Whether accepting is backing off after running out of descriptors or memory. */
    [[nodiscard]] bool isBackingOff() const { return m_backoff.isActive(); }

Q_SIGNALS:
    /** accept() failed for want of a resource (errno); accepting resumes after a backoff. Emitted once per episode. */
    void resourceExhausted(int error);

private:
    void onReadable() override;
    void onWritable() override { }
    void updateInterest();
    [[nodiscard]] int waitingClients() const;
    void endEpisode();

    SocketPoller *m_poller;
    std::function<void(int)> m_onAccepted;
    int m_fd = -1;
    quint16 m_port = 0;
    bool m_held = false;
    bool m_watching = true;
    int m_backoffMs = 0; // the current backoff; 0 after an accept
    bool m_exhausted = false; // in an episode: from the first shortage until the backlog is empty
    qint64 m_episodeStart = 0;
    QTimer m_backoff;
};

} // namespace lark
