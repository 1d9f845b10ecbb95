// SPDX-License-Identifier: MIT
#include "datatreemodel.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QScopedValueRollback>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

namespace
{
QString leafText(const Node &n)
{
    switch (n.type()) {
    case Node::Type::Bool:
        return n.boolValue() ? u"true"_s : u"false"_s;
    case Node::Type::Number:
        return QString::number(n.number(), 'g', 16);
    case Node::Type::String:
        // Long strings are cut: the tree is an overview, not an editor for 10 MiB values.
        return n.string().size() > 200 ? u"\"%1…\""_s.arg(n.string().left(200)) : u"\"%1\""_s.arg(n.string());
    case Node::Type::Object:
        return u"{%1}"_s.arg(n.children().size());
    case Node::Type::Null:
        break;
    }
    return u"null"_s;
}

QString typeName(Node::Type t)
{
    switch (t) {
    case Node::Type::Bool:
        return u"boolean"_s;
    case Node::Type::Number:
        return u"number"_s;
    case Node::Type::String:
        return u"string"_s;
    case Node::Type::Object:
        return u"object"_s;
    case Node::Type::Null:
        break;
    }
    return u"null"_s;
}
} // namespace

DataTreeModel::DataTreeModel(lark::Database *db, QObject *parent)
    : QAbstractItemModel(parent)
    , m_db(db)
    , m_root(std::make_unique<Item>())
{
    // The top level is always mirrored: an empty view would look like an empty database.
    loadChildren(m_root.get());
    connect(db, &lark::Database::changed, this, &DataTreeModel::onChanged);
}

DataTreeModel::~DataTreeModel() = default;

QString DataTreeModel::describeOrigin(const lark::WriteOrigin &origin)
{
    switch (origin.kind) {
    case WriteOrigin::Kind::Client:
        return origin.session.isEmpty() ? u"client write"_s : u"client write by %1"_s.arg(origin.session);
    case WriteOrigin::Kind::Admin:
        return u"admin edit"_s;
    case WriteOrigin::Kind::Import:
        return u"import"_s;
    case WriteOrigin::Kind::OnDisconnect:
        return u"onDisconnect of %1"_s.arg(origin.session);
    }
    return {};
}

void DataTreeModel::setPageSize(int size)
{
    size = std::max(1, size);
    if (size == m_pageSize)
        return;
    m_pageSize = size; // applies to pages loaded from now on
    Q_EMIT pageSizeChanged();
}

int DataTreeModel::realChildCount(const Item *item)
{
    return int(item->children.size()) - (item->hasLoadMoreRow ? 1 : 0);
}

DataTreeModel::Item *DataTreeModel::itemFor(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Item *>(index.internalPointer()) : m_root.get();
}

int DataTreeModel::rowOf(const Item *item) const
{
    const auto &siblings = item->parent->children;
    for (size_t i = 0; i < siblings.size(); ++i) {
        if (siblings[i].get() == item)
            return int(i);
    }
    return -1;
}

QModelIndex DataTreeModel::indexOf(const Item *item) const
{
    if (!item || item == m_root.get())
        return {};
    return createIndex(rowOf(item), 0, const_cast<Item *>(item));
}

Path DataTreeModel::pathOf(const Item *item) const
{
    QStringList keys;
    for (const Item *i = item; i && i != m_root.get(); i = i->parent)
        keys.prepend(i->key);
    return Path(keys);
}

const Node *DataTreeModel::nodeFor(const Item *item) const
{
    if (!m_db)
        return nullptr;
    return m_db->root().at(pathOf(item));
}

QModelIndex DataTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    Item *p = itemFor(parent);
    return createIndex(row, column, p->children[size_t(row)].get());
}

QModelIndex DataTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    const Item *item = itemFor(child);
    return indexOf(item->parent);
}

int DataTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    return int(itemFor(parent)->children.size());
}

int DataTreeModel::columnCount(const QModelIndex &parent) const
{
    Q_UNUSED(parent)
    return 1;
}

bool DataTreeModel::hasChildren(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return false;
    const Item *item = itemFor(parent);
    if (item->loadMore)
        return false;
    if (item->loaded)
        return !item->children.empty();
    const Node *n = nodeFor(item);
    return n && n->isObject();
}

bool DataTreeModel::canFetchMore(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return false;
    const Item *item = itemFor(parent);
    if (item->loaded || item->loadMore)
        return false;
    const Node *n = nodeFor(item);
    return n && n->isObject();
}

void DataTreeModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    if (m_syncing) {
        // Asked from a slot of our own rowsInserted: load once this change is complete.
        const QPersistentModelIndex later(parent);
        QMetaObject::invokeMethod(
            this,
            [this, later] {
                if (later.isValid() && canFetchMore(later))
                    loadChildren(itemFor(later));
            },
            Qt::QueuedConnection);
        return;
    }
    loadChildren(itemFor(parent));
}

void DataTreeModel::loadChildren(Item *item)
{
    item->loaded = true;
    item->limit = m_pageSize;
    sync(item, false);
}

void DataTreeModel::loadMore(const QModelIndex &loadMoreRow)
{
    if (!loadMoreRow.isValid() || !checkIndex(loadMoreRow))
        return;
    Item *row = itemFor(loadMoreRow);
    if (!row->loadMore)
        return;
    row->parent->limit += m_pageSize;
    sync(row->parent, false);
}

QModelIndex DataTreeModel::indexForPath(const QString &text) const
{
    Path path;
    QString error;
    if (!Path::parse(text, &path, &error))
        return {};
    const Item *item = m_root.get();
    for (const QString &key : path.keys()) {
        const Item *next = nullptr;
        for (const auto &c : item->children) {
            if (!c->loadMore && c->key == key) {
                next = c.get();
                break;
            }
        }
        if (!next)
            return {};
        item = next;
    }
    return indexOf(item);
}

void DataTreeModel::sync(Item *item, bool recursive)
{
    if (!item->loaded)
        return;
    ++m_syncing;
    const QModelIndex parentIndex = indexOf(item);
    const Node *node = nodeFor(item);
    const Node::Children *kids = node && node->isObject() ? &node->children() : nullptr;

    // The keys to show, in Firebase key order: the first `limit` children, or with a filter the first `limit` of
    // those the query selects. Only a page is ever collected, so a huge node costs a page (unless filtered).
    std::vector<const QString *> wanted;
    int total = 0;
    if (kids && item->filter) {
        const std::vector<Query::Entry> selected = item->filter->select(node);
        total = int(selected.size());
        wanted.reserve(selected.size());
        for (const Query::Entry &e : selected)
            wanted.push_back(e.first);
        std::sort(
            wanted.begin(), wanted.end(), [](const QString *a, const QString *b) { return compareKeys(*a, *b) < 0; });
        if (int(wanted.size()) > item->limit)
            wanted.resize(size_t(item->limit));
        if (item->matched != total) {
            item->matched = total;
            if (item != m_root.get()) {
                const QModelIndex idx = indexOf(item);
                Q_EMIT dataChanged(idx, idx, {MatchedRole});
            }
        }
    } else if (kids) {
        total = int(kids->size());
        wanted.reserve(size_t(std::min(total, item->limit)));
        for (auto it = kids->begin(); it != kids->end() && int(wanted.size()) < item->limit; ++it)
            wanted.push_back(&it->first);
    }

    // Merge the wanted keys into the mirrored rows, which are in the same order: rows are inserted and removed
    // where keys came or went (a run at a time), keys that stayed are kept.
    int i = 0;
    int shown = 0;
    auto it = wanted.begin();
    while (it != wanted.end()) {
        const int mirrored = realChildCount(item);
        if (i < mirrored && compareKeys(item->children[size_t(i)]->key, **it) < 0) {
            int last = i;
            while (last + 1 < mirrored && compareKeys(item->children[size_t(last + 1)]->key, **it) < 0)
                ++last;
            noteRemoved(item, i, last);
            beginRemoveRows(parentIndex, i, last);
            item->children.erase(item->children.begin() + i, item->children.begin() + last + 1);
            endRemoveRows();
            continue;
        }
        if (i >= mirrored || compareKeys(**it, item->children[size_t(i)]->key) < 0) {
            std::vector<std::unique_ptr<Item>> run;
            while (it != wanted.end() && (i >= mirrored || compareKeys(**it, item->children[size_t(i)]->key) < 0)) {
                auto child = std::make_unique<Item>();
                child->key = **it;
                child->parent = item;
                if (m_changeAt) {
                    child->changedAt = m_changeAt;
                    child->cause = m_changeCause;
                    child->changeKind = u"added"_s;
                }
                run.push_back(std::move(child));
                ++it;
                ++shown;
            }
            const int n = int(run.size());
            beginInsertRows(parentIndex, i, i + n - 1);
            item->children.insert(
                item->children.begin() + i, std::make_move_iterator(run.begin()), std::make_move_iterator(run.end()));
            endInsertRows();
            i += n;
            continue;
        }
        if (recursive) {
            Item *child = item->children[size_t(i)].get();
            const QModelIndex idx = index(i, 0, parentIndex);
            Q_EMIT dataChanged(idx, idx, {ValueRole, TypeRole, ChildCountRole});
            sync(child, true);
        }
        ++i;
        ++shown;
        ++it;
    }
    const int mirrored = realChildCount(item);
    if (i < mirrored) {
        noteRemoved(item, i, mirrored - 1);
        beginRemoveRows(parentIndex, i, mirrored - 1);
        item->children.erase(item->children.begin() + i, item->children.begin() + mirrored);
        endRemoveRows();
    }

    const bool wantMore = total > shown;
    const int moreRow = realChildCount(item);
    if (wantMore && !item->hasLoadMoreRow) {
        beginInsertRows(parentIndex, moreRow, moreRow);
        auto more = std::make_unique<Item>();
        more->loadMore = true;
        more->parent = item;
        more->remaining = total - shown;
        item->children.push_back(std::move(more));
        item->hasLoadMoreRow = true;
        endInsertRows();
    } else if (!wantMore && item->hasLoadMoreRow) {
        beginRemoveRows(parentIndex, moreRow, moreRow);
        item->children.pop_back();
        item->hasLoadMoreRow = false;
        endRemoveRows();
    } else if (wantMore && item->children.back()->remaining != total - shown) {
        item->children.back()->remaining = total - shown;
        const QModelIndex idx = index(moreRow, 0, parentIndex);
        Q_EMIT dataChanged(idx, idx, {Qt::DisplayRole, KeyRole, RemainingRole});
    }
    --m_syncing;
}

void DataTreeModel::noteRemoved(Item *item, int first, int last)
{
    // Only a write removes rows for a reason; a filter or a page change just shows fewer. The root has no row.
    if (!m_changeAt || item == m_root.get())
        return;
    if (item->changedAt != m_changeAt)
        item->removed.clear();
    for (int r = first; r <= last; ++r)
        item->removed.append(item->children[size_t(r)]->key);
    item->changeKind = u"removed"_s;
    item->changedAt = m_changeAt;
    item->cause = m_changeCause;
    const QModelIndex idx = indexOf(item);
    Q_EMIT dataChanged(idx, idx, {ChangedAtRole, CauseRole, ChangeKindRole, RemovedRole});
}

void DataTreeModel::touch(Item *item, const QString &cause, qint64 now)
{
    if (item == m_root.get())
        return;
    const QScopedValueRollback syncing(m_syncing, m_syncing + 1);
    // A row this very write added stays "added" as the walk passes it again.
    if (!(item->changedAt == now && item->changeKind == u"added"_s))
        item->changeKind = u"changed"_s;
    if (item->changedAt != now)
        item->removed.clear();
    item->changedAt = now;
    item->cause = cause;
    const QModelIndex idx = indexOf(item);
    Q_EMIT dataChanged(
        idx, idx, {ValueRole, TypeRole, ChildCountRole, ChangedAtRole, CauseRole, ChangeKindRole, RemovedRole});
}

void DataTreeModel::applyChange(const Path &path, const QString &cause, qint64 now)
{
    // Walk down the mirrored part of the path: each ancestor may have gained or lost the child on the way, and
    // its summary ({n}) changed; the node at the path itself was replaced as a whole.
    const QScopedValueRollback changeAt(m_changeAt, now);
    const QScopedValueRollback changeCause(m_changeCause, cause);
    Item *item = m_root.get();
    for (int depth = 0;; ++depth) {
        touch(item, cause, now);
        if (depth == path.size()) {
            sync(item, true);
            return;
        }
        sync(item, false);
        if (!item->loaded)
            return;
        Item *next = nullptr;
        for (const auto &c : item->children) {
            if (!c->loadMore && c->key == path.at(depth)) {
                next = c.get();
                break;
            }
        }
        if (!next)
            return;
        item = next;
    }
}

void DataTreeModel::setMirror(EditSink sink)
{
    m_sink = std::move(sink);
}

void DataTreeModel::onChanged(const QList<lark::Path> &paths, const lark::WriteOrigin &origin)
{
    QString cause = isMirror() ? u"remote write"_s : describeOrigin(origin);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (const Path &p : paths) {
        if (isMirror()) {
            // The copy cannot tell who wrote; a change where an edit of ours is in flight is taken as its echo (a
            // concurrent write by someone else at the same place would be misnamed, for the moment it lasts).
            cause = u"remote write"_s;
            for (const InFlight &e : m_inFlight) {
                if (e.path.overlaps(p))
                    cause = e.cause;
            }
        }
        applyChange(p, cause, now);
    }
    if (cause != m_lastCause) {
        m_lastCause = cause;
        Q_EMIT lastCauseChanged();
    }
}

QVariant DataTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return {};
    Q_ASSERT(checkIndex(index, CheckIndexOption::IndexIsValid));
    const Item *item = itemFor(index);
    if (item->loadMore) {
        // The stored count, not a fresh one: it changes only with the dataChanged that announces it.
        const int remaining = item->remaining;
        switch (role) {
        case Qt::DisplayRole:
        case KeyRole:
            return u"load %1 more"_s.arg(std::min(remaining, m_pageSize));
        case IsLoadMoreRow:
            return true;
        case RemainingRole:
            return remaining;
        case PathRole:
            return pathOf(item->parent).toString();
        default:
            return {};
        }
    }
    const Node *node = nodeFor(item);
    switch (role) {
    case Qt::DisplayRole:
    case KeyRole:
        return item->key;
    case ValueRole:
        return node ? leafText(*node) : u"null"_s;
    case TypeRole:
        return typeName(node ? node->type() : Node::Type::Null);
    case ChildCountRole:
        return node && node->isObject() ? int(node->children().size()) : 0;
    case PathRole:
        return pathOf(item).toString();
    case IsLoadMoreRow:
        return false;
    case RemainingRole:
        return 0;
    case ChangedAtRole:
        return double(item->changedAt);
    case CauseRole:
        return item->cause;
    case ChangeKindRole:
        return item->changeKind;
    case RemovedRole:
        return item->removed.join(u", "_s);
    case FilterRole:
        return item->filterText;
    case MatchedRole:
        return item->matched;
    default:
        return {};
    }
}

QHash<int, QByteArray> DataTreeModel::roleNames() const
{
    return {
        {Qt::DisplayRole, "display"},
        {KeyRole, "key"},
        {ValueRole, "value"},
        {TypeRole, "type"},
        {ChildCountRole, "childCount"},
        {PathRole, "path"},
        {IsLoadMoreRow, "isLoadMore"},
        {RemainingRole, "remaining"},
        {ChangedAtRole, "changedAt"},
        {CauseRole, "cause"},
        {ChangeKindRole, "changeKind"},
        {RemovedRole, "removed"},
        {FilterRole, "filter"},
        {MatchedRole, "matched"},
    };
}

DataTreeModel::Item *DataTreeModel::loadedItemFor(const Path &path, bool growPages)
{
    Item *item = m_root.get();
    for (const QString &key : path.keys()) {
        if (!item->loaded)
            loadChildren(item);
        Item *next = nullptr;
        for (const auto &c : item->children) {
            if (!c->loadMore && c->key == key) {
                next = c.get();
                break;
            }
        }
        if (!next && growPages && !item->filter) {
            // Beyond the loaded page: show pages up to the one that holds the key, if it exists at all.
            const Node *n = nodeFor(item);
            if (!n || !n->isObject() || n->children().find(key) == n->children().end())
                return nullptr;
            const int rank = int(std::distance(n->children().begin(), n->children().find(key)));
            item->limit = std::max(item->limit, (rank / m_pageSize + 1) * m_pageSize);
            sync(item, false);
            for (const auto &c : item->children) {
                if (!c->loadMore && c->key == key)
                    next = c.get();
            }
        }
        if (!next)
            return nullptr;
        item = next;
    }
    return item;
}

QModelIndex DataTreeModel::loadPath(const QString &text)
{
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return {};
    const Item *item = loadedItemFor(path, true);
    if (!item)
        return {};
    if (!item->loaded && item != m_root.get()) {
        const Node *n = nodeFor(item);
        if (n && n->isObject())
            loadChildren(const_cast<Item *>(item));
    }
    return indexOf(item);
}

QString DataTreeModel::setFilter(
    const QString &text, const QString &childKey, const QString &op, const QString &value, int limit)
{
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return error;
    Item *item = loadedItemFor(path, true);
    if (!item)
        return u"%1 is not in the data"_s.arg(path.toString());
    // The same wire object a client's query sends (docs/wire-protocol.md §9): the filter means what a listen gets.
    QJsonObject q;
    q.insert(u"i"_s, childKey.isEmpty() ? u".key"_s : childKey);
    QString words = childKey.isEmpty() ? u"key"_s : childKey;
    if (!value.isEmpty()) {
        QJsonValue bound;
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson("[" + value.toUtf8() + "]", &pe);
        if (pe.error == QJsonParseError::NoError && doc.array().size() == 1 && !doc.array().at(0).isObject()
            && !doc.array().at(0).isArray())
            bound = doc.array().at(0);
        else
            bound = value;
        if (childKey.isEmpty() && !bound.isString())
            bound = value; // keys are strings
        if (op != u"=="_s && op != u">="_s && op != u"<="_s)
            return u"compare with ==, >= or <="_s;
        if (op != u"<="_s)
            q.insert(u"sp"_s, bound);
        if (op != u">="_s)
            q.insert(u"ep"_s, bound);
        words += u" %1 %2"_s.arg(
            op, QString::fromUtf8(QJsonDocument(QJsonArray {bound}).toJson(QJsonDocument::Compact)).mid(1).chopped(1));
    }
    if (limit < 0)
        return u"a limit is 0 (none) or more"_s;
    if (limit > 0) {
        q.insert(u"l"_s, limit);
        q.insert(u"vf"_s, u"l"_s);
        words += u", first %1"_s.arg(limit);
    }
    auto query = std::make_unique<Query>();
    if (!Query::fromWire(q, query.get(), &error))
        return error;
    if (!item->loaded)
        loadChildren(item);
    item->filter = std::move(query);
    item->filterText = words;
    item->limit = std::max(item->limit, m_pageSize);
    sync(item, false);
    if (item != m_root.get()) {
        const QModelIndex idx = indexOf(item);
        Q_EMIT dataChanged(idx, idx, {FilterRole, MatchedRole});
    }
    return {};
}

DataTreeModel::Item *DataTreeModel::loadedItemAt(const QString &text)
{
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return nullptr;
    return loadedItemFor(path, false);
}

void DataTreeModel::clearFilter(const QString &text)
{
    Item *item = loadedItemAt(text);
    if (!item || !item->filter)
        return;
    item->filter.reset();
    item->filterText.clear();
    item->matched = 0;
    sync(item, false);
    if (item != m_root.get()) {
        const QModelIndex idx = indexOf(item);
        Q_EMIT dataChanged(idx, idx, {FilterRole, MatchedRole});
    }
}

QString DataTreeModel::filterOf(const QString &text)
{
    const Item *item = loadedItemAt(text);
    return item ? item->filterText : QString();
}

QString DataTreeModel::setJson(const QString &text, const QString &json)
{
    Path path;
    QString error;
    if (!Path::parse(text, &path, &error))
        return error;
    if (path.isRoot() || path.front().startsWith(u'.') || path.back().startsWith(u'.'))
        return u"choose a path below the root, without .info or .priority"_s;
    // Accept bare scalars ("42", "true", "\"x\"") as well as objects: wrap before parsing.
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + json.toUtf8() + "]", &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isArray() || doc.array().size() != 1)
        return u"not valid JSON"_s;
    Node value;
    if (!Node::fromJsonAt(doc.array().at(0), path, &value, &error))
        return error;
    return write(path, std::move(value), WriteOrigin::Kind::Admin);
}

QString DataTreeModel::removePath(const QString &text)
{
    Path path;
    QString error;
    if (!Path::parse(text, &path, &error))
        return error;
    if (path.isRoot() || path.front().startsWith(u'.') || path.back().startsWith(u'.'))
        return u"choose a path below the root, without .info or .priority"_s;
    return write(path, Node(), WriteOrigin::Kind::Admin);
}

QString DataTreeModel::write(const Path &path, Node value, WriteOrigin::Kind origin)
{
    if (!m_db)
        return u"no database"_s;
    if (!m_sink) {
        std::vector<Write> writes;
        writes.push_back({Path(), std::move(value)});
        QString error;
        if (!m_db->write(path, std::move(writes), {origin, QString()}, &error))
            return error.isEmpty() ? u"not written"_s : error;
        return {};
    }
    // Recorded before it is sent: the client shows its own writes to its listens at once, so the copy may change
    // inside the sink call.
    const quint64 id = m_nextEdit++;
    m_inFlight.push_back({id, path, describeOrigin({origin, QString()})});
    m_editError.clear();
    Q_EMIT editStatusChanged();
    const QJsonValue json = value.toJson();
    m_sink(path, json, [self = QPointer<DataTreeModel>(this), id, path](const QString &error) {
        if (!self)
            return;
        auto &inFlight = self->m_inFlight;
        inFlight.erase(std::remove_if(inFlight.begin(), inFlight.end(), [id](const InFlight &e) { return e.id == id; }),
            inFlight.end());
        if (!error.isEmpty())
            self->m_editError = u"the server refused the edit of %1: %2"_s.arg(path.toString(), error);
        Q_EMIT self->editStatusChanged();
    });
    return {};
}

} // namespace lark::models
