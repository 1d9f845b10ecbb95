// SPDX-License-Identifier: MIT
#pragma once

#include "node.h"
#include "path.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <utility>
#include <vector>

namespace lark
{

/**
 * The checks every client request body goes through before it touches the tree (docs/semantics.md §7): paths,
 * update children and values. Pure functions of the request and the stored tree, so the server, unit tests and the
 * fuzz targets run the very same validation.
 */

/** Why a request is refused: the reply's status (docs/wire-protocol.md §6) and a readable message for its `d`. */
struct Refusal {
    QString status; /**< "invalid_request" or "permission_denied" */
    QString message;
};

/** The location p of a request body: a string and a valid path; below `.info` only for reads. */
[[nodiscard]] bool parseRequestPath(const QJsonObject &body, bool forWrite, Path *path, Refusal *error);

/**
 * The children of an update's d below path: an object whose keys are valid paths relative to it (multi-segment
 * allowed), none in `.info` and no two overlapping. *out gets them in key order, with their raw values.
 */
[[nodiscard]] bool parseUpdateChildren(
    const QJsonObject &body, const Path &path, std::vector<std::pair<Path, QJsonValue>> *out, Refusal *error);

/**
 * A value to store at `at` of root: server values resolved (at nowMs, increments against what is stored), keys,
 * depth and the key-path limits counted from the root, and a priority that is a number, a string or null.
 */
[[nodiscard]] bool buildWriteValue(
    const QJsonValue &json, const Path &at, const Node &root, qint64 nowMs, Node *out, QString *error);

} // namespace lark
