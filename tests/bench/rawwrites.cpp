// SPDX-License-Identifier: MIT
// The writes scenario on RawClients (rawclients.h): closed loop with writes in flight per connection, or open loop
// on a periodic timerfd tick, in an epoll loop of its own; latency taken from each write's scheduled time.
#include "rawclients_p.h"

#include <QJsonArray>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

namespace
{

// The writes phase's open loop sends on this tick (ns): at most this much of a write's latency is the wait for it.
constexpr qint64 TickNs = 50000;

qint64 nowNs()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void appendNumber(std::string &s, qint64 v)
{
    char digits[24];
    const auto res = std::to_chars(digits, digits + sizeof digits, v);
    s.append(digits, size_t(res.ptr - digits));
}

} // namespace

void RawClients::sendWrite(Conn &c, qint64 fromUs)
{
    WritePhase &p = *m_phase;
    const qint64 n = p.sent++;
    if (c.state != Conn::State::Open) {
        ++p.abandoned; // lost earlier in the phase: counted as sent and never acked, which fails the run
        return;
    }
    const qint64 r = c.nextR++;
    c.sentAt.emplace_back(r, fromUs);
    ++c.outstanding;
    std::string &m = m_message;
    m.assign(R"({"t":"d","d":{"r":)");
    appendNumber(m, r);
    m.append(R"(,"a":"p","b":)");
    m.append(c.writeBody);
    appendNumber(m, n);
    m.append("}}}");
    sendFrame(c, 0x1, m);
}

void RawClients::onReply(Conn &c, qint64 r, bool ok)
{
    WritePhase &p = *m_phase;
    qint64 fromUs = -1;
    // Replies come in request order on a connection, so this is nearly always the front.
    if (!c.sentAt.empty() && c.sentAt.front().first == r) {
        fromUs = c.sentAt.front().second;
        c.sentAt.pop_front();
    } else {
        const auto it = std::find_if(
            c.sentAt.begin(), c.sentAt.end(), [r](const std::pair<qint64, qint64> &e) { return e.first == r; });
        if (it != c.sentAt.end()) {
            fromUs = it->second;
            c.sentAt.erase(it);
        }
    }
    if (fromUs < 0) {
        ++p.unmatched;
        note(u"a reply to r=%1, which was not sent or was answered already"_s.arg(r));
        return;
    }
    if (!ok)
        ++p.refused;
    const qint64 t = m_readUs;
    p.hist.add(t - fromUs);
    ++p.acked;
    if (t <= p.end)
        ++p.inWindow;
    if (p.closedLoop && t < p.end)
        sendWrite(c, nowUs()); // corked: goes out with the other writes of this read batch
}

QJsonObject RawClients::writes(int inflight, qint64 durationUs, double rate, const QByteArray &prefix)
{
    std::vector<Conn *> live;
    for (const auto &c : m_conns) {
        if (c->ready && c->state == Conn::State::Open)
            live.push_back(c.get());
    }
    if (live.empty())
        return {{u"error"_s, u"no open connections"_s}};
    if (m_timer < 0) {
        m_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        if (m_timer < 0 || epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_timer, &ev) < 0)
            return {{u"error"_s, u"timerfd: "_s + QString::fromLocal8Bit(std::strerror(errno))}};
    }
    for (Conn *c : live) {
        c->writeBody = "{\"p\":\"" + prefix.toStdString() + "/" + std::to_string(c->index) + "\",\"d\":";
        c->sentAt.clear();
    }
    // The default timer slack (50 µs) would let every timed wake-up run late by up to that much.
    const int slackBefore = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    m_phase = std::make_unique<WritePhase>();
    WritePhase &p = *m_phase;
    const qint64 errorsBefore = m_errors;
    p.closedLoop = rate <= 0;
    const qint64 startNs = nowNs();
    p.start = startNs / 1000;
    p.end = p.start + durationUs;
    const qint64 endNs = p.end * 1000;
    const qint64 deadlineNs = endNs + qint64(15) * 1000000000; // for the last acks
    // Open loop: write j is due at start + j / rate.
    const auto dueNs = [&](qint64 j) { return startNs + qint64(std::llround(double(j) * 1e9 / rate)); };
    qint64 nextDue = startNs;
    if (p.closedLoop) {
        m_corked = true;
        for (Conn *c : live) {
            for (int j = 0; j < inflight; ++j)
                sendWrite(*c, nowUs());
        }
        flushCorked();
    }

    // Re-arming a one-shot timer for every write took 43 % of this process at 100 000 writes/s in this VM. So the
    // open loop wakes on a periodic tick and sends what has come due since; the wait for the tick is part of each
    // write's latency, as is any other lateness of this process.
    const auto armTimer = [&](qint64 atNs, qint64 everyNs) {
        itimerspec its {};
        its.it_value.tv_sec = atNs / 1000000000;
        its.it_value.tv_nsec = atNs % 1000000000;
        its.it_interval.tv_sec = everyNs / 1000000000;
        its.it_interval.tv_nsec = everyNs % 1000000000;
        timerfd_settime(m_timer, TFD_TIMER_ABSTIME, &its, nullptr);
    };
    if (p.closedLoop)
        armTimer(endNs, 0);
    else
        armTimer(startNs + TickNs, TickNs);
    bool ended = false;
    epoll_event events[512];
    QString loopError;
    for (;;) {
        qint64 now = nowNs();
        if (!p.closedLoop && nextDue <= now && nextDue < endNs) {
            // Everything due by now goes out, each with its own scheduled time.
            m_corked = true;
            while (nextDue <= now && nextDue < endNs) {
                const qint64 lateUs = (now - nextDue) / 1000;
                p.lag.add(lateUs);
                p.maxLagUs = std::max(p.maxLagUs, lateUs);
                sendWrite(*live[size_t(p.sent) % live.size()], nextDue / 1000);
                nextDue = dueNs(p.sent);
                if (nextDue > now)
                    now = nowNs(); // sending took time: more may be due
            }
            flushCorked();
        }
        if (now >= endNs && p.acked + p.abandoned >= p.sent)
            break;
        if (now >= deadlineNs)
            break;
        if (now >= endNs && !ended) {
            ended = true;
            armTimer(deadlineNs, 0); // the window is over: only the last acks are awaited
        }
        const int n = epoll_wait(m_epoll, events, 512, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            loopError = u"epoll_wait: "_s + QString::fromLocal8Bit(std::strerror(errno));
            break;
        }
        handleEvents(events, n);
    }
    armTimer(0, 0); // disarm
    prctl(PR_SET_TIMERSLACK, slackBefore > 0 ? static_cast<unsigned long>(slackBefore) : 50000UL, 0, 0, 0);

    QJsonObject answer {{u"sent"_s, double(p.sent)}, {u"acked"_s, double(p.acked)}, {u"inWindow"_s, double(p.inWindow)},
        {u"windowUs"_s, double(p.end - p.start)}, {u"errors"_s, double(m_errors - errorsBefore)},
        {u"refused"_s, double(p.refused)}, {u"unmatched"_s, double(p.unmatched)}, {u"lost"_s, p.lost},
        {u"firstError"_s, m_firstError}, {u"hist"_s, p.hist.toJson()}, {u"client"_s, u"epoll"_s}};
    if (!p.closedLoop) {
        answer.insert(u"lag"_s, p.lag.toJson());
        answer.insert(u"lagMaxUs"_s, double(p.maxLagUs));
    }
    if (!loopError.isEmpty())
        answer.insert(u"error"_s, loopError);
    for (Conn *c : live) {
        c->sentAt.clear();
        c->outstanding = 0;
    }
    m_phase.reset();
    return answer;
}

} // namespace bench
