// SPDX-License-Identifier: MIT
#pragma once

#include "db/database.h"
#include "db/query.h"

#include <QAbstractItemModel>
#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

namespace lark::models
{

/**
 * The data of one namespace as a tree, for the dashboard's TreeView.
 *
 * Children are mirrored lazily (when a row is expanded: canFetchMore/fetchMore) and a page at a time: the first
 * pageSize children, then a "load more" row. Every write batch of the database is applied incrementally: rows are
 * inserted and removed where keys appear and disappear and changed rows get dataChanged with the cause of the
 * write, so views keep their expansion and selection. The model is never reset after construction.
 */
class DataTreeModel : public QAbstractItemModel
{
    Q_OBJECT
    Q_PROPERTY(int pageSize READ pageSize WRITE setPageSize NOTIFY pageSizeChanged)
    Q_PROPERTY(QString lastCause READ lastCause NOTIFY lastCauseChanged)
    Q_PROPERTY(int pendingEdits READ pendingEdits NOTIFY editStatusChanged)
    Q_PROPERTY(QString editError READ editError NOTIFY editStatusChanged)
public:
    enum Roles {
        KeyRole = Qt::UserRole + 1, /**< the key of the row (Qt::DisplayRole too) */
        ValueRole, /**< leaf value as text, or "{n}" for objects */
        TypeRole, /**< "string", "number", "boolean", "object" */
        ChildCountRole, /**< number of children in the database (not just the loaded ones) */
        PathRole, /**< absolute path, "/a/b" */
        IsLoadMoreRow, /**< true for the "load more" pseudo-row after a page of children */
        RemainingRole, /**< on a load-more row: children not shown yet */
        ChangedAtRole, /**< epoch ms of the last write that touched this row, 0 if none since loaded */
        CauseRole, /**< who made that write, e.g. "onDisconnect of S3" */
        FilterRole, /**< the filter on this row's children in words ("members >= 3, first 10"), or "" */
        MatchedRole, /**< with a filter: children that pass it (shown a page at a time) */
        ChangeKindRole, /**< what the last write did here: "added" (the row is new), "changed", "removed" (children
                           went: RemovedRole names them), or "" */
        RemovedRole, /**< with "removed": the keys of the children that went, "a, b" */
    };
    Q_ENUM(Roles)

    explicit DataTreeModel(lark::Database *db, QObject *parent = nullptr);
    ~DataTreeModel() override;

    [[nodiscard]] QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    [[nodiscard]] QModelIndex parent(const QModelIndex &child) const override;
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] bool hasChildren(const QModelIndex &parent = {}) const override;
    [[nodiscard]] bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int pageSize() const { return m_pageSize; }
    void setPageSize(int size);
    [[nodiscard]] const QString &lastCause() const { return m_lastCause; }

    /** On a load-more row: shows the next page of its parent's children. */
    Q_INVOKABLE void loadMore(const QModelIndex &loadMoreRow);
    /** The index of a mirrored path, or invalid if it is not loaded. */
    [[nodiscard]] Q_INVOKABLE QModelIndex indexForPath(const QString &path) const;

    /**
     * Mirrors every node on the way to path (loading pages as needed) and returns its index, for the path bar;
     * invalid when the path does not exist.
     */
    Q_INVOKABLE QModelIndex loadPath(const QString &path);
    /**
     * Shows only the children of path that pass a filter, evaluated by the server's own query engine (the one
     * listens use): children ordered by childKey (empty: by key), compared with op ("==", ">=", "<=") to value
     * (JSON, or else taken as a string; empty: no bound), at most limit (0: no limit) from the front. Rows still
     * appear in key order. Empty result on success, else the reason.
     */
    Q_INVOKABLE QString setFilter(
        const QString &path, const QString &childKey, const QString &op, const QString &value, int limit);
    Q_INVOKABLE void clearFilter(const QString &path);
    /** The filter on path's children in words (as FilterRole), or empty. */
    [[nodiscard]] Q_INVOKABLE QString filterOf(const QString &path); // mirrors the way there, as loadPath()

    /**
     * Admin edits: JSON (export format) at path; an empty result means it was made (or, on a mirror, sent), else
     * the reason.
     */
    Q_INVOKABLE QString setJson(const QString &path, const QString &json);
    Q_INVOKABLE QString removePath(const QString &path);
    /**
     * Replaces the value at path (the root included) with value, as origin (Admin or Import): the one place
     * edits go through. Host mode writes the database; a mirror hands the edit to its sink. Empty or the reason.
     */
    QString write(const Path &path, Node value, WriteOrigin::Kind origin);

    /** Called with the server's verdict on a sent edit: empty when accepted, else the error. */
    using EditDone = std::function<void(const QString &error)>;
    /** Sends an edit (value in export JSON at path) to the server the mirror copies; done is called once. */
    using EditSink = std::function<void(const Path &path, const QJsonValue &value, EditDone done)>;
    /**
     * The database is a local copy of a remote server's namespace (connect mode), kept in step by someone else:
     * edits go to sink, and the tree changes when the copy does. Changes are shown as "remote write" (the copy
     * cannot know who wrote), except those overlapping an edit of ours still in flight.
     */
    void setMirror(EditSink sink);
    [[nodiscard]] bool isMirror() const { return bool(m_sink); }
    /** Mirror: edits sent and not yet answered by the server (e.g. while the connection is down). */
    [[nodiscard]] int pendingEdits() const { return int(m_inFlight.size()); }
    /** Mirror: why the server refused the last refused edit; cleared by the next edit. */
    [[nodiscard]] const QString &editError() const { return m_editError; }

    /** How a write origin is shown, e.g. "client write by S2". */
    [[nodiscard]] static QString describeOrigin(const lark::WriteOrigin &origin);

Q_SIGNALS:
    void pageSizeChanged();
    void lastCauseChanged();
    void editStatusChanged();

private:
    struct Item {
        QString key;
        Item *parent = nullptr;
        std::vector<std::unique_ptr<Item>> children; // mirrored children, then the load-more row if any
        bool loaded = false; // children mirrored
        bool loadMore = false; // this is a load-more row
        bool hasLoadMoreRow = false;
        int limit = 0; // children shown
        int remaining = 0; // on a load-more row: children not shown, as last announced
        qint64 changedAt = 0;
        QString cause;
        QString changeKind; // ChangeKindRole
        QStringList removed; // RemovedRole
        std::unique_ptr<lark::Query> filter; // children shown pass this query
        QString filterText;
        int matched = 0; // children that passed the filter at the last sync
    };

    void onChanged(const QList<lark::Path> &paths, const lark::WriteOrigin &origin);
    void applyChange(const lark::Path &path, const QString &cause, qint64 now);
    /** Children first..last of item are about to go because of the write being applied: say so on item's row. */
    void noteRemoved(Item *item, int first, int last);
    void sync(Item *item, bool recursive);
    void loadChildren(Item *item);
    void touch(Item *item, const QString &cause, qint64 now);
    [[nodiscard]] const Node *nodeFor(const Item *item) const;
    [[nodiscard]] Path pathOf(const Item *item) const;
    [[nodiscard]] QModelIndex indexOf(const Item *item) const;
    [[nodiscard]] int rowOf(const Item *item) const;
    [[nodiscard]] Item *itemFor(const QModelIndex &index) const;
    [[nodiscard]] static int realChildCount(const Item *item);
    [[nodiscard]] Item *loadedItemFor(const Path &path, bool growPages);
    /** loadedItemFor() a path as the UI gives it ("" for the root), without growing pages; null if invalid. */
    [[nodiscard]] Item *loadedItemAt(const QString &path);

    QPointer<lark::Database> m_db;
    std::unique_ptr<Item> m_root;
    int m_pageSize = 50;
    qint64 m_changeAt = 0; // inside applyChange(): rows made or removed now are the write's doing
    QString m_changeCause;
    int m_syncing = 0; // inside sync(): views react to our signals, and must not start a nested change
    QString m_lastCause;
    EditSink m_sink; // set on a mirror
    struct InFlight {
        quint64 id;
        Path path;
        QString cause;
    };
    std::vector<InFlight> m_inFlight; // mirror: our edits the server has not answered yet
    quint64 m_nextEdit = 1;
    QString m_editError;
};

} // namespace lark::models
