// SPDX-License-Identifier: MIT
#pragma once

#include <QFileSystemWatcher>
#include <QObject>
#include <QString>

#include <vector>

namespace lark
{

class SecurityRules;

/** One rules file and the namespace it is for (--rules, or an entry of firebase.json's database.rules). */
struct RulesSource {
    QString ns;
    QString file;
    [[nodiscard]] bool operator==(const RulesSource &o) const { return ns == o.ns && file == o.file; }
};

/**
 * Reads firebase.json's `database.rules` as firebase-tools does: `{"rules": FILE}` for defaultNs, or an array of
 * `{"instance"|"target": NS, "rules": FILE}`; files are relative to the config file's folder. False with a reason.
 */
[[nodiscard]] bool readFirebaseConfig(
    const QString &configFile, const QString &defaultNs, std::vector<RulesSource> *out, QString *error);

/**
 * Keeps namespaces' rules in step with files, as the emulator's CLI does: loads each at start, and again whenever it
 * changes. A file replaced by rename (as editors save) is watched again; a bad reload keeps the previous rules.
 */
class RulesFiles : public QObject
{
    Q_OBJECT
public:
    RulesFiles(SecurityRules *rules, std::vector<RulesSource> sources, QObject *parent = nullptr);

    /** Loads every file and starts watching them; false with "FILE: L:C: message" for the first that fails. */
    bool loadAll(QString *error);

Q_SIGNALS:
    void loaded(const QString &ns, const QString &file);
    /** error: "L:C: message", or why the file could not be read. */
    void failed(const QString &ns, const QString &file, const QString &error);

private:
    bool load(const RulesSource &source, QString *error);
    void onChanged(const QString &path);
    void watch();

    SecurityRules *m_rules;
    std::vector<RulesSource> m_sources;
    QFileSystemWatcher m_watcher;
};

} // namespace lark
