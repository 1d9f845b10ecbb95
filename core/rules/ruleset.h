// SPDX-License-Identifier: MIT
#pragma once

#include "db/database.h"
#include "db/node.h"
#include "db/path.h"
#include "db/query.h"

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace lark::rules
{

/** Why a rules file was refused at load: a 1-based position in the source and the emulator's message. */
struct LoadError {
    int line = 0;
    int column = 0;
    QString message;
    /** "L:C: message", as the emulator's 400 body carries it (without the trailing newline). */
    [[nodiscard]] QString toString() const;
};

/** The rule that decided a denial, for the log, the admin feed and the dashboard. */
struct Denial {
    /** The rule node's path as written in the file, e.g. "/presence/$uid"; "/" for the root. */
    QString rulePath;
    /** ".read", ".write" or ".validate"; empty when no rule of the kind existed on the path. */
    QString kind;
    /** The rule's source text, or empty (no rule granted). */
    QString expression;
    /** The data path the decision was about (for an update, the key path that was denied). */
    Path path;
    /** One readable sentence, e.g. "no .write rule granted access to /presence/bob". */
    QString message;
};

/** What a caller is and when it asks: the inputs of every rule besides the data. */
struct Context {
    /** `auth`: null for an unauthenticated caller, otherwise {uid, provider, token} (Identity::toAuthJson()). */
    QJsonValue auth;
    /** `now`, epoch ms: one instant per request, the same one ServerValues were resolved with. */
    qint64 now = 0;
    /**
     * auth.uid, when the caller has it at hand (the server's Identity does): the member nearly every rule reads is
     * then no JSON lookup. Empty: read from auth.
     */
    QString authUid;
};

/** Bounds on the work of one load and one evaluation (docs/rules.md §9); beyond them, fail closed. */
struct Limits {
    qsizetype maxSourceBytes = 256 * 1024;
    /** child()/parent() steps plus nodes visited by .validate walks, per request. */
    int maxEvaluationSteps = 100000;
};

/**
 * One compiled rules file (docs/rules.md §2): parsed in the emulator's dialect, type-checked and compiled once, then
 * evaluated for each request without re-parsing. Immutable and shared: a namespace swaps in a new one atomically.
 *
 * Evaluation follows docs/rules.md §3-§5: reads and writes cascade (the first true grant on root → path
 * wins), .validate on every written non-null node and on its ancestors' merged new values, multi-path updates
 * checked path by path against one would-be tree. A runtime error makes that rule false. Admin callers are the
 * server's to let through: a Ruleset never sees them.
 */
class Ruleset
{
public:
    ~Ruleset();
    Ruleset(const Ruleset &) = delete;
    Ruleset &operator=(const Ruleset &) = delete;

    /** Compiles source (the file's bytes, UTF-8); nullptr with the position and message of the first error. */
    [[nodiscard]] static std::shared_ptr<const Ruleset> compile(
        const QByteArray &source, LoadError *error, const Limits &limits = {});
    /** `{"rules":{".read":true,".write":true}}`: what a namespace without rules has, as the emulator. */
    [[nodiscard]] static std::shared_ptr<const Ruleset> open();

    /** The source text exactly as loaded (GET /.settings/rules.json). */
    [[nodiscard]] const QByteArray &source() const;
    /** The parsed file as plain JSON, comments and trailing commas gone, keys in file order (?format=strict). */
    [[nodiscard]] QByteArray strictJson() const;

    /** Whether the caller may listen to or get path with query (a default Query for a plain read). */
    [[nodiscard]] bool canRead(
        const Context &ctx, const Node &root, const Path &path, const Query &query, Denial *why = nullptr) const;
    /**
     * Whether the caller may apply writes (relative to base, ServerValues resolved with ctx.now, null deletes,
     * paths not overlapping) as one batch to the tree root: a set is one write at the empty relative path, an
     * update one per key.
     */
    [[nodiscard]] bool canWrite(const Context &ctx, const Node &root, const Path &base,
        const std::vector<Write> &writes, Denial *why = nullptr) const;

    /** The `.indexOn` entries of the rule node matching path (".value" for orderByValue), for the unindexed warning. */
    [[nodiscard]] QStringList indexOn(const Path &path) const;

private:
    struct Impl;
    explicit Ruleset(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

} // namespace lark::rules
