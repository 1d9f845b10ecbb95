// SPDX-License-Identifier: MIT
#include "worker.h"

#include <QUrl>

#include <memory>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

QJsonObject Worker::handle(const QJsonObject &cmd)
{
    const QString c = cmd.value(u"cmd"_s).toString();
    QJsonObject answer;
    if (c == u"open"_s)
        answer = open(cmd);
    else if (c == u"writes"_s)
        answer = writes(cmd);
    else if (c == u"arm"_s)
        answer = arm(cmd);
    else if (c == u"report"_s)
        answer = report(cmd);
    else if (c == u"close"_s)
        answer = closeAll(cmd);
    else if (c == u"ping"_s)
        answer = pingAll();
    else if (c == u"http-open"_s)
        answer = httpOpen(cmd);
    else if (c == u"rest-writes"_s && m_http)
        answer = m_http->restWrites(qint64(cmd.value(u"ms"_s).toInt()) * 1000,
            cmd.value(u"prefix"_s).toString().toUtf8(), cmd.value(u"ns"_s).toString().toUtf8());
    else
        answer = {{u"error"_s, u"unknown command "_s + c}};
    answer.insert(u"ok"_s, !answer.contains(u"error"_s));
    return answer;
}

qint64 Worker::errorCount() const
{
    qint64 n = (m_raw ? m_raw->errors() : 0) + (m_http ? m_http->errors() : 0);
    for (const Client *c : m_clients)
        n += c->errors;
    return n;
}

QString Worker::firstError() const
{
    for (const Client *c : m_clients) {
        if (!c->firstError.isEmpty())
            return c->firstError;
    }
    if (m_http && !m_http->firstError().isEmpty())
        return m_http->firstError();
    return m_raw ? m_raw->firstError() : QString();
}

QJsonObject Worker::httpOpen(const QJsonObject &cmd)
{
    const QUrl url(cmd.value(u"url"_s).toString());
    if (!m_http)
        m_http = std::make_unique<HttpLoad>();
    return m_http->open(
        url.host(), quint16(url.port(80)), cmd.value(u"n"_s).toInt(), cmd.value(u"stream"_s).toString().toUtf8());
}

bool Worker::waitReplies(int timeoutMs)
{
    return waitFor([this] { return m_pendingReplies <= 0; }, timeoutMs);
}

QJsonObject Worker::open(const QJsonObject &cmd)
{
    const QUrl url(cmd.value(u"url"_s).toString());
    const int n = cmd.value(u"n"_s).toInt();
    m_first = cmd.value(u"first"_s).toInt();
    const bool echo = cmd.value(u"echo"_s).toBool();
    const QByteArray listen = cmd.value(u"listen"_s).toString().toUtf8();
    const QString ops = cmd.value(u"ops"_s).toString();
    const QByteArray prefix = cmd.value(u"prefix"_s).toString().toUtf8();
    const bool signIn = cmd.value(u"signIn"_s).toBool();

    if (cmd.value(u"raw"_s).toBool()) {
        if (!ops.isEmpty())
            return {{u"error"_s, u"the epoll clients only listen and write (no ops)"_s}};
        if (!m_raw)
            m_raw = std::make_unique<RawClients>();
        QByteArray resource = url.path(QUrl::FullyEncoded).toUtf8();
        if (url.hasQuery())
            resource += "?" + url.query(QUrl::FullyEncoded).toUtf8();
        return m_raw->open(url.host(), quint16(url.port(80)), resource, m_first, n, echo, listen, signIn);
    }

    m_pendingReplies = 0;
    const qint64 t0 = nowUs();
    // At most this many handshakes in progress, so none waits out a handshake timeout behind thousands of others.
    constexpr int window = 512;
    int settledCount = 0;
    auto context = std::make_unique<QObject>(); // owns the counting connections below
    for (int i = 0; i < n; ++i) {
        auto *c = new Client(m_first + i, echo, this);
        c->onReply = [this](Client *, qint64, bool) { --m_pendingReplies; };
        m_clients.push_back(c);
        QObject::connect(&c->ws, &QWebSocket::connected, context.get(), [&settledCount] { ++settledCount; });
        QObject::connect(
            &c->ws, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), context.get(), [&settledCount, c] {
                if (!c->ready)
                    ++settledCount;
            });
        c->open(url);
        if (i + 1 - settledCount >= window)
            waitFor([&] { return i + 1 - settledCount < window; }, 30000);
    }
    const auto settled = [this] {
        for (const Client *c : m_clients) {
            if (!c->ready && !c->closed && c->ws.state() != QAbstractSocket::UnconnectedState)
                return false;
        }
        return true;
    };
    waitFor(settled, 60000);
    context.reset(); // the counters above live on this stack frame
    const qint64 tHello = nowUs();
    int opened = 0;
    for (const Client *c : m_clients)
        opened += c->ready && !c->closed ? 1 : 0;

    if (signIn) {
        for (Client *c : m_clients) {
            if (c->ready) {
                ++m_pendingReplies;
                c->request("auth", signInBody(QByteArray::number(c->index)));
            }
        }
        waitReplies(60000);
    }
    if (!listen.isEmpty()) {
        for (Client *c : m_clients) {
            if (c->ready) {
                ++m_pendingReplies;
                c->request("q", "{\"p\":\"" + listen + "\",\"h\":\"\"}");
            }
        }
        waitReplies(60000);
    }
    const qint64 tListen = nowUs();
    if (!ops.isEmpty()) {
        for (Client *c : m_clients) {
            if (!c->ready)
                continue;
            const QByteArray i = QByteArray::number(c->index);
            if (ops == u"mass"_s) {
                m_pendingReplies += 2;
                c->request("o", "{\"p\":\"" + prefix + "/" + i + "/a\",\"d\":" + i + "}");
                c->request("om", "{\"p\":\"" + prefix + "/" + i + "\",\"d\":{\"b\":" + i + "}}");
            } else {
                ++m_pendingReplies;
                c->request("o", "{\"p\":\"" + prefix + "/" + i + "\",\"d\":" + i + "}");
            }
        }
        waitReplies(60000);
    }
    return {{u"opened"_s, opened}, {u"failed"_s, n - opened}, {u"errors"_s, double(errorCount())},
        {u"unanswered"_s, double(m_pendingReplies)}, {u"firstError"_s, firstError()}, {u"t0"_s, double(t0)},
        {u"tHello"_s, double(tHello)}, {u"tListen"_s, double(tListen)}, {u"tOps"_s, double(nowUs())}};
}

QJsonObject Worker::writes(const QJsonObject &cmd)
{
    const int inflight = cmd.value(u"inflight"_s).toInt(1);
    const qint64 durationUs = qint64(cmd.value(u"ms"_s).toDouble()) * 1000;
    const double rate = cmd.value(u"rate"_s).toDouble(); // per second for this worker; 0: closed loop
    const QByteArray prefix = cmd.value(u"prefix"_s).toString().toUtf8();
    if (m_raw && !m_raw->empty())
        return m_raw->writes(inflight, durationUs, rate, prefix);
    const qint64 errorsBefore = errorCount();

    std::vector<Client *> live;
    for (Client *c : m_clients) {
        if (c->ready && !c->closed)
            live.push_back(c);
    }
    if (live.empty())
        return {{u"error"_s, u"no open connections"_s}};
    std::vector<std::unordered_map<qint64, qint64>> sentAt(live.size());
    std::vector<QByteArray> paths;
    for (size_t k = 0; k < live.size(); ++k)
        paths.push_back("{\"p\":\"" + prefix + "/" + QByteArray::number(live[k]->index) + "\",\"d\":");
    qint64 sent = 0, acked = 0, inWindow = 0;
    Histogram hist;
    const qint64 start = nowUs();
    const qint64 end = start + durationUs;
    const auto sendOne = [&](size_t k) {
        const qint64 r = live[k]->request("p", paths[k] + QByteArray::number(sent) + "}");
        sentAt[k][r] = nowUs();
        ++sent;
    };
    for (size_t k = 0; k < live.size(); ++k) {
        live[k]->onReply = [&, k](Client *, qint64 r, bool) {
            const qint64 t = nowUs();
            const auto it = sentAt[k].find(r);
            if (it != sentAt[k].end()) {
                hist.add(t - it->second);
                sentAt[k].erase(it);
            }
            ++acked;
            if (t <= end)
                ++inWindow;
            if (rate <= 0 && t < end)
                sendOne(k);
        };
    }
    QTimer pacer;
    size_t next = 0;
    if (rate <= 0) {
        for (size_t k = 0; k < live.size(); ++k) {
            for (int j = 0; j < inflight; ++j)
                sendOne(k);
        }
    } else {
        // Open loop: what is due by now goes out, whatever the acks do.
        pacer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&pacer, &QTimer::timeout, [&] {
            const qint64 now = nowUs();
            if (now >= end) {
                pacer.stop();
                return;
            }
            const auto due = qint64(rate * double(now - start) / 1e6) - sent;
            for (qint64 j = 0; j < due; ++j)
                sendOne(next++ % live.size());
        });
        pacer.start(1);
    }
    waitFor([&] { return nowUs() >= end; }, int(durationUs / 1000) + 5000);
    pacer.stop();
    waitFor([&] { return acked >= sent; }, 15000);
    for (Client *c : live)
        c->onReply = [this](Client *, qint64, bool) { --m_pendingReplies; };
    return {{u"sent"_s, double(sent)}, {u"acked"_s, double(acked)}, {u"inWindow"_s, double(inWindow)},
        {u"windowUs"_s, double(end - start)}, {u"errors"_s, double(errorCount() - errorsBefore)},
        {u"firstError"_s, firstError()}, {u"hist"_s, hist.toJson()}, {u"client"_s, u"qt"_s}};
}

QJsonObject Worker::arm(const QJsonObject &cmd)
{
    m_armUs = qint64(cmd.value(u"fromUs"_s).toDouble());
    m_received = 0;
    m_lastRecvUs = 0;
    m_hist.clear();
    for (Client *c : m_clients) {
        c->onPush = [this](Client *, const QString &m) {
            const double stamp = Client::pushNumber(m);
            if (stamp < double(m_armUs))
                return;
            const qint64 t = nowUs();
            ++m_received;
            m_lastRecvUs = t;
            m_hist.add(t - qint64(stamp));
        };
    }
    if (m_raw)
        m_raw->arm(m_armUs, &m_received, &m_lastRecvUs, &m_hist);
    if (m_http)
        m_http->arm(m_armUs, &m_received, &m_lastRecvUs, &m_hist);
    return {};
}

QJsonObject Worker::report(const QJsonObject &cmd)
{
    const auto expect = qint64(cmd.value(u"expect"_s).toDouble());
    waitFor([&] { return m_received >= expect; }, cmd.value(u"timeoutMs"_s).toInt(30000));
    // A moment more, so a doubled delivery would be counted.
    waitFor([] { return false; }, 100);
    int closed = (m_raw ? m_raw->closedCount() : 0) + (m_http ? m_http->closedCount() : 0);
    for (const Client *c : m_clients)
        closed += c->closed ? 1 : 0;
    return {{u"received"_s, double(m_received)}, {u"lastUs"_s, double(m_lastRecvUs)}, {u"hist"_s, m_hist.toJson()},
        {u"closed"_s, closed}, {u"errors"_s, double(errorCount())}, {u"firstError"_s, firstError()}};
}

QJsonObject Worker::closeAll(const QJsonObject &cmd)
{
    const qint64 paceUs = qint64(cmd.value(u"paceUs"_s).toDouble());
    QJsonArray closeUs;
    const qint64 start = nowUs();
    size_t done = 0;
    const auto closeNext = [&] {
        Client *c = m_clients[done++];
        closeUs.append(double(nowUs()));
        c->ws.close();
    };
    if (paceUs <= 0) {
        while (done < m_clients.size())
            closeNext();
    } else {
        QTimer pacer;
        pacer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&pacer, &QTimer::timeout, [&] {
            const auto due = size_t((nowUs() - start) / paceUs + 1);
            while (done < std::min(due, m_clients.size()))
                closeNext();
        });
        pacer.start(1);
        waitFor([&] { return done >= m_clients.size(); }, int(qint64(m_clients.size()) * paceUs / 1000) + 10000);
    }
    const bool all = waitFor(
        [this] {
            for (const Client *c : m_clients) {
                if (!c->closed)
                    return false;
            }
            return true;
        },
        30000);
    return {{u"first"_s, m_first}, {u"closeUs"_s, closeUs}, {u"allClosed"_s, all}};
}

QJsonObject Worker::pingAll()
{
    m_pendingReplies = 0; // replies that came after an earlier phase gave up must not count here
    const qint64 req = nowUs();
    for (Client *c : m_clients) {
        if (c->ready && !c->closed) {
            ++m_pendingReplies;
            c->request("s", "{}");
        }
    }
    const bool all = waitReplies(30000);
    return {{u"reqUs"_s, double(req)}, {u"doneUs"_s, double(nowUs())}, {u"answered"_s, all}};
}

} // namespace bench
