// SPDX-License-Identifier: MIT
#pragma once

#include "identity.h"

#include "db/database.h"

#include <QString>

#include <vector>

namespace lark
{

/**
 * The one place the request path asks whether a caller may read or write (docs/semantics.md §4). Every read
 * (listen, get) and every write (set, update, and an onDisconnect op when it is registered) goes through it before it
 * touches the tree. Today's implementation allows everything; the security rules engine implements this next.
 */
class Authorizer
{
public:
    virtual ~Authorizer() = default;
    /** Whether who may read path (with query, for a filtered read); false with the reason for permission_denied. */
    [[nodiscard]] virtual bool mayRead(
        const Identity &who, const Database &db, const Path &path, const Query &query, QString *why) const = 0;
    /**
     * Whether who may apply writes as one batch at base (relative paths, ServerValues already resolved: the data
     * as it would be stored); false with the reason.
     */
    [[nodiscard]] virtual bool mayWrite(const Identity &who, const Database &db, const Path &base,
        const std::vector<Write> &writes, QString *why) const = 0;
};

/** Every caller may read and write everything: the Firebase emulator without rules, and Lark until rules land. */
class AllowAll final : public Authorizer
{
public:
    [[nodiscard]] bool mayRead(
        const Identity &, const Database &, const Path &, const Query &, QString *) const override
    {
        return true;
    }
    [[nodiscard]] bool mayWrite(
        const Identity &, const Database &, const Path &, const std::vector<Write> &, QString *) const override
    {
        return true;
    }
};

} // namespace lark
