// SPDX-License-Identifier: MIT
#pragma once

#include "accesspolicy.h"

#include "protocol/httpmessage.h"

#include <QHostAddress>
#include <QString>
#include <QUrl>
#include <QUrlQuery>

#include <functional>
#include <vector>

namespace lark
{

class ServerWebSocket;

/** One HTTP request as a route sees it: the parsed request with its URL, and how the connection was let in. */
struct HttpCall {
    const protocol::HttpRequest &request;
    QUrl url; /**< the target, e.g. /.settings/rules.json?ns=demo */
    QUrlQuery query;
    AccessPolicy::Admission admission = AccessPolicy::Admission::NoOrigin;
    QHostAddress peer;
    /** The connection that carries the request, for a route that turns it into an event stream; may be nullptr. */
    ServerWebSocket *socket = nullptr;

    /** The token of `Authorization: Bearer <token>`, or empty without one. */
    [[nodiscard]] QString bearerToken() const;
    /** Whether query parameter key is `true` or `1` (`?dryRun=true`, `?shallow=true`). */
    [[nodiscard]] bool isTrue(const QString &key) const;
};

/**
 * The HTTP routes served on the WebSocket port: exact paths to handlers, one per method (the emulator's endpoints),
 * then one handler for every other path with a suffix (the REST API's `<path>.json`), which may answer later. A
 * path with no route answers 426 naming the WebSocket endpoint (what a browser or curl pointed at the port should
 * learn); an exact route without the method answers 405 with Allow.
 */
class HttpRouter
{
public:
    using Handler = std::function<protocol::HttpResponse(const HttpCall &call)>;
    /** Hands over the answer, now or later (a write answers once it is durable); exactly once. */
    using Respond = std::function<void(const protocol::HttpResponse &response)>;
    using DeferredHandler = std::function<void(const HttpCall &call, Respond respond)>;

    /** Serves method (e.g. "GET") on path (decoded, e.g. "/.settings/rules.json"). */
    void add(const QByteArray &method, const QString &path, Handler handler);
    /** Serves every method on every path ending in suffix (as sent, e.g. ".json") that no exact route has. */
    void addSuffix(const QString &suffix, DeferredHandler handler);
    /**
     * Answers call through respond, at once or (a deferred handler) later; with CORS headers for a request with an
     * Origin (the access policy admitted it), and a CORS preflight at once.
     */
    void dispatch(const HttpCall &call, const Respond &respond) const;
    /** The answer of an exact route, or 405 or 426: what dispatch() gives for a path without a suffix route. */
    [[nodiscard]] protocol::HttpResponse route(const HttpCall &call) const;

private:
    void answer(const HttpCall &call, const Respond &respond) const;

    struct Route {
        QByteArray method;
        QString path;
        Handler handler;
    };
    struct SuffixRoute {
        QString suffix;
        DeferredHandler handler;
    };
    std::vector<Route> m_routes;
    std::vector<SuffixRoute> m_suffixRoutes;
};

} // namespace lark
