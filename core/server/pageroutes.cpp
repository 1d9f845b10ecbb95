// SPDX-License-Identifier: MIT
#include "pageroutes.h"

#include "httprouter.h"

#include <QFile>
#include <QJsonObject>

using namespace Qt::Literals::StringLiterals;
using lark::protocol::HttpResponse;

namespace lark
{

namespace
{

QByteArray embedded(const QString &name)
{
    QFile file(u":/presence-page/"_s + name);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

HttpResponse asset(const QByteArray &contentType, const QByteArray &body)
{
    if (body.isEmpty()) // a build without the bundle cannot happen (CMake refuses), but say so rather than serve
                        // nothing
        return HttpResponse::error(500, u"the presence page is not in this build"_s);
    HttpResponse r;
    r.contentType = contentType;
    r.body = body;
    return r;
}

} // namespace

void addPageRoutes(HttpRouter &router, const QString &defaultNamespace)
{
    // The page's settings as JSON inside a <script>: `<` escaped so no value can end the script element.
    QByteArray config = protocol::jsonBytes(QJsonObject {{u"defaultNamespace"_s, defaultNamespace}});
    config.replace('<', "\\u003c");
    const QByteArray page = embedded(u"index.html"_s).replace("__LARK_PAGE_CONFIG__", config);
    const QByteArray script = embedded(u"presence.js"_s);
    router.add("GET", u"/"_s, [page](const HttpCall &) { return asset("text/html; charset=utf-8", page); });
    router.add("GET", u"/.lark/presence.js"_s,
        [script](const HttpCall &) { return asset("application/javascript; charset=utf-8", script); });
}

} // namespace lark
