// SPDX-License-Identifier: MIT
#pragma once

// The message generator of tst_fuzz: seeded, structure-aware random v5 messages. Every frame it makes is a
// well-formed WebSocket text frame; what is random is the JSON inside: envelope, request number, action, paths,
// values, queries, merges, and now and then messages at and over the server's cap (fuzzoracle.h's Cap).

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QRandomGenerator>
#include <QString>
#include <QStringList>

class RawClient;

/** Makes the random messages; everything it makes depends on the seed only, never on what the server answered. */
class Generator
{
public:
    explicit Generator(quint32 seed)
        : m_rng(seed)
    {
    }

    int below(int n) { return n <= 1 ? 0 : int(m_rng.bounded(n)); }
    bool chance(int percent) { return below(100) < percent; }
    QString pick(const QStringList &l) { return l.at(below(int(l.size()))); }
    QJsonValue pickValue(const QList<QJsonValue> &l) { return l.at(below(int(l.size()))); }

    /** The next message's text; r numbers come from *nextR. Mostly well under the cap, sometimes at or over it. */
    QString next(qint64 *nextR);
    /** Sends text as the SDK may: whole, or as a frame count and pieces; sometimes after a "0" keep-alive. */
    void send(RawClient &client, const QString &text);
    /** Text that is a request, built by hand: for the last request of a connection. */
    static QString plainRequest(qint64 r, const QString &action);

private:
    QString goodKey();
    /** Keys at and over the limits: forbidden characters, pseudo-keys, control characters, 768 bytes and more. */
    QString edgeKey();
    /** A path a write may use: under /fuzz (valid or not), or one the server must refuse. */
    QString writePath();
    QString readPath();
    QJsonValue hugeNumber();
    QJsonValue leaf();
    QJsonValue priority();
    QJsonValue increment();
    QJsonValue serverValue();
    QJsonValue withPriority(int depth);
    QJsonObject object(int depth);
    /** A chain of single children that crosses the 32-level limit at some depths of the path it is written to. */
    QJsonValue deepChain();
    QJsonValue value(int depth);
    /** The children of an update: relative paths, some multi-segment, some invalid, some overlapping. */
    QJsonObject mergeData(bool atRoot);
    QJsonValue bound();
    QJsonObject query();
    QJsonValue tag();
    QString mockJwt();
    QJsonValue body(const QJsonValue &actionValue);
    QJsonValue action();
    QJsonValue requestNumber(qint64 *nextR);
    QJsonObject request(qint64 *nextR);
    QJsonObject control();
    QJsonObject badEnvelope(qint64 *nextR);
    /** A JSON text that does not come out of a QJsonObject: not an object, cut short, padded, repeated keys. */
    QString oddText(qint64 *nextR);
    QString oversize(qint64 *nextR);
    /** A read whose message is exactly the cap, a byte or two under, or a byte over. */
    QString atTheCap(qint64 *nextR);

    QRandomGenerator m_rng;
};
