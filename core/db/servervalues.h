// SPDX-License-Identifier: MIT
#pragma once

#include <QJsonValue>
#include <QString>

namespace lark
{

class Node;

/**
 * Resolves Firebase ServerValue placeholders in raw JSON: {".sv":"timestamp"} becomes `now` (epoch ms) and
 * {".sv":{"increment":n}} the current number at that place plus n (n alone where there is no number).
 * `current` is the stored node at the JSON's location (nullptr for none). Fails on unknown placeholders.
 */
[[nodiscard]] bool resolveServerValues(
    const QJsonValue &in, const Node *current, qint64 now, QJsonValue *out, QString *error);

/** Whether json contains any ServerValue placeholder (so callers can skip the copy). */
[[nodiscard]] bool containsServerValues(const QJsonValue &json);

} // namespace lark
