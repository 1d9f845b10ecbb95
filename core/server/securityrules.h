// SPDX-License-Identifier: MIT
#pragma once

#include "authorizer.h"
#include "identity.h"

#include "rules/ruleset.h"

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QObject>
#include <QSet>
#include <QString>

#include <memory>

namespace lark
{

/**
 * The security rules of every namespace (docs/semantics.md §4), as the request path's Authorizer. A
 * namespace without rules is open, as the emulator's; the admin bypasses every rule, .validate included. Rules are
 * replaced whole and atomically (a compiled Ruleset is immutable); rulesChanged then lets the server re-check the
 * namespace's listens and queued onDisconnect ops. Namespaces are named as Database::name() names them.
 */
class SecurityRules : public QObject, public Authorizer
{
    Q_OBJECT
public:
    struct Result {
        bool ok = true;
        QString error; /**< "L:C: message" (rules::LoadError::toString()) */
    };

    explicit SecurityRules(QObject *parent = nullptr);

    /** Compiles source and, unless dryRun, swaps it in for ns and emits rulesChanged. Nothing changes on error. */
    Result set(const QString &ns, const QByteArray &source, bool dryRun = false);
    /** ns goes back to no rules (open); emits rulesChanged if it had some. */
    void reset(const QString &ns);
    /** ns's rules, or Ruleset::open() when it has none. */
    [[nodiscard]] std::shared_ptr<const rules::Ruleset> ruleset(const QString &ns) const;
    [[nodiscard]] bool hasRules(const QString &ns) const;
    /** The rules' `auth` for who: null for anonymous, else {uid, provider, token} (the admin never gets here). */
    [[nodiscard]] static QJsonValue authVariable(const Identity &who);

    [[nodiscard]] std::optional<Denied> mayRead(
        const Identity &who, const Database &db, const Path &path, const Query &query, qint64 now) const override;
    [[nodiscard]] std::optional<Denied> mayWrite(const Identity &who, const Database &db, const Path &base,
        const std::vector<Write> &writes, qint64 now) const override;

    /** "/presence/$uid .write: \"$uid === auth.uid\"": how logs and the admin feed name the rule of a denial. */
    [[nodiscard]] static Denied describe(const rules::Denial &denial);

Q_SIGNALS:
    void rulesChanged(const QString &ns);

private:
    /** The emulator's hint for an ordered query whose index the rules do not declare; once per (ns, path, index). */
    void warnUnindexed(const QString &ns, const rules::Ruleset &rules, const Path &path, const Query &query) const;

    QHash<QString, std::shared_ptr<const rules::Ruleset>> m_rules;
    mutable QSet<QString> m_warnedIndexes;
};

} // namespace lark
