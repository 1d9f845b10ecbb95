// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

class QObject;

namespace lark
{

class Database;

/**
 * The namespaces of a server: one Database each, created on first use as the Firebase emulator does, and kept for
 * the server's lifetime (and in its data file). Clients name one in the URL (`ns=`); as each holds memory for good,
 * they may not create them without end: past maxNamespaces only those that exist, and the default one, are admitted.
 */
class Namespaces
{
public:
    /** Databases are created as QObject children of owner (the server), so they go with it, after its store. */
    Namespaces(QString defaultName, int maxNamespaces, QObject *owner);
    Namespaces(const Namespaces &) = delete;
    Namespaces &operator=(const Namespaces &) = delete;

    /** The name a client's ns stands for: the default one for an empty ns. */
    [[nodiscard]] QString resolve(const QString &ns) const { return ns.isEmpty() ? m_defaultName : ns; }
    /** The namespace's database, created if it is new (then *created is set, if given). */
    Database *database(const QString &ns, bool *created = nullptr);
    /** The namespace's database, or nullptr when it has none yet. */
    [[nodiscard]] Database *find(const QString &ns) const { return m_databases.value(resolve(ns)); }
    [[nodiscard]] QList<Database *> databases() const { return m_databases.values(); }
    /** The names of the namespaces, sorted (the dashboard's picker). */
    [[nodiscard]] QStringList names() const;
    [[nodiscard]] int size() const { return int(m_databases.size()); }
    [[nodiscard]] const QString &defaultName() const { return m_defaultName; }
    [[nodiscard]] int maxNamespaces() const { return m_maxNamespaces; }

    /**
     * Whether a client may be bound to ns (a valid name, see isValidName): one that exists, the default one, or a
     * new one while there are fewer than maxNamespaces. False with the reason to close the client with.
     */
    [[nodiscard]] bool admits(const QString &ns, QString *reason) const;

    /** Up to 128 ASCII letters, digits, `-`, `_` and `.`; empty names the default namespace. */
    [[nodiscard]] static bool isValidName(const QString &ns);

private:
    QString m_defaultName;
    int m_maxNamespaces;
    QObject *m_owner;
    QHash<QString, Database *> m_databases; // owned by m_owner
};

} // namespace lark
