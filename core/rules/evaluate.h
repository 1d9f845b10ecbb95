// SPDX-License-Identifier: MIT
#pragma once

#include "expression.h"
#include "snapshot.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QVarLengthArray>

namespace lark::rules
{

/** The query variables of a read (docs/rules.md §7); a write has the default: every field null or false. */
struct QueryVars {
    bool orderByKey = false;
    bool orderByPriority = false;
    bool orderByValue = false;
    QJsonValue orderByChild, startAt, endAt, equalTo, limitToFirst, limitToLast; // null when absent
};

/** The values of the $vars on a walk, root first. */
using Bindings = QVarLengthArray<QString, 8>;

/** Everything one evaluation of a rule reads. Steps are shared by all rules of one request. */
struct Env {
    QJsonValue auth;
    QJsonObject authObject; // auth as an object, once per request
    QString authUid; // Context::authUid: auth.uid without a lookup, when not empty
    qint64 now = 0;
    Chain *chain = nullptr;
    int depth = 0; // data and newData are the chain's positions at this depth
    const Bindings *bindings = nullptr; // the $vars, root first
    const QueryVars *query = nullptr;
    int steps = 0;
    int maxSteps = 0;

    [[nodiscard]] bool exhausted() const { return steps > maxSteps; }
};

/** True only when the expression evaluates to true; an error is false (docs/rules.md §0.7). */
[[nodiscard]] bool evaluate(const Expr &expr, Env &env);

/** JavaScript's Number → String: "NaN", "Infinity", integers without ".0", otherwise the shortest round trip. */
[[nodiscard]] QString numberToString(double d);

} // namespace lark::rules
