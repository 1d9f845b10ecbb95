// SPDX-License-Identifier: MIT
#include "restroutes.h"

#include "authenticator.h"
#include "backend.h"
#include "eventstream.h"
#include "httprouter.h"
#include "logging.h"
#include "namespaces.h"
#include "requesthandler.h"
#include "server.h"
#include "websocket.h"

#include "db/database.h"
#include "db/pushid.h"
#include "db/query.h"

#include <QDateTime>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QRegularExpression>
#include <QUrlQuery>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;
using lark::protocol::HttpResponse;

namespace lark
{

namespace
{

const QString Suffix = u".json"_s;
const QString UploadSuffix = u"/.upload"_s;
const QByteArray Methods = "GET, PUT, POST, PATCH, DELETE";
// The ETag of a null location: what `if-match` names to write only where there is nothing (docs/rest.md §4).
const QByteArray NullEtag = "null_etag";

/** Any JSON text, scalars included: QJsonDocument parses only objects and arrays, so it reads a one-element array. */
bool parseJson(const QByteArray &text, QJsonValue *out)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson('[' + text + ']', &pe);
    if (pe.error != QJsonParseError::NoError || doc.array().size() != 1)
        return false;
    *out = doc.array().at(0);
    return true;
}

HttpResponse refusal(int status, const QString &message)
{
    return HttpResponse::error(status, message);
}

/** The method the request stands for: POST may carry another one, for clients that can send only GET and POST. */
QByteArray effectiveMethod(const HttpCall &call)
{
    if (call.request.method != "POST")
        return call.request.method;
    QByteArray override = call.request.header("X-HTTP-Method-Override").trimmed();
    if (override.isEmpty())
        override = call.query.queryItemValue(u"x-http-method-override"_s, QUrl::FullyDecoded).toLatin1();
    return override.isEmpty() ? call.request.method : override.toUpper();
}

/**
 * ?ns=, else the first label of a Host such as demo.firebaseio.com, or demo.localhost (the loopback name that the
 * access policy lets in), else "" (the default).
 */
QString namespaceOf(const HttpCall &call)
{
    const QString asked = call.query.queryItemValue(u"ns"_s, QUrl::FullyDecoded);
    if (!asked.isEmpty())
        return asked;
    QString host = QString::fromUtf8(call.request.header("Host")).trimmed();
    if (host.startsWith(u'['))
        return {}; // an IPv6 literal
    host = host.section(u':', 0, 0);
    const QStringList labels = host.split(u'.');
    const bool named = labels.size() >= 3 || (labels.size() == 2 && labels.back() == u"localhost"_s);
    if (!named || !QHostAddress(host).isNull())
        return {};
    return labels.front();
}

/** The token of auth=, access_token= or Authorization: Bearer, in that order; empty: none. */
QString tokenOf(const HttpCall &call)
{
    for (const QString &key : {u"auth"_s, u"access_token"_s}) {
        const QString v = call.query.queryItemValue(key, QUrl::FullyDecoded);
        if (!v.isEmpty())
            return v;
    }
    return call.bearerToken();
}

/** The status and body for a request the request path refused. */
HttpResponse refusalFor(const Reply &reply)
{
    if (reply.status == status::PermissionDenied)
        return refusal(401, u"Permission denied"_s); // what both Admin SDKs' tests read from production
    if (reply.status == status::WriteFailed)
        return refusal(500, reply.data.toString());
    return refusal(400, reply.data.toString());
}

/** A query parameter's JSON value; a bare word (the Emulator UI sends `orderBy=name`) is the string it spells. */
QJsonValue queryValue(const QString &text)
{
    QJsonValue v;
    return parseJson(text.toUtf8(), &v) ? v : QJsonValue(text);
}

/**
 * A bound of `startAt`, `endAt`… into the wire query's value and key name: `3`, `"a"`, or the JS SDK's REST form
 * with a key tie-breaker, `18,"k1"`.
 */
bool parseBound(const QString &text, QJsonObject *q, const QString &valueKey, const QString &nameKey, QString *error)
{
    QJsonValue pair;
    if (parseJson(text.toUtf8(), &pair) || !parseJson('[' + text.toUtf8() + ']', &pair)) {
        q->insert(valueKey, queryValue(text));
        return true;
    }
    const QJsonArray a = pair.toArray();
    if (a.size() != 2 || !a.at(1).isString()) {
        *error = u"a query bound is a JSON value, or a value and a key: "_s + text.left(100);
        return false;
    }
    q->insert(valueKey, a.at(0));
    q->insert(nameKey, a.at(1));
    return true;
}

const QStringList QueryParameters = {u"orderBy"_s, u"startAt"_s, u"startAfter"_s, u"endAt"_s, u"endBefore"_s,
    u"equalTo"_s, u"limitToFirst"_s, u"limitToLast"_s};

/**
 * The REST query parameters as the wire query the request path applies (docs/rest.md §1), or a reason they are not
 * one. Without orderBy only a shallow read may have them (firebase-tools lists children with
 * `shallow=true&limitToFirst=N&startAfter=KEY`): they apply in key order.
 */
bool restQuery(const QUrlQuery &params, bool shallow, Query *out, QString *error)
{
    const auto has = [&](const QString &k) { return params.hasQueryItem(k); };
    if (std::none_of(QueryParameters.begin(), QueryParameters.end(), has))
        return true;
    const auto text = [&](const QString &k) { return params.queryItemValue(k, QUrl::FullyDecoded); };
    for (const QString &k : QueryParameters) {
        if (params.allQueryItemValues(k).size() > 1) {
            *error = k + u" is given more than once"_s;
            return false;
        }
    }
    QJsonObject q;
    if (has(u"orderBy"_s)) {
        if (shallow) {
            *error = u"shallow cannot be mixed with orderBy"_s;
            return false;
        }
        const QJsonValue by = queryValue(text(u"orderBy"_s));
        if (!by.isString()) {
            *error = u"orderBy must be a string: \"$key\", \"$value\", \"$priority\" or a child path"_s;
            return false;
        }
        const QString s = by.toString();
        q.insert(u"i"_s,
            s == u"$key"_s            ? u".key"_s
                : s == u"$value"_s    ? u".value"_s
                : s == u"$priority"_s ? u".priority"_s
                                      : s);
    } else if (!shallow) {
        *error = u"orderBy must be defined when other query parameters are defined"_s;
        return false;
    } else {
        q.insert(u"i"_s, u".key"_s);
    }
    const bool byKey = q.value(u"i"_s) == u".key"_s;
    // By key, a bound is the key itself: firebase-tools sends startAfter unquoted.
    const auto bound = [&](const QString &param, const QString &valueKey, const QString &nameKey) {
        if (!has(param))
            return true;
        if (byKey) {
            const QJsonValue v = queryValue(text(param));
            q.insert(valueKey, v.isString() ? v : QJsonValue(text(param)));
            return true;
        }
        return parseBound(text(param), &q, valueKey, nameKey, error);
    };
    if (has(u"equalTo"_s) && (has(u"startAt"_s) || has(u"endAt"_s) || has(u"startAfter"_s) || has(u"endBefore"_s))) {
        *error = u"equalTo cannot be mixed with startAt, endAt, startAfter or endBefore"_s;
        return false;
    }
    if ((has(u"startAt"_s) && has(u"startAfter"_s)) || (has(u"endAt"_s) && has(u"endBefore"_s))) {
        *error = u"a query has one start and one end"_s;
        return false;
    }
    if (!bound(u"startAt"_s, u"sp"_s, u"sn"_s) || !bound(u"endAt"_s, u"ep"_s, u"en"_s)
        || !bound(u"equalTo"_s, u"sp"_s, u"sn"_s) || !bound(u"equalTo"_s, u"ep"_s, u"en"_s)
        || !bound(u"startAfter"_s, u"sp"_s, u"sn"_s) || !bound(u"endBefore"_s, u"ep"_s, u"en"_s))
        return false;
    // Exclusive, as the SDK's startAfter(v) is startAt(v, MAX_NAME): past every key that has the value.
    if (has(u"startAfter"_s)) {
        q.insert(u"sin"_s, false);
        if (!q.contains(u"sn"_s))
            q.insert(u"sn"_s, u"[MAX_NAME]"_s);
    }
    if (has(u"endBefore"_s)) {
        q.insert(u"ein"_s, false);
        if (!q.contains(u"en"_s))
            q.insert(u"en"_s, u"[MIN_NAME]"_s);
    }
    if (has(u"limitToFirst"_s) && has(u"limitToLast"_s)) {
        *error = u"limitToFirst and limitToLast cannot be used together"_s;
        return false;
    }
    for (const QString &k : {u"limitToFirst"_s, u"limitToLast"_s}) {
        if (!has(k))
            continue;
        bool ok = false;
        const int n = text(k).toInt(&ok);
        if (!ok || n < 1) {
            *error = k + u" must be a positive integer"_s;
            return false;
        }
        q.insert(u"l"_s, n);
        q.insert(u"vf"_s, k == u"limitToFirst"_s ? u"l"_s : u"r"_s);
    }
    if (!Query::fromWire(q, out, error))
        return false;
    return true;
}

/** The value of Content-Type parameter name (`boundary=…`, quotes taken off), or empty. */
QByteArray contentTypeParameter(const QByteArray &contentType, QByteArrayView name)
{
    for (QByteArray part : contentType.split(';')) {
        part = part.trimmed();
        if (part.size() > name.size() && part.at(name.size()) == '='
            && QByteArrayView(part).first(name.size()).compare(name, Qt::CaseInsensitive) == 0) {
            QByteArray v = part.mid(name.size() + 1).trimmed();
            if (v.size() >= 2 && v.startsWith('"') && v.endsWith('"'))
                v = v.mid(1, v.size() - 2);
            return v;
        }
    }
    return {};
}

/**
 * The content of form field `field` in a multipart/form-data body (RFC 7578), as the Emulator UI's import sends its
 * file; false with the reason when the body is not one or has no such field.
 */
bool formField(const protocol::HttpRequest &request, QByteArrayView field, QByteArray *out, QString *error)
{
    const QByteArray type = request.header("Content-Type");
    const QByteArray boundary = contentTypeParameter(type, "boundary");
    if (!type.trimmed().toLower().startsWith("multipart/form-data") || boundary.isEmpty()) {
        *error = u"an upload is multipart/form-data with a boundary"_s;
        return false;
    }
    const QByteArray delimiter = "--" + boundary;
    const QByteArray &body = request.body;
    qsizetype at = body.indexOf(delimiter);
    const QByteArray wanted = "name=\"" + field.toByteArray() + '"';
    while (at >= 0) {
        at += delimiter.size();
        if (body.mid(at, 2) == "--")
            break; // the closing delimiter
        const qsizetype headEnd = body.indexOf("\r\n\r\n", at);
        if (headEnd < 0)
            break;
        const qsizetype next = body.indexOf("\r\n" + delimiter, headEnd + 4);
        if (next < 0)
            break;
        const QByteArray head = body.mid(at, headEnd - at);
        if (head.contains(wanted)) {
            *out = body.mid(headEnd + 4, next - headEnd - 4);
            return true;
        }
        at = next + 2;
    }
    *error = u"the upload has no form field \"%1\""_s.arg(QString::fromLatin1(field.toByteArray()));
    return false;
}

class RestCall
{
public:
    RestCall(Server &server, const HttpCall &call, HttpRouter::Respond respond)
        : m_server(server)
        , m_call(call)
        , m_respond(std::move(respond))
    {
    }

    void run()
    {
        // The Emulator UI's import (`POST <path>/.upload`, the file in the form field myFile): a PUT of the file.
        const bool upload = m_call.url.path(QUrl::FullyEncoded).endsWith(UploadSuffix);
        QByteArray method = effectiveMethod(m_call);
        m_body = m_call.request.body;
        if (upload) {
            if (method != "POST") {
                HttpResponse r = refusal(405, u"an upload is a POST of a multipart/form-data body"_s);
                r.extraHeaders += "Allow: POST\r\n";
                return m_respond(r);
            }
            QString why;
            if (!formField(m_call.request, "myFile", &m_body, &why))
                return m_respond(refusal(400, why));
            method = "PUT";
        }
        if (method != "GET" && method != "PUT" && method != "POST" && method != "PATCH" && method != "DELETE") {
            HttpResponse r = refusal(405,
                u"%1 is not a REST method (%2)"_s.arg(
                    QString::fromLatin1(method.left(32)), QString::fromLatin1(Methods)));
            r.extraHeaders += "Allow: " + Methods + "\r\n";
            return m_respond(r);
        }
        Path path;
        if (const auto no = parsePath(upload ? UploadSuffix : Suffix, &path))
            return m_respond(*no);
        const QString ns = namespaceOf(m_call);
        QString why;
        if (!m_server.namespaces().admits(ns, &why))
            return m_respond(refusal(400, why));
        Identity identity;
        qint64 tokenExpiresAtMs = 0;
        if (const auto no = authenticate(&identity, &tokenExpiresAtMs))
            return m_respond(*no);
        if (const auto no = checkParameters(method, &identity))
            return m_respond(*no);
        m_pretty = m_call.query.queryItemValue(u"print"_s) == u"pretty"_s;
        m_silent = m_call.query.queryItemValue(u"print"_s) == u"silent"_s;

        Request request;
        request.path = path;
        QJsonValue body;
        if (method == "PUT" || method == "POST" || method == "PATCH") {
            if (m_body.trimmed().isEmpty())
                return m_respond(refusal(400, u"No data supplied."_s));
            if (!parseJson(m_body, &body))
                return m_respond(refusal(400, u"Invalid data; couldn't parse JSON object, array, or value."_s));
        }
        QJsonValue answer; // what a 200 carries, unless computed after the request
        if (method == "GET") {
            if (!restQuery(m_call.query, m_call.isTrue(u"shallow"_s), &request.query, &why))
                return m_respond(refusal(400, why));
            if (m_call.request.header("Accept").contains("text/event-stream"))
                return openStream(m_server.database(ns), path, request.query, identity, tokenExpiresAtMs);
            request.action = Request::Action::Get;
        } else if (method == "PUT") {
            request.action = Request::Action::Set;
            request.data = body;
        } else if (method == "POST") {
            const QString key = generatePushId(QDateTime::currentMSecsSinceEpoch());
            request.action = Request::Action::Set;
            request.path = path.child(key);
            request.data = body;
            answer = QJsonObject {{u"name"_s, key}};
        } else if (method == "PATCH") {
            if (body.isNull()) { // firebase database:remove deletes this way
                request.action = Request::Action::Set;
                request.data = QJsonValue::Null;
            } else if (!body.isObject()) {
                return m_respond(refusal(400, u"PATCH data must be an object of children to update"_s));
            } else {
                request.action = Request::Action::Update;
                const QJsonObject children = body.toObject();
                for (auto it = children.begin(); it != children.end(); ++it) {
                    Path rel;
                    if (!Path::parseRelative(path, it.key(), &rel, &why))
                        return m_respond(refusal(400, u"Invalid path in PATCH data: "_s + why));
                    request.children.emplace_back(rel, it.value());
                }
            }
            answer = body;
        } else { // DELETE
            request.action = Request::Action::Set;
            request.data = QJsonValue::Null;
            answer = QJsonValue::Null;
        }
        if (!request.path.isRoot() && request.path.front() == u".info"_s && method != "GET")
            return m_respond(refusal(400, u"Invalid path: .info is each client's own tree and cannot be written"_s));

        // ETags (docs/rest.md §4): the wire hash of the location, asked for with X-Firebase-ETag; if-match makes a
        // PUT or DELETE a compare-and-set (a transaction's, checked after the rules), if-none-match a GET's 304.
        const QByteArray ifMatch = m_call.request.header("if-match").trimmed();
        const QByteArray ifNoneMatch = m_call.request.header("if-none-match").trimmed();
        const bool wantsEtag = m_call.request.header("X-Firebase-ETag").trimmed().toLower() == "true";
        if (!ifMatch.isEmpty() && method != "PUT" && method != "DELETE")
            return m_respond(refusal(400, u"if-match is supported on PUT and DELETE only"_s));
        if (method == "PATCH" && wantsEtag)
            return m_respond(refusal(400, u"ETags are not supported with PATCH"_s));
        if (!ifMatch.isEmpty()) {
            request.hasExpectedHash = true;
            request.hash = ifMatch == NullEtag ? QByteArray() : ifMatch;
        }

        Database *db = m_server.database(ns);
        const auto etagAt = [db](const Path &at) {
            const QByteArray hash = db->hashAt(at);
            return hash.isEmpty() ? NullEtag : hash;
        };
        const Caller caller {db, identity, nullptr, nullptr, u"REST"_s, u"rest"_s};
        const Backend &backend = m_server.backend();
        const quint64 recordsBefore = backend.recordCount();
        const Reply reply = m_server.requests().handle(caller, request);
        if (reply.status == status::DataStale) {
            // 412 with what is there now and its ETag: the Go and Python transactions retry from that body. Only
            // for a caller who may read it: the rules let this one write, which is not the same.
            Request read;
            read.action = Request::Action::Get;
            read.path = path;
            const Reply current = m_server.requests().handle(caller, read);
            HttpResponse stale = HttpResponse::error(412, u"the location changed: its ETag is not the if-match one"_s);
            if (current.isOk()) {
                stale.body = protocol::jsonBytes(withoutPriorities(current.data), m_pretty);
                stale.extraHeaders = "ETag: " + etagAt(path) + "\r\n";
            }
            return m_respond(stale);
        }
        if (!reply.isOk()) {
            if (reply.status != status::PermissionDenied) // the rules' denials are logged with their rule
                qCInfo(lcProtocol).noquote()
                    << "refused REST" << method << request.path.toString() << "in" << db->name() << "from"
                    << m_call.peer.toString() << ":" << reply.status << reply.data.toString();
            return m_respond(refusalFor(reply));
        }
        const bool exportFormat = m_call.query.queryItemValue(u"format"_s) == u"export"_s;
        if (method == "GET")
            answer = exportFormat ? reply.data : withoutPriorities(reply.data);
        else if (upload)
            answer = QJsonObject {{u"status"_s, u"ok"_s}}; // not the whole import back
        else if (method == "PUT")
            answer = withoutPriorities(db->valueJson(path)); // with its ServerValues resolved
        if (method == "GET" && m_call.isTrue(u"shallow"_s))
            answer = shallow(answer);
        HttpResponse ok;
        if (wantsEtag || !ifNoneMatch.isEmpty())
            ok.extraHeaders = "ETag: " + etagAt(request.path) + "\r\n";
        if (method == "GET" && !ifNoneMatch.isEmpty() && ifNoneMatch == etagAt(path))
            ok.status = 304; // unchanged: no body
        else if (m_silent)
            ok.status = 204;
        else
            ok.body = protocol::jsonBytes(answer, m_pretty);
        if (method == "GET" && ok.status == 200)
            presentRead(&ok);
        // Durability (docs/semantics.md §6): a write is answered once the batch that records it is committed.
        if (backend.recordCount() == recordsBefore)
            return m_respond(ok);
        // A shared store (Redis) applies the write here only once it is committed: PUT's body is read then.
        const bool putBodyLater = method == "PUT" && backend.appliesLater() && !m_silent;
        m_server.afterCommit(backend.openBatch(),
            [respond = m_respond, ok, putBodyLater, db, path, pretty = m_pretty](
                bool committed, const QString &error) mutable {
                if (!committed && error == Backend::DataStaleError)
                    return respond(
                        HttpResponse::error(412, u"the location changed: its ETag is not the if-match one"_s));
                if (!committed)
                    return respond(refusal(500, error));
                if (putBodyLater)
                    ok.body = protocol::jsonBytes(withoutPriorities(db->valueJson(path)), pretty);
                respond(ok);
            });
    }

private:
    std::optional<HttpResponse> parsePath(const QString &suffix, Path *out) const
    {
        QString text = m_call.url.path(QUrl::FullyDecoded);
        text.chop(suffix.size());
        QString why;
        if (!Path::parse(text, out, &why))
            return refusal(400, u"Invalid path: "_s + why);
        return std::nullopt;
    }

    /**
     * GET with `Accept: text/event-stream` (docs/rest.md §6): the read is checked and the listen registered through
     * the request path, as a WebSocket listen is, before the head goes out; then the stream takes the connection.
     */
    void openStream(Database *db, const Path &path, const Query &query, const Identity &identity, qint64 expiresAtMs)
    {
        if (!m_call.socket)
            return m_respond(refusal(400, u"this connection cannot carry an event stream"_s));
        if (m_call.isTrue(u"shallow"_s))
            return m_respond(refusal(400, u"shallow is not supported on an event stream"_s));
        if (!path.isRoot() && path.front() == u".info"_s)
            return m_respond(refusal(400, u"Invalid path: .info is each WebSocket client's own tree; REST has none"_s));
        const bool exportFormat = m_call.query.queryItemValue(u"format"_s) == u"export"_s;
        EventStream *stream
            = m_server.createEventStream({db, path, query, identity, expiresAtMs, exportFormat, m_call.peer});
        Request listen;
        listen.action = Request::Action::Listen;
        listen.path = path;
        listen.query = query;
        const Caller caller {db, identity, nullptr, stream, u"REST"_s, u"sse"_s};
        const Reply reply = m_server.requests().handle(caller, listen);
        if (!reply.isOk()) {
            delete stream;
            return m_respond(refusalFor(reply));
        }
        HttpResponse head;
        head.stream = true;
        head.contentType = "text/event-stream; charset=utf-8";
        const QPointer<ServerWebSocket> socket = m_call.socket;
        m_respond(head);
        if (!socket || socket->state() != ServerWebSocket::State::Streaming) {
            delete stream; // the client left meanwhile
            return;
        }
        m_server.adoptEventStream(stream, socket);
    }

    /**
     * The parameters that do not change what is read or written (docs/rest.md §1): `timeout` and `writeSizeLimit`
     * are checked (Lark answers every request at once, within any limit they set), `download` and `callback` are
     * checked here and applied by presentRead(), and `auth_variable_override` lets the admin act as the `auth` it
     * names (null: anonymous), as the Python and Go Admin SDKs' databaseAuthVariableOverride does.
     */
    std::optional<HttpResponse> checkParameters(const QByteArray &method, Identity *identity) const
    {
        const auto has = [this](const QString &k) { return m_call.query.hasQueryItem(k); };
        const auto text = [this](const QString &k) { return m_call.query.queryItemValue(k, QUrl::FullyDecoded); };
        if (has(u"timeout"_s)) {
            static const QRegularExpression duration(u"^([0-9]{1,9})(ms|s|min)$"_s);
            const QRegularExpressionMatch m = duration.match(text(u"timeout"_s));
            const qint64 n = m.hasMatch() ? m.captured(1).toLongLong() : 0;
            const qint64 ms = m.captured(2) == u"ms"_s ? n : m.captured(2) == u"s"_s ? n * 1000 : n * 60000;
            if (ms <= 0 || ms > 15 * 60000)
                return refusal(
                    400, u"timeout must be a positive duration of at most 15min, such as 300ms, 3s or 2min"_s);
        }
        if (has(u"writeSizeLimit"_s)
            && !QStringList {u"tiny"_s, u"small"_s, u"medium"_s, u"large"_s, u"unlimited"_s}.contains(
                text(u"writeSizeLimit"_s)))
            return refusal(400, u"writeSizeLimit must be tiny, small, medium, large or unlimited"_s);
        if (has(u"callback"_s)) {
            // A JavaScript name, so the answer cannot carry script of the caller's choosing.
            static const QRegularExpression name(u"^[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*$"_s);
            if (method != "GET" || !name.match(text(u"callback"_s)).hasMatch() || text(u"callback"_s).size() > 128)
                return refusal(400, u"callback is a JavaScript function name, on a GET"_s);
        }
        if (has(u"download"_s) && (method != "GET" || text(u"download"_s).isEmpty()))
            return refusal(400, u"download names a file, on a GET"_s);
        if (has(u"auth_variable_override"_s) && identity->isAdmin()) {
            QJsonValue as;
            if (!parseJson(text(u"auth_variable_override"_s).toUtf8(), &as) || !(as.isObject() || as.isNull()))
                return refusal(400, u"auth_variable_override must be a JSON object or null"_s);
            Identity acting;
            if (as.isObject()) {
                acting.kind = Identity::Kind::User;
                acting.uid = as.toObject().value(u"uid"_s).toString();
                acting.claims = as.toObject();
                acting.authCache = as.toObject(); // rules see exactly the object given as `auth`
            }
            *identity = acting;
        }
        return std::nullopt;
    }

    /** A read's answer as `download` (a file to save) or `callback` (JSONP) ask for it. */
    void presentRead(HttpResponse *ok) const
    {
        const QString file = m_call.query.queryItemValue(u"download"_s, QUrl::FullyDecoded);
        if (!file.isEmpty()) {
            QByteArray quoted = file.toUtf8();
            for (char &c : quoted) { // a header value is ASCII, and this one sits in quotes
                if (c == '"' || c == '\\' || uchar(c) < 0x20 || uchar(c) >= 0x7f)
                    c = '_';
            }
            ok->extraHeaders += "Content-Disposition: attachment; filename=\"" + quoted + "\"\r\n";
        }
        const QString callback = m_call.query.queryItemValue(u"callback"_s, QUrl::FullyDecoded);
        if (!callback.isEmpty()) {
            ok->contentType = "application/javascript; charset=utf-8";
            ok->body = callback.toUtf8() + '(' + ok->body + ");";
        }
    }

    std::optional<HttpResponse> authenticate(Identity *out, qint64 *expiresAtMs) const
    {
        const QString token = tokenOf(m_call);
        if (token.isEmpty())
            return std::nullopt; // anonymous
        const Authenticator &auth = m_server.authenticator();
        const Authenticator::Result admin
            = auth.authenticate(Authenticator::Credential::Admin, token, m_call.admission);
        if (admin.isOk()) {
            *out = admin.identity;
            return std::nullopt;
        }
        const Authenticator::Result user = auth.authenticate(Authenticator::Credential::Token, token, m_call.admission);
        if (!user.isOk())
            return refusal(401, user.message);
        *out = user.identity;
        *expiresAtMs = user.expiresAtMs;
        return std::nullopt;
    }

    /** shallow=true: an object's children become true; anything else is itself. */
    static QJsonValue shallow(const QJsonValue &v)
    {
        if (!v.isObject())
            return v;
        QJsonObject out;
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            out.insert(it.key(), true);
        return out;
    }

    Server &m_server;
    const HttpCall &m_call;
    HttpRouter::Respond m_respond;
    QByteArray m_body; // the request's, or an upload's file
    bool m_pretty = false;
    bool m_silent = false;
};

} // namespace

void addRestRoutes(HttpRouter &router, Server &server)
{
    // The emulator's list of namespaces, which the Emulator UI's picker polls without a credential.
    router.add("GET", u"/.inspect/databases.json"_s, [&server](const HttpCall &) {
        QJsonArray names;
        for (const QString &name : server.namespaces().names())
            names.append(QJsonObject {{u"name"_s, name}});
        return HttpResponse::json(200, names);
    });
    for (const QString &suffix : {Suffix, UploadSuffix}) {
        router.addSuffix(suffix, [&server](const HttpCall &call, HttpRouter::Respond respond) {
            RestCall(server, call, std::move(respond)).run();
        });
    }
}

} // namespace lark
