// SPDX-License-Identifier: MIT
#pragma once

#include "identity.h"

#include "db/database.h"

#include <QString>

#include <optional>
#include <vector>

namespace lark
{

/** Why the Authorizer refused: for the log, the admin feed and the dashboard (the client only sees the status). */
struct Denied {
    QString message; /**< one readable sentence */
    QString rule; /**< the rule that decided, e.g. `/presence/$uid .write: "$uid === auth.uid"`; empty if none */
};

/**
 * The one place the request path asks whether a caller may read or write (docs/semantics.md §4). Every read
 * (listen, get) and every write (set, update, transaction, and an onDisconnect op when it is registered) goes through
 * it before it touches the tree, and so do the re-checks when rules or identities change. now is the request's one
 * instant (epoch ms), the same its ServerValues were resolved with.
 */
class Authorizer
{
public:
    virtual ~Authorizer() = default;
    /** Whether who may read path (with query, for a filtered read): nothing when allowed. */
    [[nodiscard]] virtual std::optional<Denied> mayRead(
        const Identity &who, const Database &db, const Path &path, const Query &query, qint64 now) const = 0;
    /**
     * Whether who may apply writes as one batch at base (relative paths, ServerValues already resolved: the data
     * as it would be stored): nothing when allowed.
     */
    [[nodiscard]] virtual std::optional<Denied> mayWrite(const Identity &who, const Database &db, const Path &base,
        const std::vector<Write> &writes, qint64 now) const = 0;
};

/** Every caller may read and write everything: the Firebase emulator without rules. */
class AllowAll final : public Authorizer
{
public:
    [[nodiscard]] std::optional<Denied> mayRead(
        const Identity &, const Database &, const Path &, const Query &, qint64) const override
    {
        return std::nullopt;
    }
    [[nodiscard]] std::optional<Denied> mayWrite(
        const Identity &, const Database &, const Path &, const std::vector<Write> &, qint64) const override
    {
        return std::nullopt;
    }
};

} // namespace lark
