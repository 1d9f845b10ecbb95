// SPDX-License-Identifier: MIT
#pragma once

#include "db/database.h"
#include "db/path.h"

#include <QJsonObject>
#include <QJsonValue>

#include <vector>

namespace lark
{

/**
 * A session's pending onDisconnect writes as a sparse tree (docs/semantics.md §4): queued paths never overlap.
 * A set at P replaces what is queued at or below P, or is written into the value queued at an ancestor of P.
 * Values are kept as sent (export JSON with ServerValue placeholders) and resolved only when they fire.
 */
class OnDisconnectQueue
{
public:
    enum class Kind { Set, Update, Remove };
    struct Op {
        Path path;
        QJsonValue value; /**< export JSON, placeholders unresolved; null removes */
        Kind kind;
        qint64 registeredAt; /**< epoch ms */
    };
    /** One o, om or oc as it was accepted: what the store appends, and replays through apply() on load. */
    struct Registration {
        enum class Action { Set, Update, Cancel };
        Action action;
        Path path;
        QJsonValue value; /**< Set: the value as queued */
        std::vector<std::pair<Path, QJsonValue>> children; /**< Update: relative paths and values, in order */
        qint64 at = 0; /**< epoch ms */
    };

    /** `o`: set (or remove, with null) at path. */
    void set(const Path &path, const QJsonValue &value, qint64 now);
    /** `om`: a set at path/key for each entry; keys are relative paths. */
    void update(const Path &path, const std::vector<std::pair<Path, QJsonValue>> &children, qint64 now);
    /** `oc`: forgets everything queued at or below path, and path itself inside an ancestor's value. */
    void cancel(const Path &path);
    /** set(), update() or cancel(), as r says. */
    void apply(const Registration &r);
    /** How many ops the queue would hold after a Set or Update, without applying it (the per-session cap). */
    [[nodiscard]] size_t sizeAfter(const Registration &r) const;

    [[nodiscard]] const std::vector<Op> &ops() const { return m_ops; }
    [[nodiscard]] bool isEmpty() const { return m_ops.empty(); }
    void clear() { m_ops.clear(); }
    /** Replaces the queue with ops that were queued before, e.g. by a session loaded from the store. */
    void setOps(std::vector<Op> ops) { m_ops = std::move(ops); }

    /**
     * The writes to apply at fire time, in registration order, relative to the root, with ServerValues resolved
     * against `root` at `now`. Values that no longer validate are skipped with a reason in *errors.
     */
    [[nodiscard]] std::vector<Write> resolve(const Node &root, qint64 now, QStringList *errors) const;

    [[nodiscard]] static QString kindName(Kind kind);

private:
    void setOne(const Path &path, const QJsonValue &value, Kind kind, qint64 now);
    std::vector<Op> m_ops;
};

} // namespace lark
