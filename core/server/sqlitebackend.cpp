// SPDX-License-Identifier: MIT
#include "sqlitebackend.h"

#include "logging.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

QJsonObject MemoryBackend::describe() const
{
    return {{u"persistent"_s, false}};
}

SqliteBackend::SqliteBackend(QString fileName, Store::Sync sync, QObject *parent)
    : Backend(parent)
    , m_fileName(std::move(fileName))
    , m_sync(sync)
{
    m_commitTimer.setSingleShot(true);
    m_commitTimer.setInterval(0);
    connect(&m_commitTimer, &QTimer::timeout, this, [this] {
        if (!m_commitsPaused)
            m_store.commit();
    });
    m_store.setBatchOpenedHandler([this] { m_commitTimer.start(); });
    m_store.setCommitHandler([this](quint64 batch, bool ok, const QString &why) { Q_EMIT committed(batch, ok, why); });
}

SqliteBackend::~SqliteBackend()
{
    // The store is a member and outlives this body: it must not call back into a half-destroyed backend.
    m_store.setBatchOpenedHandler(nullptr);
    m_store.setCommitHandler(nullptr);
}

bool SqliteBackend::start(const DatabaseFor &database, Loaded *loaded, QString *error)
{
    return m_store.open(m_fileName, m_sync, error)
        && m_store.load(database, &loaded->sessions, &loaded->nextSessionNumber, error);
}

void SqliteBackend::stop()
{
    m_commitTimer.stop();
    QString why;
    if (!m_store.commit(&why)) // the server committed before closing its connections; this is what came after
        qCWarning(lcServer).noquote() << "the last commit failed at shutdown:" << why;
    // Sessions stay stored (they come back suspended); the log is folded into snapshots so the next start is quick.
    if (!m_store.compact(&why))
        qCWarning(lcServer).noquote() << "could not compact the data file:" << why;
    qCInfo(lcServer).noquote() << "data file:" << m_store.recordCount() << "records in" << m_store.commitCount()
                               << "commits";
}

QJsonObject SqliteBackend::describe() const
{
    QJsonObject o {{u"persistent"_s, true}};
    if (!m_store.failure().isEmpty())
        o.insert(u"failure"_s, m_store.failure());
    return o;
}

void SqliteBackend::setCommitsPausedForTesting(bool paused)
{
    m_commitsPaused = paused;
    if (!paused && m_store.openBatch())
        m_commitTimer.start();
}

} // namespace lark
