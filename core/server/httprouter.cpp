// SPDX-License-Identifier: MIT
#include "httprouter.h"

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

QString HttpCall::bearerToken() const
{
    const QByteArray value = request.header("Authorization").trimmed();
    // The scheme is case-insensitive (RFC 9110 §11.1).
    if (value.size() < 7 || QByteArrayView(value).first(7).compare("Bearer ", Qt::CaseInsensitive) != 0)
        return {};
    return QString::fromUtf8(value.mid(7).trimmed());
}

bool HttpCall::isTrue(const QString &key) const
{
    const QString v = query.queryItemValue(key);
    return v == u"true"_s || v == u"1"_s;
}

void HttpRouter::add(const QByteArray &method, const QString &path, Handler handler)
{
    m_routes.push_back({method, path, std::move(handler)});
}

void HttpRouter::addSuffix(const QString &suffix, DeferredHandler handler)
{
    m_suffixRoutes.push_back({suffix, std::move(handler)});
}

void HttpRouter::dispatch(const HttpCall &call, const Respond &respond) const
{
    const QByteArray origin = call.request.header("Origin");
    if (origin.isEmpty()) {
        answer(call, respond);
        return;
    }
    // CORS (docs/rest.md §1): a page that the access policy let in (a loopback origin, or one of --allow-origin) may
    // read the answers; the policy has already refused every other origin. A preflight is answered here, for
    // every route, so the Emulator UI's browser requests with `Authorization: Bearer owner` get through.
    const QByteArray allow = "Access-Control-Allow-Origin: " + origin + "\r\nVary: Origin\r\n";
    if (call.request.method == "OPTIONS" && !call.request.header("Access-Control-Request-Method").isEmpty()) {
        protocol::HttpResponse preflight;
        preflight.status = 204;
        preflight.extraHeaders = allow + "Access-Control-Allow-Methods: GET, PUT, POST, PATCH, DELETE\r\n"
            + "Access-Control-Allow-Headers: " + call.request.header("Access-Control-Request-Headers") + "\r\n"
            + "Access-Control-Max-Age: 600\r\n";
        respond(preflight);
        return;
    }
    answer(call, [respond, allow](const protocol::HttpResponse &response) {
        protocol::HttpResponse withCors = response;
        withCors.extraHeaders += allow + "Access-Control-Expose-Headers: ETag\r\n";
        respond(withCors);
    });
}

void HttpRouter::answer(const HttpCall &call, const Respond &respond) const
{
    const QString path = call.url.path(QUrl::FullyDecoded);
    const bool exact = std::any_of(m_routes.begin(), m_routes.end(), [&](const Route &r) { return r.path == path; });
    if (!exact) {
        // The suffix as sent: `/a%2Ejson` is the key "a.json" under the root, not a REST call.
        const QString encoded = call.url.path(QUrl::FullyEncoded);
        for (const SuffixRoute &r : m_suffixRoutes) {
            if (encoded.endsWith(r.suffix)) {
                r.handler(call, respond);
                return;
            }
        }
    }
    respond(route(call));
}

protocol::HttpResponse HttpRouter::route(const HttpCall &call) const
{
    const QString path = call.url.path(QUrl::FullyDecoded);
    QByteArray allowed;
    for (const Route &r : m_routes) {
        if (r.path != path)
            continue;
        if (r.method == call.request.method)
            return r.handler(call);
        allowed += (allowed.isEmpty() ? "" : ", ") + r.method;
    }
    if (!allowed.isEmpty()) {
        protocol::HttpResponse refusal = protocol::HttpResponse::error(
            405, u"%1 is not served on %2"_s.arg(QString::fromLatin1(call.request.method), path));
        refusal.extraHeaders = "Allow: " + allowed + "\r\n";
        return refusal;
    }
    protocol::HttpResponse hint = protocol::HttpResponse::error(426,
        u"Lark speaks the Firebase Realtime Database protocol over WebSocket: connect to /.ws?v=5&ns=<namespace> "
        "(HTTP serves the REST API at <path>.json and the emulator's /.settings/rules.json)"_s);
    hint.extraHeaders = "Upgrade: websocket\r\n";
    hint.closeConnection = true; // a client that does not speak the protocol has nothing more to ask
    return hint;
}

} // namespace lark
