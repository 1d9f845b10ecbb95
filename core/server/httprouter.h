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

/** One HTTP request as a route sees it: the parsed request with its URL, and how the connection was let in. */
struct HttpCall {
    const protocol::HttpRequest &request;
    QUrl url; /**< the target, e.g. /.settings/rules.json?ns=demo */
    QUrlQuery query;
    AccessPolicy::Admission admission = AccessPolicy::Admission::NoOrigin;
    QHostAddress peer;

    /** The token of `Authorization: Bearer <token>`, or empty without one. */
    [[nodiscard]] QString bearerToken() const;
};

/**
 * The HTTP routes served on the WebSocket port (the emulator's rules endpoint today, the REST API next): exact paths
 * to handlers, one per method. A path with no route answers 426 naming the WebSocket endpoint (what a browser or curl
 * pointed at the port should learn); a route without the method answers 405 with Allow.
 */
class HttpRouter
{
public:
    using Handler = std::function<protocol::HttpResponse(const HttpCall &call)>;

    /** Serves method (e.g. "GET") on path (decoded, e.g. "/.settings/rules.json"). */
    void add(const QByteArray &method, const QString &path, Handler handler);
    [[nodiscard]] protocol::HttpResponse route(const HttpCall &call) const;

private:
    struct Route {
        QByteArray method;
        QString path;
        Handler handler;
    };
    std::vector<Route> m_routes;
};

} // namespace lark
