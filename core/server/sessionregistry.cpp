// SPDX-License-Identifier: MIT
#include "sessionregistry.h"

#include <QRandomGenerator>

#include <algorithm>

namespace lark
{

SessionRegistry::~SessionRegistry()
{
    qDeleteAll(m_sessions);
}

QList<Session *> SessionRegistry::byNumber() const
{
    QList<Session *> list = m_sessions.values();
    std::sort(list.begin(), list.end(), [](Session *a, Session *b) { return a->number() < b->number(); });
    return list;
}

QString SessionRegistry::newSessionId()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(words), sizeof words)
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

Session *SessionRegistry::open(Connection *c, Database *db, const QString &remoteAddress, qint64 epochMs)
{
    auto *s = new Session(newSessionId(), m_nextNumber++, db);
    s->setConnection(c);
    s->remoteAddress = remoteAddress;
    s->createdAt = s->connectedAt = epochMs;
    m_sessions.insert(s->id(), s);
    return s;
}

Session *SessionRegistry::restore(
    const QString &id, quint64 number, Database *db, qint64 monotonicMs, qint64 epochMs, int graceMs)
{
    auto *s = new Session(id, number, db);
    m_sessions.insert(id, s);
    m_nextNumber = std::max(m_nextNumber, number + 1);
    suspend(s, monotonicMs, epochMs, graceMs);
    return s;
}

SessionRegistry::Resumed SessionRegistry::resume(
    const QString &id, Database *db, Connection *c, const QString &remoteAddress, qint64 epochMs)
{
    Session *s = m_sessions.value(id);
    // A session id names one namespace: the same id on another namespace's socket is a new client there.
    if (!s || s->database() != db || s->state() == Session::State::Ended)
        return {};
    Resumed result {s, s->state() == Session::State::Live ? s->connection() : nullptr};
    s->setState(Session::State::Live);
    s->setConnection(c);
    s->remoteAddress = remoteAddress;
    s->connectedAt = epochMs;
    s->suspendedAt = 0;
    s->fireAt = 0;
    s->authSeenOnConnection = false;
    ++s->resumeCount;
    // Its deadline entry is left in the map: takeExpired() skips it, as it is no longer suspended.
    return result;
}

void SessionRegistry::suspend(Session *s, qint64 monotonicMs, qint64 epochMs, int graceMs)
{
    s->setState(Session::State::Suspended);
    s->setConnection(nullptr);
    s->suspendedAt = epochMs;
    s->fireAt = epochMs + graceMs;
    s->graceDeadline = monotonicMs + graceMs;
    addDeadline(s);
}

void SessionRegistry::addDeadline(Session *s)
{
    m_deadlines.emplace(s->graceDeadline, s->id());
}

std::vector<Session *> SessionRegistry::takeExpired(qint64 monotonicMs)
{
    std::vector<Session *> due;
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= monotonicMs) {
        const auto [deadline, id] = *m_deadlines.begin();
        m_deadlines.erase(m_deadlines.begin());
        // Stale entries: the session ended, or resumed (and maybe was suspended again, with a newer deadline).
        Session *s = m_sessions.value(id);
        if (s && s->state() == Session::State::Suspended && s->graceDeadline == deadline)
            due.push_back(s);
    }
    return due;
}

qint64 SessionRegistry::nextDeadline() const
{
    // Stale entries may come first; they only make the caller look a little early, and takeExpired() drops them.
    return m_deadlines.empty() ? -1 : m_deadlines.begin()->first;
}

void SessionRegistry::shiftDeadlines(qint64 lateMs)
{
    m_deadlines.clear();
    for (Session *s : std::as_const(m_sessions)) {
        if (s->state() != Session::State::Suspended)
            continue;
        s->graceDeadline += lateMs;
        s->fireAt += lateMs;
        addDeadline(s);
    }
}

void SessionRegistry::remove(Session *s)
{
    m_sessions.remove(s->id());
    delete s;
}

} // namespace lark
