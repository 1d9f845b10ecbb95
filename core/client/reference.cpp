// SPDX-License-Identifier: MIT
#include "reference.h"

#include "database.h"
#include "db/pushid.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

QJsonValue ServerValue::timestamp()
{
    return QJsonObject {{u".sv"_s, u"timestamp"_s}};
}

QJsonValue ServerValue::increment(double delta)
{
    return QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, delta}}}};
}

Query Query::with(const QJsonObject &changes) const
{
    QJsonObject q = m_q;
    for (auto it = changes.constBegin(); it != changes.constEnd(); ++it)
        q.insert(it.key(), it.value());
    return Query(m_db, m_path, q);
}

bool Query::isKeyIndex() const
{
    return m_q.value(u"i"_s) == u".key"_s;
}

Query Query::orderByChild(const QString &childPath) const
{
    return with({{u"i"_s, childPath}});
}

Query Query::orderByKey() const
{
    return with({{u"i"_s, u".key"_s}});
}

Query Query::orderByValue() const
{
    return with({{u"i"_s, u".value"_s}});
}

Query Query::orderByPriority() const
{
    QJsonObject q = m_q;
    q.remove(u"i"_s); // the default index
    return Query(m_db, m_path, q);
}

Query Query::startAt(const QJsonValue &value, const QString &key) const
{
    QJsonObject c {{u"sp"_s, value}, {u"sin"_s, true}};
    if (!key.isEmpty())
        c.insert(u"sn"_s, key);
    return with(c);
}

Query Query::startAfter(const QJsonValue &value, const QString &key) const
{
    QJsonObject c {{u"sp"_s, value}, {u"sin"_s, false}};
    if (!isKeyIndex())
        c.insert(u"sn"_s, key.isEmpty() ? u"[MAX_NAME]"_s : key);
    return with(c);
}

Query Query::endAt(const QJsonValue &value, const QString &key) const
{
    QJsonObject c {{u"ep"_s, value}, {u"ein"_s, true}};
    if (!key.isEmpty())
        c.insert(u"en"_s, key);
    return with(c);
}

Query Query::endBefore(const QJsonValue &value, const QString &key) const
{
    QJsonObject c {{u"ep"_s, value}, {u"ein"_s, false}};
    if (!isKeyIndex())
        c.insert(u"en"_s, key.isEmpty() ? u"[MIN_NAME]"_s : key);
    return with(c);
}

Query Query::equalTo(const QJsonValue &value, const QString &key) const
{
    return startAt(value, key).endAt(value, key);
}

Query Query::limitToFirst(int limit) const
{
    return with({{u"l"_s, limit}, {u"vf"_s, u"l"_s}});
}

Query Query::limitToLast(int limit) const
{
    return with({{u"l"_s, limit}, {u"vf"_s, u"r"_s}});
}

Subscription Query::on(Event event, const QObject *context, EventCallback callback, CancelCallback cancelled) const
{
    return Subscription(m_db, m_db->addListener(*this, event, context, std::move(callback), std::move(cancelled)));
}

void Query::get(const QObject *context, GetCallback callback) const
{
    m_db->get(*this, context, std::move(callback));
}

Reference Reference::child(const QString &relativePath) const
{
    Path rel;
    QString error;
    if (!Path::parse(relativePath, &rel, &error))
        qWarning("lark client: invalid child path %s: %s", qPrintable(relativePath), qPrintable(error));
    return Reference(m_db, m_path.child(rel));
}

Reference Reference::parent() const
{
    return Reference(m_db, m_path.parent());
}

Reference Reference::root() const
{
    return Reference(m_db, Path());
}

Reference Reference::push() const
{
    return Reference(m_db, m_path.child(generatePushId(m_db->serverTimeMs())));
}

void Reference::set(const QJsonValue &value) const
{
    set(value, nullptr, {});
}

void Reference::set(const QJsonValue &value, const QObject *context, Completion done) const
{
    m_db->write(u"p"_s, m_path, {{u"p"_s, m_path.toString()}, {u"d"_s, value}}, context, std::move(done));
}

static QJsonValue withPriority(const QJsonValue &value, const QJsonValue &priority)
{
    if (value.isObject()) {
        QJsonObject o = value.toObject();
        o.insert(u".priority"_s, priority);
        return o;
    }
    return QJsonObject {{u".value"_s, value}, {u".priority"_s, priority}};
}

void Reference::setWithPriority(const QJsonValue &value, const QJsonValue &priority) const
{
    set(withPriority(value, priority));
}

void Reference::setWithPriority(
    const QJsonValue &value, const QJsonValue &priority, const QObject *context, Completion done) const
{
    set(withPriority(value, priority), context, std::move(done));
}

void Reference::setPriority(const QJsonValue &priority) const
{
    setPriority(priority, nullptr, {});
}

void Reference::setPriority(const QJsonValue &priority, const QObject *context, Completion done) const
{
    const Path p = m_path.child(u".priority"_s);
    m_db->write(u"p"_s, p, {{u"p"_s, p.toString()}, {u"d"_s, priority}}, context, std::move(done));
}

void Reference::update(const QJsonObject &children) const
{
    update(children, nullptr, {});
}

void Reference::update(const QJsonObject &children, const QObject *context, Completion done) const
{
    m_db->write(u"m"_s, m_path, {{u"p"_s, m_path.toString()}, {u"d"_s, children}}, context, std::move(done));
}

void Reference::remove() const
{
    set(QJsonValue::Null);
}

void Reference::remove(const QObject *context, Completion done) const
{
    set(QJsonValue::Null, context, std::move(done));
}

void Reference::transaction(const QObject *context, TransactionUpdate update, TransactionDone done) const
{
    m_db->startTransaction(m_path, context, std::move(update), std::move(done));
}

OnDisconnect Reference::onDisconnect() const
{
    return OnDisconnect(*this);
}

void OnDisconnect::set(const QJsonValue &value) const
{
    set(value, nullptr, {});
}

void OnDisconnect::set(const QJsonValue &value, const QObject *context, Completion done) const
{
    m_ref.m_db->onDisconnectRequest(
        u"o"_s, m_ref.path(), {{u"p"_s, m_ref.path().toString()}, {u"d"_s, value}}, context, std::move(done));
}

void OnDisconnect::setWithPriority(const QJsonValue &value, const QJsonValue &priority) const
{
    set(withPriority(value, priority));
}

void OnDisconnect::setWithPriority(
    const QJsonValue &value, const QJsonValue &priority, const QObject *context, Completion done) const
{
    set(withPriority(value, priority), context, std::move(done));
}

void OnDisconnect::update(const QJsonObject &children) const
{
    update(children, nullptr, {});
}

void OnDisconnect::update(const QJsonObject &children, const QObject *context, Completion done) const
{
    m_ref.m_db->onDisconnectRequest(
        u"om"_s, m_ref.path(), {{u"p"_s, m_ref.path().toString()}, {u"d"_s, children}}, context, std::move(done));
}

void OnDisconnect::remove() const
{
    set(QJsonValue::Null);
}

void OnDisconnect::remove(const QObject *context, Completion done) const
{
    set(QJsonValue::Null, context, std::move(done));
}

void OnDisconnect::cancel() const
{
    cancel(nullptr, {});
}

void OnDisconnect::cancel(const QObject *context, Completion done) const
{
    m_ref.m_db->onDisconnectRequest(
        u"oc"_s, m_ref.path(), {{u"p"_s, m_ref.path().toString()}, {u"d"_s, QJsonValue()}}, context, std::move(done));
}

} // namespace lark::client
