// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

namespace lark
{

/**
 * A Firebase-style push id: 20 characters, 8 of time (ms, base-64 in the SDK's sortable alphabet) and 12 random,
 * incremented within one millisecond so ids made by one client sort in creation order.
 */
[[nodiscard]] QString generatePushId(qint64 nowMs);

} // namespace lark
