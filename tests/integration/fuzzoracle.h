// SPDX-License-Identifier: MIT
#pragma once

// The oracle of the protocol fuzz (tst_fuzz, tst_fuzz_regressions): what the server must do with a message, from
// the contract (docs/semantics.md §7, docs/wire-protocol.md §3 and §6), and what a Firebase database can hold,
// checked on JSON from the wire and on the server's own tree.

#include "db/node.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

/** The fuzz server's message cap: small, so messages over it are cheap to make. */
inline constexpr qint64 Cap = 64 * 1024;

extern const QStringList KnownActions;
extern const QStringList PathActions;
extern const QStringList WriteActions;
/** What a server without a data file may answer (docs/wire-protocol.md §6; write_failed needs a data file). */
extern const QStringList KnownStatuses;

QString compact(const QJsonObject &o);
/** A message as a failure report shows it: long ones cut, control characters made visible. */
QString shown(const QString &text);

/** What the server must do with one message. */
struct Fate {
    enum class Kind { Reply, Pong, Nothing, Close };
    Kind kind = Kind::Nothing;
    double r = 0; // Reply: the request number the reply carries
    QJsonValue action; // Reply
    QJsonValue body; // Reply
    int closeCode = 0; // Close
    QString reason; // Close: a part of the reason
};

/**
 * The fate of one message, as its joined UTF-8 bytes: the rules of docs/semantics.md §7 and docs/wire-protocol.md
 * §3–§6, made exact by Connection::handleMessage (which malformed envelopes close and with which code). The JSON is
 * read with the same parser the server uses, so the prediction is about the server's rules, not about Qt's JSON.
 */
Fate predict(const QByteArray &utf8);
/** The status a reply must have where the request alone decides it; empty where the data or the session does. */
QString statusFor(const Fate &f);

/** Why key may not be stored (docs/semantics.md §7), or empty. */
QString keyProblem(const QString &key);
QString childPath(const QString &path, const QString &key);
/**
 * Why a non-null JSON value is not something a Firebase database can hold, in export format (docs/wire-protocol.md §7):
 * no null leaves, no empty objects, no arrays, valid keys, `.priority` a number or string, `.value` only beside a
 * priority. depth is the number of keys from the root to path.
 */
QString exportProblem(const QJsonValue &v, const QString &path, int depth);
/** The same invariants on the server's own tree, where a number that JSON cannot carry can also hide. */
QString nodeProblem(const lark::Node &n, const QString &path, int depth);

/**
 * Whether two JSON values are the same JSON. QJsonObject's own == compares nested numbers by their CBOR type, so
 * -9223372036854775808 read from the wire (an integer) would differ from the server's double of the same value.
 */
bool sameJson(const QJsonValue &a, const QJsonValue &b);
/** The first path where two JSON values differ, for failure reports. */
QString firstDifference(const QJsonValue &a, const QJsonValue &b, const QString &path);
