// SPDX-License-Identifier: MIT
#pragma once

// Cheap load clients for lark-bench's workers: raw non-blocking TCP sockets on one Linux epoll set, with a
// hand-written WebSocket client handshake, masked text frames out, and only frame headers parsed on the way in.
// A QWebSocket client decodes every frame to a QString and sits in a poll() over every fd; at 10 000 listeners
// that made the load side, not the server, the limit (docs/performance.md). Here the Qt event loop sees a single
// fd (the epoll set, through one QSocketNotifier), and a push costs a header parse and a scan for its stamp.
// The same connections are the fan-out listeners (open() with a listen path, then arm()) and the writers of the
// writes scenario (open() without one, then writes()). A writes phase runs its own epoll loop, woken by a periodic
// timerfd (50 µs) for the open-loop schedule, so neither Qt's loop nor its timers stand between a due write and its
// send().

#include "benchclient.h"

#include <QJsonObject>
#include <QObject>
#include <QSocketNotifier>
#include <QString>

#include <netinet/in.h>
#include <sys/epoll.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bench
{

class RawClients : public QObject
{
public:
    RawClients();
    ~RawClients() override;
    RawClients(const RawClients &) = delete;
    RawClients &operator=(const RawClients &) = delete;

    /**
     * The answer of the worker's "open" command: connect n (numbered from first), wait for the hellos, then, if
     * listenPath is not empty, listen on it. signIn: each first signs in (auth) as its index.
     */
    QJsonObject open(const QString &host, quint16 port, const QByteArray &resource, int first, int n, bool echo,
        const QByteArray &listenPath, bool signIn = false);
    /** Counts pushes whose stamp is at least fromUs from now on. */
    void arm(qint64 fromUs, qint64 *received, qint64 *lastRecvUs, Histogram *hist);
    /**
     * The worker's "writes" command on these connections: sets {"p":prefix/<index>,"d":<n>} for durationUs, then
     * waits (at most 15 s) for every ack. rate 0: closed loop, inflight per connection, latency from the send.
     * rate > 0 (per second, this process): open loop, write j is due at start + j / rate and goes to connection
     * j mod n, whatever the acks do; it is sent on the first tick at or after that time. Its latency is taken from
     * the scheduled time, not from when send() ran, so the tick and any lateness of this process are counted
     * instead of hidden (no coordinated omission).
     */
    QJsonObject writes(int inflight, qint64 durationUs, double rate, const QByteArray &prefix);

    [[nodiscard]] qint64 errors() const { return m_errors; }
    [[nodiscard]] QString firstError() const { return m_firstError; }
    [[nodiscard]] int closedCount() const;
    [[nodiscard]] bool empty() const { return m_conns.empty(); }

private:
    struct Conn;
    struct WritePhase;
    void drain();
    void handleEvents(const epoll_event *events, int n);
    void flushCorked();
    void sendWrite(Conn &c, qint64 fromUs);
    void onReply(Conn &c, qint64 r, bool ok);
    void startMore();
    void startConnect(Conn &c);
    void onWritable(Conn &c);
    void onReadable(Conn &c);
    /** Parses frames from data; returns how many bytes were consumed (the rest is an incomplete frame). */
    size_t parseFrames(Conn &c, const char *data, size_t size);
    void onFrame(Conn &c, int opcode, bool fin, const char *payload, size_t len);
    void onMessage(Conn &c, std::string_view m);
    /** Queues a masked frame; sent at once, or (while corked) by flushCorked() after the current event batch. */
    void sendFrame(Conn &c, int opcode, std::string_view payload);
    void request(Conn &c, const char *action, const QByteArray &body);
    void lose(Conn &c, const QString &why);
    void note(const QString &what);

    int m_epoll = -1;
    std::unique_ptr<QSocketNotifier> m_notifier;
    std::vector<std::unique_ptr<Conn>> m_conns;
    sockaddr_in m_addr {};
    QByteArray m_handshake;
    bool m_echo = false;
    size_t m_next = 0; // the next connection to start
    int m_connecting = 0; // started, neither ready nor lost
    std::vector<char> m_buf; // one read buffer for all connections
    qint64 m_pendingReplies = 0;
    qint64 m_errors = 0;
    QString m_firstError;
    // Fan-out counting (pointers into the worker, set by arm()).
    qint64 m_armUs = -1;
    qint64 *m_received = nullptr;
    qint64 *m_lastRecvUs = nullptr;
    Histogram *m_hist = nullptr;
    qint64 m_readUs = 0; // when the current read returned: the receive time of everything in it
    // Frames queued while handling one epoll batch go out with one send() per connection.
    bool m_corked = false;
    std::vector<Conn *> m_dirty;
    std::string m_message; // the write being built
    int m_timer = -1; // timerfd for the writes phase's schedule (in the epoll set with a null data.ptr)
    std::unique_ptr<WritePhase> m_phase; // set while a writes phase runs
};

} // namespace bench
