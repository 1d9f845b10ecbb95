// SPDX-License-Identifier: MIT
#pragma once

#include "db/dataevent.h"

#include <QByteArray>
#include <QList>

namespace lark
{

/**
 * Encodes the tree's events as v5 pushes (docs/wire-protocol.md §7), ready to send: WebSocket text frames, split
 * as the SDK joins them. A fan-out hands the same event to every recipient in a row, so the last encoding is kept
 * and a push is serialized and framed once however many connections it goes to.
 */
class PushEncoder
{
public:
    [[nodiscard]] const QList<QByteArray> &wireFrames(const SharedEvent &event);

private:
    SharedEvent m_last; // held, so its address cannot be reused by a new event while its encoding is cached
    QList<QByteArray> m_frames;
};

} // namespace lark
