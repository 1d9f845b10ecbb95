// SPDX-License-Identifier: MIT
#pragma once

#include "dataevent.h"
#include "node.h"
#include "path.h"
#include "query.h"

#include <QObject>

#include <map>
#include <memory>
#include <vector>

namespace lark
{

/** One write of an atomic batch: a value (null deletes) at a path relative to the batch's base. */
struct Write {
    Path path;
    Node value;
    /**
     * The value as sent when it held ServerValues (value has them resolved here); undefined otherwise. A journal
     * shared by several servers resolves them itself, so that an increment counts against the shared tree.
     */
    QJsonValue unresolved = QJsonValue(QJsonValue::Undefined);
};

class Database;

/**
 * Records batches before they are applied (docs/semantics.md §6). Implemented by the server's store, so the data
 * tree does not depend on how or where batches are kept. A recorded batch may become durable later (the store
 * commits once per event-loop round): whoever acknowledges the write waits for that commit.
 */
class WriteJournal
{
public:
    virtual ~WriteJournal() = default;
    /** Records a validated batch (ServerValues resolved); false with a reason when it could not be kept. */
    virtual bool record(const Database &db, const Path &base, const std::vector<Write> &writes,
        const WriteOrigin &origin, QString *error)
        = 0;
    /**
     * Whether the journal hands recorded batches back with applyRecorded() instead of the write applying them at
     * once: a store shared by several servers orders every server's writes itself, and each tree follows that order.
     */
    [[nodiscard]] virtual bool appliesLater() const { return false; }
};

/**
 * One namespace's data tree with its listens. Writes are applied and fanned out synchronously, so a writer's own
 * listeners get their push before the caller acknowledges the write (docs/wire-protocol.md §0.3).
 *
 * Listens are kept in a trie keyed by path, so a write visits only the listens on its path's ancestors and below
 * it, never all listens; each event is built once per listened path and shared by its recipients (SharedEvent).
 */
class Database : public QObject
{
    Q_OBJECT
public:
    explicit Database(QString name, QObject *parent = nullptr);
    ~Database() override;

    [[nodiscard]] const QString &name() const { return m_name; }
    [[nodiscard]] const Node &root() const { return m_root; }
    /** Export JSON at path (`.priority` paths give the priority); null where empty. */
    [[nodiscard]] QJsonValue valueJson(const Path &path) const;
    /** The SDK hash of the value at path; empty for null. */
    [[nodiscard]] QByteArray hashAt(const Path &path) const;

    /**
     * Registers a listen and pushes the current value unless clientHash shows the client already has it.
     * Tagged listens (tag > 0) get the query's filtered result, tagged. A second listen of the same sink, path
     * and query replaces the first.
     */
    void listen(ListenerSink *sink, const Path &path, const Query &query, qint64 tag, const QByteArray &clientHash);
    /** Returns false when the sink had no such listen. */
    bool unlisten(ListenerSink *sink, const Path &path, const QString &queryIdentifier);
    [[nodiscard]] int listenCount() const { return m_listenCount; }

    /** Batches are recorded here before they are applied; nullptr (the default) keeps data in memory only. */
    void setJournal(WriteJournal *journal) { m_journal = journal; }
    [[nodiscard]] WriteJournal *journal() const { return m_journal; }

    /**
     * Records the batch in the journal, if any, then (unless the journal appliesLater()) applies all writes as one
     * atomic batch (paths must not overlap) and pushes to the affected listens. False with a reason, and nothing
     * applied, when the journal could not record it.
     */
    bool write(const Path &base, std::vector<Write> writes, const WriteOrigin &origin, QString *error = nullptr);
    /** Like write(), for a batch the caller has already made durable (e.g. with other changes in one transaction). */
    void applyRecorded(const Path &base, std::vector<Write> writes, const WriteOrigin &origin);
    /** Applies a batch without recording, pushing or signalling: loading stored data before anyone listens. */
    void load(const Path &base, std::vector<Write> writes);

Q_SIGNALS:
    /** After a batch was applied and pushed: the absolute paths that changed. */
    void changed(const QList<lark::Path> &paths, const lark::WriteOrigin &origin);

private:
    struct Listen {
        ListenerSink *sink;
        Query query;
        qint64 tag;
        QByteArray lastHash; // for tagged listens: the result last pushed, to skip unchanged windows
    };
    struct ListenNode {
        ListenNode *parent = nullptr;
        QString key;
        std::map<QString, std::unique_ptr<ListenNode>> children;
        std::vector<Listen> listens;
    };
    struct Change {
        Path path; // absolute
    };

    [[nodiscard]] QJsonValue jsonAt(const Path &path) const;
    void pushTagged(Listen &listen, const Path &path, const WriteOrigin &cause);
    void notifyAncestors(const Path &base, const std::vector<Change> &changes, const WriteOrigin &cause);
    void notifyBelow(
        ListenNode *node, const Path &path, const std::vector<const Change *> &changes, const WriteOrigin &cause);
    [[nodiscard]] ListenNode *findNode(const Path &path) const;
    void prune(ListenNode *node);

    QString m_name;
    Node m_root;
    WriteJournal *m_journal = nullptr;
    ListenNode m_listens;
    int m_listenCount = 0;
};

} // namespace lark

Q_DECLARE_METATYPE(lark::Path)
Q_DECLARE_METATYPE(lark::WriteOrigin)
