// SPDX-License-Identifier: MIT
#include "redisbackend.h"

#include "logging.h"
#include "session.h"
#include "storerows.h"

#include <QCryptographicHash>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <memory>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

using redis::RedisReply;

namespace
{

const QByteArray LibraryName = "lark_v1";
const QByteArray NodesKey = "lark:nodes";
const QByteArray EpochKey = "lark:epoch";
const QByteArray NamespacesKey = "lark:nss";

QList<QByteArray> namespaceKeys(const QString &ns)
{
    const QByteArray tag = '{' + ns.toUtf8() + '}';
    return {tag + ":t", tag + ":ix", tag + ":log", tag + ":meta", tag + ":sess", tag + ":dl", tag + ":own", NodesKey,
        NamespacesKey};
}

// Stream IDs are "<ms>-<seq>"; they compare as that pair of numbers, not as text.
std::pair<quint64, quint64> streamId(const QByteArray &id)
{
    const qsizetype dash = id.indexOf('-');
    return {id.left(dash).toULongLong(), id.mid(dash + 1).toULongLong()};
}

bool notAfter(const QByteArray &a, const QByteArray &b)
{
    return streamId(a) <= streamId(b);
}

// A path as the library keys leaves: "users/alice", "" for the root. Keys cannot hold "/", so splitting is exact.
QByteArray pathText(const Path &p)
{
    return p.keys().join(u'/').toUtf8();
}

Path pathFromText(const QString &text)
{
    return text.isEmpty() ? Path() : Path(text.split(u'/'));
}

// A JSON value as text (QJsonDocument takes only arrays and objects).
QByteArray leafJson(const QJsonValue &v)
{
    const QByteArray array = QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

QJsonValue leafFromJson(const QByteArray &text)
{
    return QJsonDocument::fromJson('[' + text + ']').array().at(0);
}

// Appends n's leaves below at (its priority as the pseudo-leaf ".priority") as path, JSON pairs.
void appendLeaves(const Node &n, const QByteArray &at, QList<QByteArray> *out)
{
    const auto below = [&at](const QByteArray &key) { return at.isEmpty() ? key : at + '/' + key; };
    switch (n.type()) {
    case Node::Type::Null:
        return;
    case Node::Type::Bool:
        *out << at << (n.boolValue() ? "true" : "false");
        break;
    case Node::Type::Number:
        *out << at << leafJson(n.number());
        break;
    case Node::Type::String:
        *out << at << leafJson(n.string());
        break;
    case Node::Type::Object:
        for (const auto &[key, child] : n.children())
            appendLeaves(*child, below(key.toUtf8()), out);
        break;
    }
    if (!n.priority().isNull())
        *out << below(".priority") << leafJson(n.priority());
}

// Priorities last, as Database::applyRecorded orders them, so that Redis and every replica apply the same sequence.
std::vector<const Write *> inApplyOrder(const std::vector<Write> &writes)
{
    std::vector<const Write *> order;
    order.reserve(writes.size());
    for (const Write &w : writes)
        order.push_back(&w);
    std::stable_partition(order.begin(), order.end(),
        [](const Write *w) { return w->path.isRoot() || w->path.back() != u".priority"_s; });
    return order;
}

char originCode(WriteOrigin::Kind kind)
{
    switch (kind) {
    case WriteOrigin::Kind::Client:
        return 'c';
    case WriteOrigin::Kind::Admin:
        return 'a';
    case WriteOrigin::Kind::Import:
        return 'i';
    case WriteOrigin::Kind::OnDisconnect:
        return 'o';
    }
    return 'c';
}

WriteOrigin::Kind originKind(const QByteArray &code)
{
    if (code == "a")
        return WriteOrigin::Kind::Admin;
    if (code == "i")
        return WriteOrigin::Kind::Import;
    if (code == "o")
        return WriteOrigin::Kind::OnDisconnect;
    return WriteOrigin::Kind::Client;
}

QString replyText(const RedisReply &r)
{
    return QString::fromUtf8(r.string);
}

// The fire plan's values: arrays become objects keyed "0", "1", ..., as the tree stores them, so that Lua (whose
// JSON decoder cannot tell an empty object from an empty array) handles only objects.
QJsonValue arraysAsObjects(const QJsonValue &v)
{
    if (v.isArray()) {
        QJsonObject o;
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i)
            o.insert(QString::number(i), arraysAsObjects(a.at(i)));
        return o;
    }
    if (v.isObject()) {
        QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            *it = arraysAsObjects(*it);
        return o;
    }
    return v;
}

// What Lua fires: [[path, value as sent], ...] in queue order.
QByteArray firePlan(const OnDisconnectQueue &queue)
{
    QJsonArray plan;
    for (const OnDisconnectQueue::Op &op : queue.ops())
        plan.append(QJsonArray {QString::fromUtf8(pathText(op.path)), arraysAsObjects(op.value)});
    return QJsonDocument(plan).toJson(QJsonDocument::Compact);
}

// What a node needs to resume the session (identity, ops as the queue keeps them); opaque to Lua.
QByteArray keptSession(const Session &s)
{
    QJsonObject o {{u"identity"_s, storerows::identityJson(s.identity())}, {u"createdAt"_s, double(s.createdAt)},
        {u"ops"_s, QJsonDocument::fromJson(storerows::opsJson(s.queue().ops())).array()}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Backend::SharedSession sharedFromKept(const QByteArray &kept)
{
    Backend::SharedSession out;
    out.found = true;
    const QJsonObject o = QJsonDocument::fromJson(kept).object();
    out.identity = storerows::identityFromJson(o.value(u"identity"_s).toObject());
    out.createdAt = qint64(o.value(u"createdAt"_s).toDouble());
    for (const QJsonValue &v : o.value(u"ops"_s).toArray()) {
        const QJsonObject op = v.toObject();
        out.ops.push_back({storerows::pathFromText(op.value(u"path"_s).toString()), op.value(u"value"_s),
            storerows::kindFromName(op.value(u"kind"_s).toString()), qint64(op.value(u"registeredAt"_s).toDouble())});
    }
    return out;
}

} // namespace

RedisBackend::RedisBackend(Options options, QObject *parent)
    : Backend(parent)
    , m_options(std::move(options))
    , m_commands(m_options.url)
    , m_tail(m_options.url)
{
    m_clock.start();
    m_commands.setCommandTimeout(m_options.commandTimeoutMs);
    // The tail's XREAD blocks for up to a second by design.
    m_tail.setCommandTimeout(m_options.commandTimeoutMs + 1000);
    connect(&m_tail, &redis::RedisConnection::readyChanged, this, &RedisBackend::onTailReady);
    connect(&m_commands, &redis::RedisConnection::readyChanged, this, [this](bool ready) {
        if (ready == m_available)
            return;
        m_available = ready;
        qCWarning(lcServer).noquote() << "Redis at" << m_options.url.toString()
                                      << (ready ? u"is reachable again"_s
                                                : u"is unreachable: "_s + m_commands.lastError());
        Q_EMIT availabilityChanged(ready);
        Q_EMIT describeChanged();
        if (ready)
            heartbeat();
    });
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(0);
    connect(&m_flushTimer, &QTimer::timeout, this, &RedisBackend::flushWrites);
    m_heartbeatTimer.setInterval(std::max(20, m_options.leaseMs / 3));
    connect(&m_heartbeatTimer, &QTimer::timeout, this, &RedisBackend::heartbeat);
    m_leaseTimer.setInterval(std::max(10, m_options.leaseMs / 10));
    connect(&m_leaseTimer, &QTimer::timeout, this, &RedisBackend::checkLease);
    m_sweepTimer.setInterval(std::max(1, m_options.sweepMs));
    connect(&m_sweepTimer, &QTimer::timeout, this, &RedisBackend::sweep);
    m_reapTimer.setInterval(std::max(1, m_options.reapMs));
    connect(&m_reapTimer, &QTimer::timeout, this, &RedisBackend::reap);
}

RedisBackend::~RedisBackend()
{
    for (Replica &r : m_replicas) {
        if (r.db && r.db->journal() == this)
            r.db->setJournal(nullptr);
    }
}

QByteArray RedisBackend::functionLibrary()
{
    QFile f(u":/lark/redis/lark_v1.lua"_s);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

bool RedisBackend::start(const DatabaseFor &database, Loaded *, QString *error)
{
    const QString where = m_options.url.toString();
    const auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (!m_blocking.connect(m_options.url, m_options.commandTimeoutMs, error))
        return false;
    const RedisReply config = m_blocking.command({"CONFIG", "GET", "*"});
    if (config.isError())
        return fail(u"cannot read the configuration of %1: %2"_s.arg(where, replyText(config)));
    const QStringList problems = redis::durabilityProblems(config);
    for (const QString &p : problems) {
        if (!m_options.unsafe)
            return fail(u"Redis at %1 does not keep what Lark acknowledges: %2 (configure it as docs/cluster.md says, "
                        "or start with --redis-unsafe to run anyway)"_s.arg(where, p));
        qCWarning(lcServer).noquote() << "--redis-unsafe: running although" << p;
    }

    // The library: missing → load it; ours → use it; another version, or another build's code under our name →
    // refuse (never replace one that other nodes use).
    const QByteArray code = functionLibrary();
    if (code.isEmpty())
        return fail(u"the function library is missing from this build"_s);
    const RedisReply listed = m_blocking.command({"FUNCTION", "LIST", "LIBRARYNAME", "lark_*", "WITHCODE"});
    if (listed.isError())
        return fail(u"cannot list the functions of %1: %2 (Redis 7 is needed)"_s.arg(where, replyText(listed)));
    bool ours = false;
    for (const RedisReply &lib : listed.elements) {
        for (size_t i = 0; i + 1 < lib.elements.size(); i += 2) {
            if (lib.elements[i].string != "library_name")
                continue;
            const QByteArray name = lib.elements[i + 1].string;
            if (name == LibraryName) {
                ours = true;
                for (size_t k = 0; k + 1 < lib.elements.size(); k += 2) {
                    if (lib.elements[k].string == "library_code" && lib.elements[k + 1].string != code)
                        return fail(u"%1 holds another build's %2 function library (its code differs from this "
                                    "lark-server's): run the build that loaded it, or stop every node and FUNCTION "
                                    "DELETE %2"_s.arg(where, QString::fromUtf8(LibraryName)));
                }
            } else if (name.startsWith("lark_")) {
                return fail(
                    u"%1 holds the function library %2, which this lark-server (%3) does not know: run the "
                    "version that loaded it"_s.arg(where, QString::fromUtf8(name), QString::fromUtf8(LibraryName)));
            }
        }
    }
    if (!ours) {
        const RedisReply loaded = m_blocking.command({"FUNCTION", "LOAD", code});
        // Another node may have loaded it meanwhile.
        if (loaded.isError() && !loaded.string.contains("already exists"))
            return fail(u"cannot load the function library into %1: %2"_s.arg(where, replyText(loaded)));
    }

    const RedisReply reg = m_blocking.command({"FCALL", "lark_node_heartbeat", "2", NodesKey, EpochKey,
        m_options.nodeName.toUtf8(), "0", QByteArray::number(m_options.leaseMs)});
    if (reg.isError() || reg.elements.size() != 2)
        return fail(u"cannot register node %1 with %2: %3"_s.arg(m_options.nodeName, where, replyText(reg)));
    m_epoch = reg.elements[0].integer;
    m_leaseValidUntil = m_clock.elapsed() + m_options.leaseMs;

    const RedisReply namespaces = m_blocking.command({"SMEMBERS", NamespacesKey});
    if (namespaces.isError())
        return fail(u"cannot list the namespaces in %1: %2"_s.arg(where, replyText(namespaces)));
    for (const RedisReply &ns : namespaces.elements) {
        Database *db = database(QString::fromUtf8(ns.string));
        if (!db)
            continue;
        Replica &r = replica(db);
        if (!loadReplica(r, error))
            return false;
    }
    qCInfo(lcServer).noquote() << "node" << lease() << "on Redis at" << where << "with" << m_replicas.size()
                               << "namespaces";
    m_commands.open();
    m_tail.open();
    // No client is here yet: wait for both connections, so that the first write is not refused as "not connected".
    QEventLoop wait;
    QTimer deadline;
    deadline.setSingleShot(true);
    connect(&deadline, &QTimer::timeout, &wait, &QEventLoop::quit);
    const auto quitWhenReady = [&] {
        if (m_commands.isReady() && m_tail.isReady())
            wait.quit();
    };
    connect(&m_commands, &redis::RedisConnection::readyChanged, &wait, quitWhenReady);
    connect(&m_tail, &redis::RedisConnection::readyChanged, &wait, quitWhenReady);
    deadline.start(m_options.commandTimeoutMs);
    if (!m_commands.isReady() || !m_tail.isReady())
        wait.exec();
    if (!m_commands.isReady())
        return fail(u"cannot connect to Redis at %1: %2"_s.arg(where, m_commands.lastError()));
    for (const RedisReply &ns : namespaces.elements)
        m_allNamespaces << QString::fromUtf8(ns.string);
    m_heartbeatTimer.start();
    m_leaseTimer.start();
    m_sweepTimer.start();
    m_reapTimer.start();
    return true;
}

RedisBackend::Replica &RedisBackend::replica(Database *db)
{
    auto it = m_replicas.find(db->name());
    if (it == m_replicas.end()) {
        it = m_replicas.insert(db->name(), Replica {});
        it->db = db;
        it->keys = namespaceKeys(db->name());
    }
    return *it;
}

void RedisBackend::attach(Database *db)
{
    db->setJournal(this);
    if (m_replicas.contains(db->name()))
        return;
    Replica &r = replica(db);
    // Before the namespace's first client reads it: a listener must not see an empty tree that is not empty.
    QString why;
    if (!loadReplica(r, &why))
        qCWarning(lcServer).noquote() << "namespace" << db->name() << "could not be read from Redis yet:" << why
                                      << "(it is read again when its change stream shows a gap)";
    if (m_tailInFlight && !m_tailClientId.isEmpty()) {
        // Wake the blocked XREAD so that the next one follows this namespace too.
        m_tailRestart = true;
        m_commands.command({"CLIENT", "UNBLOCK", m_tailClientId}, this, [](const RedisReply &) {});
    } else {
        readTail();
    }
}

bool RedisBackend::loadReplica(Replica &r, QString *error)
{
    if (!m_blocking.isConnected() && !m_blocking.connect(m_options.url, m_options.commandTimeoutMs, error))
        return false;
    QList<QByteArray> argv {"FCALL_RO", "lark_read", "9"};
    argv << r.keys;
    const RedisReply reply = m_blocking.command(argv);
    if (reply.isError() || reply.elements.size() < 2) {
        if (error)
            *error = replyText(reply);
        return false;
    }
    std::vector<Write> leaves;
    leaves.reserve(reply.elements.size() / 2);
    for (size_t i = 2; i + 1 < reply.elements.size(); i += 2) {
        Node leaf;
        QString why;
        if (!Node::fromJson(leafFromJson(reply.elements[i + 1].string), &leaf, &why))
            continue; // not written by this library
        leaves.push_back({pathFromText(QString::fromUtf8(reply.elements[i].string)), std::move(leaf)});
    }
    Node tree;
    for (const Write *w : inApplyOrder(leaves))
        tree.set(w->path, w->value.clone());
    const bool first = r.seq == 0 && r.lastId == "0-0" && r.db->root().isNull();
    r.seq = reply.elements[0].integer;
    r.lastId = reply.elements[1].string;
    std::vector<Write> whole;
    whole.push_back({Path(), std::move(tree)});
    if (first)
        r.db->load(Path(), std::move(whole));
    else
        r.db->applyRecorded(Path(), std::move(whole), {WriteOrigin::Kind::Import, QString()});
    settle(r);
    return true;
}

bool RedisBackend::record(
    const Database &db, const Path &base, const std::vector<Write> &writes, const WriteOrigin &origin, QString *error)
{
    const auto refuse = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (!m_commands.isReady())
        return refuse(u"storage unavailable: not connected to Redis at %1"_s.arg(m_options.url.toString()));
    if (!holdsLease())
        return refuse(u"storage unavailable: this node lost its lease in Redis and is registering again"_s);
    auto it = m_replicas.find(db.name());
    if (it == m_replicas.end())
        return refuse(u"storage unavailable: namespace %1 is not attached"_s.arg(db.name()));
    Replica &r = *it;

    QList<QByteArray> sets;
    int count = 0;
    for (const Write *w : inApplyOrder(writes)) {
        const Path abs = base.child(w->path);
        const QByteArray at = pathText(abs);
        if (!w->unresolved.isUndefined()) {
            // Its ServerValues are resolved in Redis, against the shared tree (k = -1).
            sets << at << leafJson(arraysAsObjects(w->unresolved)) << "-1";
            ++count;
            continue;
        }
        QList<QByteArray> leaves;
        if (!abs.isRoot() && abs.back() == u".priority"_s) {
            if (w->value.type() == Node::Type::Number || w->value.type() == Node::Type::String)
                leaves << at << leafJson(w->value.toJson());
        } else {
            appendLeaves(w->value, at, &leaves);
        }
        sets << at << leafJson(w->value.toJson()) << QByteArray::number(leaves.size() / 2) << leaves;
        ++count;
    }
    QList<QByteArray> group {
        QByteArray(1, originCode(origin.kind)), origin.session.toUtf8(), QByteArray::number(count)};
    group << sets;

    const quint64 batch = m_nextBatch++;
    m_writes.push_back({batch, db.name(), {}, PendingWrite::State::Sent, true, {}});
    ++m_records;
    if (origin.conditional) {
        // A transaction is checked against this node's copy and goes alone, after what this node sent before.
        flushWrites();
        OpenCall call;
        call.groups = std::move(group);
        call.batches.push_back(batch);
        sendWrites(db.name(), r.lastId, std::move(call));
        return true;
    }
    // The round's writes go in one call: Redis pays its fixed cost, and its read of this connection, once.
    OpenCall &call = m_open[db.name()];
    for (const QByteArray &a : std::as_const(group))
        call.bytes += a.size();
    call.groups << group;
    call.batches.push_back(batch);
    // Bounded, so that one call holds Redis for a millisecond or two, not for a whole burst.
    constexpr size_t MaxGroups = 20;
    constexpr qsizetype MaxBytes = 1 << 20;
    if (call.batches.size() >= MaxGroups || call.bytes >= MaxBytes)
        sendWrites(db.name(), QByteArray(), m_open.take(db.name()));
    else if (!m_flushTimer.isActive())
        m_flushTimer.start();
    return true;
}

void RedisBackend::flushWrites()
{
    m_flushTimer.stop();
    // Taken first: a reply given at once (a context going away) may lead to new writes, which open new calls.
    QHash<QString, OpenCall> open = std::exchange(m_open, {});
    for (auto it = open.begin(); it != open.end(); ++it)
        sendWrites(it.key(), QByteArray(), std::move(it.value()));
}

void RedisBackend::sendWrites(const QString &ns, const QByteArray &since, OpenCall call)
{
    QList<QByteArray> argv {"FCALL", "lark_write", "9"};
    argv << namespaceKeys(ns) << m_options.nodeName.toUtf8() << QByteArray::number(m_epoch) << since
         << QByteArray::number(call.batches.size()) << call.groups;
    const qint64 epoch = m_epoch;
    m_commands.command(argv, this, [this, ns, epoch, batches = std::move(call.batches)](const RedisReply &reply) {
        // [seq, result per group]; anything else refuses the whole call.
        const bool whole = reply.isError() || reply.elements.size() != batches.size() + 1;
        QString wholeError;
        if (reply.isError() && reply.string.startsWith("UNAVAILABLE")) {
            wholeError = u"storage unavailable: %1"_s.arg(replyText(reply).mid(12));
        } else if (reply.isError() && !reply.string.startsWith("DATASTALE")) {
            wholeError = u"Redis refused the write: %1"_s.arg(replyText(reply));
            if (reply.string.startsWith("FENCED") && epoch == m_epoch) {
                m_leaseValidUntil = 0;
                QTimer::singleShot(0, this, &RedisBackend::checkLease); // registers again
            }
        } else if (whole && !reply.isError()) {
            wholeError = u"Redis answered the write unexpectedly"_s;
        }
        bool applying = false;
        for (size_t i = 0; i < batches.size(); ++i) {
            const quint64 batch = batches[i];
            auto w = std::find_if(
                m_writes.begin(), m_writes.end(), [batch](const PendingWrite &p) { return p.batch == batch; });
            if (w == m_writes.end())
                continue;
            const QByteArray result = whole ? QByteArray() : reply.elements[i + 1].string;
            if (whole || result.startsWith('!')) {
                w->state = PendingWrite::State::Done;
                w->ok = false;
                if (!whole)
                    w->error = u"Redis refused the write: %1"_s.arg(QString::fromUtf8(result.mid(1)));
                else if (reply.string.startsWith("DATASTALE"))
                    w->error = Backend::DataStaleError;
                else
                    w->error = wholeError;
                continue;
            }
            w->id = result;
            w->state = PendingWrite::State::Applying;
            applying = true;
        }
        if (applying) {
            auto r = m_replicas.find(ns);
            if (r != m_replicas.end())
                settle(*r);
        }
        finishWrites();
    });
}

bool RedisBackend::endSession(
    const Database &db, const std::vector<Write> &writes, const QString &, const WriteOrigin &origin, QString *error)
{
    if (writes.empty())
        return true;
    return record(db, Path(), writes, origin, error);
}

// A write is done once this node's copy has applied it: its listeners, the writer's own, had their push.
void RedisBackend::settle(Replica &r)
{
    for (PendingWrite &w : m_writes) {
        if (w.state == PendingWrite::State::Applying && w.ns == r.db->name() && notAfter(w.id, r.lastId))
            w.state = PendingWrite::State::Done;
    }
}

void RedisBackend::finishWrites()
{
    while (!m_writes.empty() && m_writes.front().state == PendingWrite::State::Done) {
        const PendingWrite w = std::move(m_writes.front());
        m_writes.pop_front();
        Q_EMIT committed(w.batch, w.ok, w.error);
    }
}

void RedisBackend::onTailReady(bool ready)
{
    if (!ready) {
        m_tailClientId.clear();
        return;
    }
    m_tail.command({"CLIENT", "ID"}, this, [this](const RedisReply &r) {
        if (!r.isError())
            m_tailClientId = QByteArray::number(r.integer);
        readTail();
    });
}

void RedisBackend::readTail()
{
    if (m_tailInFlight || !m_tail.isReady() || m_replicas.isEmpty())
        return;
    QList<QByteArray> argv {"XREAD", "COUNT", "1000", "BLOCK", "1000", "STREAMS"};
    QList<QByteArray> ids;
    for (const Replica &r : std::as_const(m_replicas)) {
        argv << r.keys[2];
        ids << r.lastId;
    }
    argv << ids;
    m_tailInFlight = true;
    m_tail.command(argv, this, [this](const RedisReply &reply) {
        m_tailInFlight = false;
        m_tailRestart = false;
        if (reply.isError()) {
            // Lost connection: the tail starts again from every namespace's last ID once it is back.
            if (!reply.string.startsWith("UNAVAILABLE"))
                qCWarning(lcServer).noquote() << "reading the change streams failed:" << replyText(reply);
            if (m_tail.isReady())
                QTimer::singleShot(100, this, &RedisBackend::readTail);
            return;
        }
        for (const RedisReply &stream : reply.elements) {
            if (stream.elements.size() != 2)
                continue;
            const QByteArray &key = stream.elements[0].string; // "{ns}:log"
            auto r = m_replicas.find(QString::fromUtf8(key.mid(1, key.size() - 6)));
            if (r == m_replicas.end())
                continue;
            for (const RedisReply &entry : stream.elements[1].elements)
                applyEntry(*r, entry);
            settle(*r);
        }
        finishWrites();
        readTail();
    });
}

void RedisBackend::applyEntry(Replica &r, const RedisReply &entry)
{
    if (entry.elements.size() != 2)
        return;
    const QByteArray &id = entry.elements[0].string;
    if (notAfter(id, r.lastId))
        return; // already in the copy (read again after a gap)
    QHash<QByteArray, QByteArray> fields;
    const std::vector<RedisReply> &f = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < f.size(); i += 2)
        fields.insert(f[i].string, f[i + 1].string);
    const qint64 seq = fields.value("q").toLongLong();
    if (seq != r.seq + 1) {
        // Trimmed past this node, or Redis came back with an older file: read the whole namespace again.
        qCWarning(lcServer).noquote() << "namespace" << r.db->name() << "change stream jumped from" << r.seq << "to"
                                      << seq << ": reading it again";
        QString why;
        if (!loadReplica(r, &why))
            qCWarning(lcServer).noquote() << "reading namespace" << r.db->name() << "again failed:" << why;
        return;
    }
    std::vector<Write> writes;
    const QJsonArray sets = QJsonDocument::fromJson(fields.value("d")).array();
    for (const QJsonValue &set : sets) {
        const QJsonArray pair = set.toArray();
        Node value;
        QString why;
        if (pair.size() != 2 || !Node::fromJson(pair.at(1), &value, &why)) {
            qCWarning(lcServer).noquote() << "namespace" << r.db->name() << "entry" << id << "has a bad set:" << why;
            continue;
        }
        writes.push_back({pathFromText(pair.at(0).toString()), std::move(value)});
    }
    r.seq = seq;
    r.lastId = id;
    if (fields.value("k") == "r" && fields.value("own") == lease().toUtf8()) {
        // Resumed on another node while live here: that node has it now.
        const QString moved = m_sessionKeys.take(fields.value("sk"));
        if (!moved.isEmpty())
            Q_EMIT sessionMoved(moved);
    }
    if (!writes.empty())
        r.db->applyRecorded(
            Path(), std::move(writes), {originKind(fields.value("o")), QString::fromUtf8(fields.value("h"))});
}

bool RedisBackend::holdsLease() const
{
    return m_epoch != 0 && m_clock.elapsed() < m_leaseValidUntil;
}

QString RedisBackend::lease() const
{
    return m_epoch == 0 ? QString() : u"%1#%2"_s.arg(m_options.nodeName).arg(m_epoch);
}

QByteArray RedisBackend::version(const QString &ns) const
{
    const auto it = m_replicas.constFind(ns);
    return it == m_replicas.cend() ? QByteArray("0-0") : it->lastId;
}

void RedisBackend::heartbeat()
{
    if (m_heartbeatInFlight || !m_commands.isReady())
        return;
    m_heartbeatInFlight = true;
    const qint64 sentAt = m_clock.elapsed();
    const qint64 epoch = m_epoch;
    m_commands.command({"FCALL", "lark_node_heartbeat", "2", NodesKey, EpochKey, m_options.nodeName.toUtf8(),
                           QByteArray::number(epoch), QByteArray::number(m_options.leaseMs)},
        this, [this, sentAt, epoch](const RedisReply &reply) {
            m_heartbeatInFlight = false;
            if (epoch != m_epoch)
                return; // an answer for a lease this node no longer holds
            if (reply.isError()) {
                if (reply.string.startsWith("FENCED"))
                    m_leaseValidUntil = 0;
                else
                    qCInfo(lcServer).noquote() << "lease renewal failed:" << replyText(reply);
                checkLease();
                return;
            }
            if (reply.elements.size() == 2) {
                if (epoch == 0) {
                    m_epoch = reply.elements[0].integer;
                    qCWarning(lcServer).noquote() << "registered again as" << lease();
                }
                // Redis set the expiry when it got the call, no earlier than it was sent.
                m_leaseValidUntil = sentAt + m_options.leaseMs;
                readNodes();
            }
        });
}

// For the dashboard: every lease Redis holds, with how long it has left (Redis's clock).
void RedisBackend::readNodes()
{
    m_commands.command({"FCALL_RO", "lark_nodes", "1", NodesKey}, this, [this](const RedisReply &r) {
        if (r.isError() || r.elements.empty())
            return;
        const qint64 now = r.elements[0].integer;
        QJsonArray nodes;
        QStringList shape; // what a change is: leases and whether each is alive, not the countdown
        for (size_t i = 1; i + 1 < r.elements.size(); i += 2) {
            const QString lease = QString::fromUtf8(r.elements[i].string);
            const qint64 left = r.elements[i + 1].string.toLongLong() - now;
            nodes.append(QJsonObject {{u"lease"_s, lease}, {u"node"_s, lease.section(u'#', 0, -2)},
                {u"expiresInMs"_s, double(std::max<qint64>(0, left))}, {u"alive"_s, left > 0},
                {u"self"_s, lease == this->lease()}});
            shape << lease + (left > 0 ? u"+"_s : u"-"_s);
        }
        QStringList before;
        for (const QJsonValue &n : std::as_const(m_nodes))
            before << n[u"lease"_s].toString() + (n[u"alive"_s].toBool() ? u"+"_s : u"-"_s);
        m_nodes = nodes;
        if (before != shape)
            Q_EMIT describeChanged();
        readSessions();
    });
}

// For the dashboard: every namespace's sessions by the node they are on (the live ones) or their fire-at.
void RedisBackend::readSessions()
{
    if (m_readingSessions > 0)
        return;
    auto sessions = std::make_shared<QJsonArray>();
    for (auto it = m_replicas.cbegin(); it != m_replicas.cend(); ++it) {
        ++m_readingSessions;
        QList<QByteArray> argv {"FCALL_RO", "lark_sessions", "9"};
        // At most 200 live and 200 suspended: a list to read, and a call of about a millisecond on every renewal.
        argv << it->keys << "200";
        m_commands.command(argv, this, [this, sessions, ns = it.key()](const RedisReply &r) {
            if (!r.isError() && !r.elements.empty()) {
                const qint64 now = r.elements[0].integer;
                for (size_t i = 1; i + 3 < r.elements.size(); i += 4) {
                    const QString lease = QString::fromUtf8(r.elements[i].string);
                    const bool live = r.elements[i + 2].string == "live";
                    QJsonObject s {{u"ns"_s, ns}, {u"handle"_s, QString::fromUtf8(r.elements[i + 1].string)},
                        {u"state"_s, live ? u"live"_s : u"suspended"_s}};
                    if (live)
                        s.insert(u"node"_s, lease.section(u'#', 0, -2));
                    else
                        s.insert(
                            u"firesInMs"_s, double(std::max<qint64>(0, r.elements[i + 3].string.toLongLong() - now)));
                    sessions->append(s);
                }
            }
            if (--m_readingSessions > 0)
                return;
            // A change is a session coming, going, moving or being suspended, not a countdown.
            const auto shape = [](const QJsonArray &list) {
                QStringList out;
                for (const QJsonValue &v : list)
                    out << v[u"ns"_s].toString() + u'/' + v[u"handle"_s].toString() + u'@' + v[u"node"_s].toString();
                out.sort();
                return out;
            };
            const bool changed = shape(*sessions) != shape(m_clusterSessions);
            m_clusterSessions = *sessions;
            if (changed)
                Q_EMIT describeChanged();
        });
    }
}

void RedisBackend::checkLease()
{
    if (m_epoch == 0 || m_clock.elapsed() < m_leaseValidUntil)
        return;
    // Paused or cut off for longer than the lease: other nodes may already treat this one as dead.
    qCWarning(lcServer).noquote() << "node" << lease() << "lost its lease in Redis; registering again";
    m_epoch = 0;
    Q_EMIT fenced();
    heartbeat();
}

void RedisBackend::stop()
{
    m_heartbeatTimer.stop();
    m_leaseTimer.stop();
    m_sweepTimer.stop();
    m_reapTimer.stop();
    flushWrites();
    if (!holdsLease())
        return;
    // Leaving: the lease ends now, so the other nodes take this node's sessions over at their next reap (its
    // clients, closed with 1001, resume there; the others fire after the grace) instead of after dead-after.
    const QList<QByteArray> leave {"FCALL", "lark_node_heartbeat", "2", NodesKey, EpochKey, m_options.nodeName.toUtf8(),
        QByteArray::number(m_epoch), "1"};
    RedisReply r = m_blocking.command(leave);
    QString why;
    // The blocking connection may have died with a Redis restart since start(): once more on a fresh one.
    if (r.isError() && r.string.startsWith("UNAVAILABLE") && m_blocking.connect(m_options.url, 1000, &why))
        r = m_blocking.command(leave);
    if (r.isError())
        qCWarning(lcServer).noquote() << "could not give up the lease" << lease() << ":" << replyText(r);
    m_epoch = 0;
}

QByteArray RedisBackend::sessionKey(const QString &id)
{
    return QCryptographicHash::hash(id.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
}

void RedisBackend::sessionCall(const QString &ns, const QByteArray &function, const QList<QByteArray> &args,
    std::function<void(const RedisReply &)> done)
{
    if (!holdsLease()) {
        done(RedisReply::error("UNAVAILABLE this node holds no lease"));
        return;
    }
    flushWrites(); // a session's call follows the writes this node took before it
    QList<QByteArray> argv {"FCALL", function, "9"};
    argv << namespaceKeys(ns) << m_options.nodeName.toUtf8() << QByteArray::number(m_epoch) << args;
    m_commands.command(argv, this, std::move(done));
}

void RedisBackend::openSession(const Session &s)
{
    const QByteArray key = sessionKey(s.id());
    m_sessionKeys.insert(key, s.id());
    sessionCall(s.database()->name(), "lark_session_open", {s.id().toUtf8(), key, s.handle().toUtf8(), keptSession(s)},
        [handle = s.handle()](const RedisReply &r) {
            if (r.isError())
                qCWarning(lcSession).noquote() << handle << "could not be kept in Redis:" << replyText(r);
        });
}

bool RedisBackend::saveSession(const Session &s, QString *error)
{
    if (!m_commands.isReady() || !holdsLease()) {
        if (error)
            *error = u"storage unavailable: %1"_s.arg(
                m_commands.isReady() ? u"this node holds no lease"_s : u"not connected to Redis"_s);
        return false;
    }
    const quint64 batch = m_nextBatch++;
    m_writes.push_back({batch, s.database()->name(), {}, PendingWrite::State::Sent, true, {}});
    ++m_records;
    sessionCall(s.database()->name(), "lark_session_save", {s.id().toUtf8(), firePlan(s.queue()), keptSession(s)},
        [this, batch, id = s.id()](const RedisReply &reply) {
            auto w = std::find_if(
                m_writes.begin(), m_writes.end(), [batch](const PendingWrite &p) { return p.batch == batch; });
            if (w == m_writes.end())
                return;
            w->state = PendingWrite::State::Done;
            if (reply.isError()) {
                w->ok = false;
                w->error = reply.string.startsWith("UNAVAILABLE")
                    ? u"storage unavailable: %1"_s.arg(replyText(reply).mid(12))
                    : u"Redis refused the session's ops: %1"_s.arg(replyText(reply));
                if (reply.string.startsWith("NOT_OWNER") || reply.string.startsWith("NO_SESSION"))
                    Q_EMIT sessionMoved(id);
            }
            finishWrites();
        });
    return true;
}

void RedisBackend::resumeSession(const QString &ns, const QString &id, std::function<void(bool, SharedSession)> done)
{
    sessionCall(ns, "lark_session_resume", {id.toUtf8()}, [this, id, done = std::move(done)](const RedisReply &r) {
        if (r.isError()) {
            qCWarning(lcSession).noquote() << "resuming a session failed:" << replyText(r);
            done(false, {});
            return;
        }
        if (r.elements.size() == 3 && r.elements[0].string == "resumed") {
            m_sessionKeys.insert(sessionKey(id), id);
            done(true, sharedFromKept(r.elements[2].string));
            return;
        }
        done(true, {});
    });
}

void RedisBackend::suspendSession(const Session &s, int graceMs)
{
    m_sessionKeys.remove(sessionKey(s.id()));
    sessionCall(s.database()->name(), "lark_session_suspend", {s.id().toUtf8(), QByteArray::number(graceMs)},
        [handle = s.handle()](const RedisReply &r) {
            // NOT_OWNER: resumed elsewhere meanwhile, which is theirs to end. Unreachable: its clients reconnect
            // and resume, or the session is taken over when this node's lease runs out.
            if (r.isError())
                qCInfo(lcSession).noquote() << handle << "suspend in Redis:" << replyText(r);
        });
}

void RedisBackend::sweep()
{
    if (!m_commands.isReady() || !holdsLease())
        return;
    if (m_sweepRounds++ % 20 == 0) {
        m_commands.command({"SMEMBERS", NamespacesKey}, this, [this](const RedisReply &r) {
            if (r.isError())
                return;
            m_allNamespaces.clear();
            for (const RedisReply &ns : r.elements)
                m_allNamespaces << QString::fromUtf8(ns.string);
        });
    }
    for (const QString &ns : std::as_const(m_allNamespaces))
        sweepNamespace(ns);
}

// Fire in batches: one call fires at most 100 sessions and stops after about 2 ms of work (BUDGET_US in
// lark_v1.lua), so that firing thousands never holds Redis for long; the next call follows at once.
void RedisBackend::sweepNamespace(const QString &ns)
{
    if (m_sweeping.contains(ns))
        return;
    m_sweeping.insert(ns);
    sessionCall(ns, "lark_fire_due", {"100"}, [this, ns](const RedisReply &r) {
        m_sweeping.remove(ns);
        if (r.isError()) {
            if (!r.string.startsWith("UNAVAILABLE") && !r.string.startsWith("FENCED"))
                qCWarning(lcSession).noquote() << "firing due sessions of" << ns << "failed:" << replyText(r);
            return;
        }
        if (r.elements.size() == 2 && r.elements[1].integer > 0)
            sweepNamespace(ns);
    });
}

void RedisBackend::reap()
{
    if (m_reaping || !m_commands.isReady() || !holdsLease())
        return;
    m_reaping = true;
    m_commands.command(
        {"FCALL", "lark_expired", "2", NodesKey, EpochKey, m_options.nodeName.toUtf8(), QByteArray::number(m_epoch)},
        this, [this](const RedisReply &r) {
            m_reaping = false;
            if (r.isError())
                return;
            for (const RedisReply &dead : r.elements) {
                const QString lease = QString::fromUtf8(dead.string);
                if (m_takingOver.contains(lease) || m_allNamespaces.isEmpty())
                    continue;
                qCInfo(lcSession).noquote() << "node" << lease << "is dead: taking its sessions over";
                m_takingOver.insert(lease, int(m_allNamespaces.size()));
                for (const QString &ns : std::as_const(m_allNamespaces))
                    takeOver(lease, ns);
            }
        });
}

// Idempotent, so every node may race on it. The lease is forgotten only once every namespace has none of its
// sessions left; until then it stays listed and the next reap goes on.
void RedisBackend::takeOver(const QString &dead, const QString &ns)
{
    sessionCall(ns, "lark_take_over", {dead.toUtf8(), QByteArray::number(m_options.graceMs), "500"},
        [this, dead, ns](const RedisReply &r) {
            if (!r.isError() && r.elements.size() == 2 && r.elements[1].integer > 0)
                return takeOver(dead, ns);
            const bool done = !r.isError() || r.string.startsWith("NOT_DEAD");
            auto it = m_takingOver.find(dead);
            if (it == m_takingOver.end())
                return;
            if (!done)
                it.value() = -1'000'000; // failed somewhere: keep the lease listed, try again on a later reap
            if (--it.value() > 0)
                return;
            const bool forget = it.value() == 0;
            m_takingOver.erase(it);
            if (forget)
                m_commands.command({"FCALL", "lark_forget_node", "2", NodesKey, EpochKey, m_options.nodeName.toUtf8(),
                                       QByteArray::number(m_epoch), dead.toUtf8()},
                    this, [](const RedisReply &) {});
        });
}

QJsonObject RedisBackend::describe() const
{
    QJsonObject o {{u"persistent"_s, true}, {u"kind"_s, u"redis"_s}, {u"redis"_s, m_options.url.toString()},
        {u"node"_s, m_options.nodeName}, {u"lease"_s, lease()}, {u"available"_s, m_available}};
    if (!m_available)
        o.insert(u"failure"_s, u"Redis is unreachable: %1"_s.arg(m_commands.lastError()));
    o.insert(u"nodes"_s, m_nodes);
    o.insert(u"sessions"_s, m_clusterSessions);
    return o;
}

} // namespace lark
