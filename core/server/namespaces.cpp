// SPDX-License-Identifier: MIT
#include "namespaces.h"

#include "db/database.h"
#include "logging.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

Namespaces::Namespaces(QString defaultName, int maxNamespaces, QObject *owner)
    : m_defaultName(std::move(defaultName))
    , m_maxNamespaces(maxNamespaces)
    , m_owner(owner)
{
}

Database *Namespaces::database(const QString &ns, bool *created)
{
    const QString name = resolve(ns);
    Database *&db = m_databases[name];
    const bool isNew = !db;
    if (isNew) {
        db = new Database(name, m_owner);
        qCInfo(lcServer).noquote() << "created namespace" << name;
    }
    if (created)
        *created = isNew;
    return db;
}

QStringList Namespaces::names() const
{
    QStringList names = m_databases.keys();
    names.sort();
    return names;
}

bool Namespaces::admits(const QString &ns, QString *reason) const
{
    if (!isValidName(ns)) {
        *reason = u"invalid namespace"_s;
        return false;
    }
    // Those that exist, loaded from the data file included, and the default one always work.
    const QString name = resolve(ns);
    if (m_databases.contains(name) || name == m_defaultName || m_databases.size() < m_maxNamespaces)
        return true;
    *reason
        = u"too many namespaces: this server holds at most %1 (lark-server --max-namespaces)"_s.arg(m_maxNamespaces);
    return false;
}

bool Namespaces::isValidName(const QString &ns)
{
    if (ns.size() > 128)
        return false;
    for (const QChar c : ns) {
        if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != u'-' && c != u'_' && c != u'.')
            return false;
    }
    return true;
}

} // namespace lark
