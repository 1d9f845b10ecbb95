// SPDX-License-Identifier: MIT
#include "rulesfiles.h"

#include "logging.h"
#include "securityrules.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

bool readFirebaseConfig(
    const QString &configFile, const QString &defaultNs, std::vector<RulesSource> *out, QString *error)
{
    QFile f(configFile);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"cannot read %1: %2"_s.arg(configFile, f.errorString());
        return false;
    }
    QJsonParseError parse;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &parse);
    if (!doc.isObject()) {
        *error = u"%1 is not a JSON object: %2"_s.arg(configFile, parse.errorString());
        return false;
    }
    const QDir dir = QFileInfo(configFile).absoluteDir();
    const QJsonValue rules = doc.object().value(u"database"_s);
    const auto entry = [&](const QJsonObject &o, const QString &ns) {
        const QString file = o.value(u"rules"_s).toString();
        if (file.isEmpty() || ns.isEmpty()) {
            *error = u"%1: each database entry needs \"rules\": FILE (and, in an array, \"instance\" or "
                     "\"target\")"_s.arg(configFile);
            return false;
        }
        out->push_back({ns, QDir::cleanPath(dir.absoluteFilePath(file))});
        return true;
    };
    out->clear();
    if (rules.isObject())
        return entry(rules.toObject(), defaultNs);
    if (rules.isArray()) {
        for (const QJsonValue &v : rules.toArray()) {
            const QJsonObject o = v.toObject();
            const QString ns
                = o.contains(u"instance"_s) ? o.value(u"instance"_s).toString() : o.value(u"target"_s).toString();
            if (!entry(o, ns))
                return false;
        }
        return true;
    }
    *error
        = u"%1 has no \"database\": {\"rules\": FILE} or [{\"instance\": NS, \"rules\": FILE}, ...]"_s.arg(configFile);
    return false;
}

RulesFiles::RulesFiles(SecurityRules *rules, std::vector<RulesSource> sources, QObject *parent)
    : QObject(parent)
    , m_rules(rules)
    , m_sources(std::move(sources))
{
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, &RulesFiles::onChanged);
    // A file saved by rename leaves the watcher; its folder tells when a file of that name is back.
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] {
        const QStringList watched = m_watcher.files();
        for (const RulesSource &s : std::as_const(m_sources)) {
            if (!watched.contains(s.file) && QFileInfo::exists(s.file))
                onChanged(s.file);
        }
    });
}

bool RulesFiles::loadAll(QString *error)
{
    for (const RulesSource &s : std::as_const(m_sources)) {
        QString why;
        if (!load(s, &why)) {
            *error = u"%1: %2"_s.arg(s.file, why);
            return false;
        }
    }
    watch();
    return true;
}

bool RulesFiles::load(const RulesSource &source, QString *error)
{
    QFile f(source.file);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"cannot read: %1"_s.arg(f.errorString());
        return false;
    }
    const SecurityRules::Result r = m_rules->set(source.ns, f.readAll());
    if (!r.ok) {
        *error = r.error;
        return false;
    }
    return true;
}

void RulesFiles::watch()
{
    for (const RulesSource &s : std::as_const(m_sources)) {
        if (!m_watcher.files().contains(s.file) && QFileInfo::exists(s.file))
            m_watcher.addPath(s.file);
        const QString dir = QFileInfo(s.file).absolutePath();
        if (!m_watcher.directories().contains(dir))
            m_watcher.addPath(dir);
    }
}

void RulesFiles::onChanged(const QString &path)
{
    watch(); // a replaced file is no longer watched: add it back
    for (const RulesSource &s : std::as_const(m_sources)) {
        if (s.file != path || !QFileInfo::exists(path))
            continue; // removed: the rules in force stay until a file is back
        QString why;
        if (load(s, &why)) {
            qCInfo(lcRules).noquote() << "rules loaded for ns" << s.ns << "from" << s.file;
            Q_EMIT loaded(s.ns, s.file);
        } else {
            qCWarning(lcRules).noquote() << "rules for ns" << s.ns << "from" << s.file << "refused, the previous"
                                         << "ones stay:" << why;
            Q_EMIT failed(s.ns, s.file, why);
        }
    }
}

} // namespace lark
