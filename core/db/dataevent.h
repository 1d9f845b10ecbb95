// SPDX-License-Identifier: MIT
#pragma once

#include "path.h"

#include <QJsonValue>
#include <QString>

#include <memory>
#include <optional>

namespace lark
{

/** Who caused a write: shown by the dashboard ("the onDisconnect of session S"). */
struct WriteOrigin {
    enum class Kind { Client, Admin, Import, OnDisconnect };
    Kind kind = Kind::Client;
    QString session; /**< shortened session id, never the full bearer secret */
    /**
     * The batch was checked against the tree as it is now (a transaction's hash): a journal that orders writes
     * elsewhere (Redis) refuses it when anything it touches changed after the tree this server has.
     */
    bool conditional = false;
};

/**
 * What one listen is told: the new value at a path, or several new values below it. The tree describes changes
 * this way and knows nothing of any wire format; each transport encodes an event for its own clients.
 */
struct DataEvent {
    enum class Kind {
        Overwrite, /**< value is the whole new value at path (null: nothing there now) */
        Merge, /**< value is an object: each key, a path relative to `path` (may have several segments), is overwritten
                */
    };
    Kind kind = Kind::Overwrite;
    Path path; /**< absolute */
    QJsonValue value;
    qint64 tag = 0; /**< the listen's tag for a filtered query (its window, not the whole location), else 0 */
    std::optional<WriteOrigin> cause; /**< the write that changed the data; empty for a listen's first value */
};

/**
 * One event object goes to every listen it is for: a transport that encodes it can do so once for all its
 * recipients by keeping the encoding of the last event it saw (compare the pointers).
 */
using SharedEvent = std::shared_ptr<const DataEvent>;

/** Receives the events of the listens it registered; implemented by each transport's connections. */
class ListenerSink
{
public:
    virtual ~ListenerSink() = default;
    virtual void deliver(const SharedEvent &event) = 0;
};

} // namespace lark
