// SPDX-License-Identifier: MIT
#pragma once

#include "authorizer.h"
#include "identity.h"
#include "ondisconnectqueue.h"

#include "db/path.h"
#include "db/query.h"

#include <QJsonValue>
#include <QString>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace lark
{

class Database;
class ListenerSink;
class Session;

/** Reply statuses of the request path (docs/wire-protocol.md §6); each transport maps them to its own form. */
namespace status
{
inline const QString Ok = QStringLiteral("ok");
inline const QString InvalidRequest = QStringLiteral("invalid_request");
inline const QString PermissionDenied = QStringLiteral("permission_denied");
inline const QString DataStale = QStringLiteral("datastale");
/** The data file could not keep a write or an op: refused, so no `ok` is given for what is not durable. */
inline const QString WriteFailed = QStringLiteral("write_failed");
inline const QString InvalidToken = QStringLiteral("invalid_token");
inline const QString ExpiredToken = QStringLiteral("expired_token"); // a verified token past its exp (--auth verify)
inline const QString Unavailable = QStringLiteral("unavailable");
// Resource caps (docs/semantics.md §7): the request is refused and nothing of it is kept.
inline const QString TooManyOps = QStringLiteral("too_many_ops");
inline const QString TooManyListens = QStringLiteral("too_many_listens");
} // namespace status

/** One data request, decoded from whatever transport carried it (a v5 message today, REST next). */
struct Request {
    enum class Action {
        Listen, /**< start pushing path (and query) to the caller's sink, with its current value */
        Unlisten,
        Get, /**< the value (or the query's result) once */
        Set, /**< data at path; with expectedHash, a transaction's compare-and-set */
        Update, /**< children, each relative to path */
        OnDisconnectSet,
        OnDisconnectUpdate,
        OnDisconnectCancel,
    };
    Action action = Action::Get;
    Path path;
    Query query; /**< Listen, Unlisten, Get */
    qint64 tag = 0; /**< Listen: the client's tag for a filtered query, or 0 */
    QByteArray hash; /**< Listen: the hash of what the client has; Set: the hash a transaction expects */
    bool hasExpectedHash = false; /**< Set: hash is a transaction's precondition */
    QJsonValue data; /**< Set, OnDisconnectSet: the value as sent, ServerValues unresolved */
    std::vector<std::pair<Path, QJsonValue>> children; /**< Update, OnDisconnectUpdate: relative paths, in order */
};

/** The request path's answer: a status with its data, and how to take back what a lost commit did not keep. */
struct Reply {
    Reply() = default;
    Reply(QString status, QJsonValue data = QString(), std::function<void()> undo = {})
        : status(std::move(status))
        , data(std::move(data))
        , undo(std::move(undo))
    {
    }
    QString status = status::Ok;
    QJsonValue data = QString();
    /** Set when the request changed state that a data file records and that can be put back in memory. */
    std::function<void()> undo;
    [[nodiscard]] bool isOk() const { return status == status::Ok; }
};

/** Who asks: the identity rules are checked against, and what the transport gives the request path to work with. */
struct Caller {
    Database *db = nullptr; /**< the namespace the caller is bound to */
    Identity identity;
    Session *session = nullptr; /**< the caller's session, for onDisconnect ops; none for one-off requests */
    ListenerSink *sink = nullptr; /**< where its listens push; none for transports without listens */
    QString handle; /**< the public session handle the dashboard names as a write's cause */
    QString transport; /**< "websocket" (REST next), for the denial log and the admin feed */
};

/** What the request path needs of the sessions' lifecycle and storage; implemented by the server. */
class SessionLedger
{
public:
    virtual ~SessionLedger() = default;
    /** Records r, which s's queue has just applied; false with a reason when the data file could not keep it. */
    virtual bool recordRegistration(Session *s, const OnDisconnectQueue::Registration &r, QString *error) = 0;
    /** Whether what is recorded may still be lost after the reply (a data file's open batch). */
    [[nodiscard]] virtual bool recordsCanBeLost() const = 0;
    [[nodiscard]] virtual Session *findSession(const QString &id) const = 0;
    /** s's queue or identity changed: the admin feed and the dashboard hear of it. */
    virtual void sessionUpdated(Session *s) = 0;
    /** The Authorizer refused request (answered permission_denied): the log and the admin feed hear of it. */
    virtual void requestDenied(const Caller &caller, const Request &request, const Denied &denied) = 0;
};

/**
 * The one request path of every transport: takes a caller and a decoded request, checks it (paths, values, caps,
 * and the Authorizer: the security rules, or allow-all), applies it to the namespace's Database or the
 * caller's session, and returns a status and data. It knows no wire format: the WebSocket side decodes v5 into a
 * Request and encodes the Reply, and the REST API will do the same with HTTP. Synchronous: a write is applied and
 * fanned out before handle() returns (docs/wire-protocol.md §0.3).
 */
class RequestHandler
{
public:
    struct Limits {
        int maxOpsPerSession = 1000;
    };
    RequestHandler(SessionLedger *ledger, const Authorizer *authorizer, Limits limits);

    /** Answers request with one instant (now, epoch ms) for its ServerValues and its rules. */
    [[nodiscard]] Reply handle(const Caller &caller, const Request &request) const;

    /** Replaces the authorizer (not owned); nullptr: allow-all (Server passes its SecurityRules instead). */
    void setAuthorizer(const Authorizer *authorizer);

    /** Whether an active listen may stay (rules or identity changed): nothing when it may. */
    [[nodiscard]] std::optional<Denied> recheckListen(
        const Identity &who, const Database &db, const Path &path, const Query &query, qint64 now) const;
    struct DroppedOp {
        OnDisconnectQueue::Op op;
        Denied denied;
    };
    /**
     * Checks s's queued ops again as they were registered (a set at its path, an update's ops as one batch), with
     * s's identity against the current tree, and cancels every op now denied, recording each cancel like an `oc`.
     * Returns what was dropped.
     */
    std::vector<DroppedOp> recheckQueuedOps(Session *s, qint64 now) const;

private:
    Reply listen(const Caller &c, const Request &r, qint64 now) const;
    Reply get(const Caller &c, const Request &r, qint64 now) const;
    Reply set(const Caller &c, const Request &r, qint64 now) const;
    Reply update(const Caller &c, const Request &r, qint64 now) const;
    Reply onDisconnect(const Caller &c, const Request &r, qint64 now) const;
    /** The permission_denied reply, after telling the ledger why. */
    Reply denied(const Caller &c, const Request &r, const Denied &why) const;

    SessionLedger *m_ledger;
    const Authorizer *m_authorizer;
    Limits m_limits;
};

} // namespace lark
