// SPDX-License-Identifier: MIT
#include "securityrules.h"

#include "logging.h"

#include "db/database.h"

Q_LOGGING_CATEGORY(lcRules, "lark.rules", QtInfoMsg)

using namespace Qt::Literals::StringLiterals;

namespace lark
{

SecurityRules::SecurityRules(QObject *parent)
    : QObject(parent)
{
}

SecurityRules::Result SecurityRules::set(const QString &ns, const QByteArray &source, bool dryRun)
{
    rules::LoadError error;
    std::shared_ptr<const rules::Ruleset> compiled = rules::Ruleset::compile(source, &error);
    if (!compiled)
        return {false, error.toString()};
    if (dryRun)
        return {};
    m_rules.insert(ns, std::move(compiled));
    Q_EMIT rulesChanged(ns);
    return {};
}

void SecurityRules::reset(const QString &ns)
{
    if (m_rules.remove(ns) > 0)
        Q_EMIT rulesChanged(ns);
}

std::shared_ptr<const rules::Ruleset> SecurityRules::ruleset(const QString &ns) const
{
    const auto it = m_rules.constFind(ns);
    return it != m_rules.constEnd() ? *it : rules::Ruleset::open();
}

bool SecurityRules::hasRules(const QString &ns) const
{
    return m_rules.contains(ns);
}

QJsonValue SecurityRules::authVariable(const Identity &who)
{
    if (who.kind == Identity::Kind::Anonymous)
        return QJsonValue::Null;
    return who.authJson();
}

Denied SecurityRules::describe(const rules::Denial &denial)
{
    Denied d;
    d.message = denial.message;
    if (!denial.kind.isEmpty())
        d.rule = u"%1 %2: \"%3\""_s.arg(denial.rulePath, denial.kind, denial.expression);
    else
        d.rule = u"%1 (no rule granted)"_s.arg(denial.rulePath);
    return d;
}

std::optional<Denied> SecurityRules::mayRead(
    const Identity &who, const Database &db, const Path &path, const Query &query, qint64 now) const
{
    const auto it = m_rules.constFind(db.name());
    if (it == m_rules.constEnd())
        return std::nullopt; // no rules: open, as the emulator
    warnUnindexed(db.name(), **it, path, query);
    if (who.isAdmin())
        return std::nullopt;
    rules::Denial denial;
    if ((*it)->canRead({authVariable(who), now, who.uid}, db.root(), path, query, &denial))
        return std::nullopt;
    return describe(denial);
}

std::optional<Denied> SecurityRules::mayWrite(
    const Identity &who, const Database &db, const Path &base, const std::vector<Write> &writes, qint64 now) const
{
    const auto it = m_rules.constFind(db.name());
    if (it == m_rules.constEnd() || who.isAdmin())
        return std::nullopt;
    rules::Denial denial;
    if ((*it)->canWrite({authVariable(who), now, who.uid}, db.root(), base, writes, &denial))
        return std::nullopt;
    return describe(denial);
}

void SecurityRules::warnUnindexed(
    const QString &ns, const rules::Ruleset &rules, const Path &path, const Query &query) const
{
    QString index;
    if (query.index() == Query::Index::Value)
        index = u".value"_s;
    else if (query.index() == Query::Index::Child)
        index = query.childPath().keys().join(u'/');
    else
        return;
    if (rules.indexOn(path).contains(index))
        return;
    // The namespace and path cannot hold a tab: the key is unambiguous.
    const QString key = ns + u'\t' + path.toString() + u'\t' + index;
    if (m_warnedIndexes.contains(key))
        return;
    m_warnedIndexes.insert(key);
    qCWarning(lcRules).noquote() << u"namespace %1: Using an unspecified index. Consider adding \".indexOn\": \"%2\" "
                                    "at %3 to your security rules for better performance"_s.arg(
                                        ns, index, path.toString());
}

} // namespace lark
