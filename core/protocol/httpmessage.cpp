// SPDX-License-Identifier: MIT
#include "httpmessage.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <http_parser.h>

#include <algorithm>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark::protocol
{

QByteArray HttpRequest::header(QByteArrayView name) const
{
    QByteArray joined;
    for (const auto &[headerName, value] : headers) {
        if (QByteArrayView(headerName).compare(name, Qt::CaseInsensitive) == 0)
            joined = joined.isEmpty() ? value : joined + ", " + value;
    }
    return joined;
}

QByteArray jsonBytes(const QJsonValue &value, bool indented)
{
    const auto format = indented ? QJsonDocument::Indented : QJsonDocument::Compact;
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(format);
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(format);
    // A scalar: wrap it and cut the brackets off (undefined is written as null).
    return QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact).chopped(1).mid(1);
}

HttpResponse HttpResponse::json(int status, const QJsonValue &value)
{
    HttpResponse r;
    r.status = status;
    r.body = jsonBytes(value);
    return r;
}

HttpResponse HttpResponse::error(int status, const QString &message)
{
    return json(status, QJsonObject {{u"error"_s, message}});
}

QByteArray HttpResponse::serialize(bool keepAlive) const
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + httpStatusText(status) + "\r\n";
    out += extraHeaders;
    if (stream) // read until the close: clients that cannot frame it otherwise (emulator issue 3329) still can
        return out + "Content-Type: " + contentType + "\r\nConnection: close\r\nCache-Control: no-cache\r\n\r\n" + body;
    if (!body.isEmpty() || (status != 204 && status != 304))
        out += "Content-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "Connection: ";
    if (status == 426)
        out += "Upgrade, ";
    out += keepAlive && !closeConnection ? "keep-alive\r\n" : "close\r\n";
    out += "Cache-Control: no-store\r\n\r\n";
    return out + body;
}

QByteArray httpStatusText(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

// The C parser's callbacks reach the reader through http_parser::data.
struct HttpRequestReader::Parser {
    http_parser parser;
    http_parser_settings settings;

    static HttpRequestReader *reader(http_parser *p) { return static_cast<HttpRequestReader *>(p->data); }

    static void endHeader(HttpRequestReader *r)
    {
        if (!r->m_field.isEmpty())
            r->m_request.headers.append({r->m_field.trimmed(), r->m_value.trimmed()});
        r->m_field.clear();
        r->m_value.clear();
        r->m_inValue = false;
    }

    static int onUrl(http_parser *p, const char *at, size_t n)
    {
        HttpRequestReader *r = reader(p);
        r->m_request.target.append(at, qsizetype(n));
        return 0;
    }

    static int onHeaderField(http_parser *p, const char *at, size_t n)
    {
        HttpRequestReader *r = reader(p);
        if (r->m_inValue)
            endHeader(r);
        r->m_field.append(at, qsizetype(n));
        return 0;
    }

    static int onHeaderValue(http_parser *p, const char *at, size_t n)
    {
        HttpRequestReader *r = reader(p);
        r->m_inValue = true;
        r->m_value.append(at, qsizetype(n));
        return 0;
    }

    static int onHeadersComplete(http_parser *p)
    {
        HttpRequestReader *r = reader(p);
        r->m_headDone = true;
        endHeader(r);
        r->m_request.method = http_method_str(http_method(p->method));
        if (p->upgrade) {
            // The upgrade to WebSocket is the first request's, read by the WebSocket parser: not one on a live stream.
            r->fail(400, u"an Upgrade must be the first request on a connection"_s);
            return -1;
        }
        // Refused before the body is read: a client cannot make the server buffer what it will not take.
        if ((p->flags & F_CONTENTLENGTH) && p->content_length > quint64(r->m_limits.maxBodyBytes)) {
            r->fail(413, u"the request body exceeds %1 bytes"_s.arg(r->m_limits.maxBodyBytes));
            return -1;
        }
        return 0;
    }

    static int onBody(http_parser *p, const char *at, size_t n)
    {
        HttpRequestReader *r = reader(p);
        if (r->m_request.body.size() + qsizetype(n) > r->m_limits.maxBodyBytes) { // chunked
            r->fail(413, u"the request body exceeds %1 bytes"_s.arg(r->m_limits.maxBodyBytes));
            return 1;
        }
        r->m_request.body.append(at, qsizetype(n));
        return 0;
    }

    static int onMessageComplete(http_parser *p)
    {
        HttpRequestReader *r = reader(p);
        r->m_request.keepAlive = http_should_keep_alive(p) != 0;
        r->m_complete = true;
        http_parser_pause(p, 1); // one request at a time: the caller answers before the next is read
        return 0;
    }
};

HttpRequestReader::HttpRequestReader(const Limits &limits)
    : m_limits(limits)
    , d(std::make_unique<Parser>())
{
    http_parser_init(&d->parser, HTTP_REQUEST);
    d->parser.data = this;
    http_parser_settings_init(&d->settings);
    d->settings.on_url = &Parser::onUrl;
    d->settings.on_header_field = &Parser::onHeaderField;
    d->settings.on_header_value = &Parser::onHeaderValue;
    d->settings.on_headers_complete = &Parser::onHeadersComplete;
    d->settings.on_body = &Parser::onBody;
    d->settings.on_message_complete = &Parser::onMessageComplete;
}

HttpRequestReader::~HttpRequestReader() = default;

void HttpRequestReader::fail(int status, const QString &reason)
{
    if (m_errorStatus == 0) {
        m_errorStatus = status;
        m_errorReason = reason;
    }
}

qsizetype HttpRequestReader::feed(const char *data, qsizetype size)
{
    qsizetype total = 0;
    while (total < size && !m_complete && !failed()) {
        // The head is never given to http-parser beyond its cap: the parser reports a token only when the token or
        // the input ends, so counting its callbacks would refuse the same stream with 400 or 431 by how it is split.
        qsizetype n = size - total;
        const bool inHead = !m_headDone;
        if (inHead) {
            if (m_headBytes >= m_limits.maxHeadBytes) {
                fail(431, u"request line and headers exceed %1 bytes"_s.arg(m_limits.maxHeadBytes));
                break;
            }
            n = std::min(n, m_limits.maxHeadBytes - m_headBytes);
        }
        const size_t used = http_parser_execute(&d->parser, &d->settings, data + total, size_t(n));
        if (inHead)
            m_headBytes += qsizetype(used); // past the head's end only when it ended here, and then it is not read
        total += qsizetype(used);
        const auto error = HTTP_PARSER_ERRNO(&d->parser);
        if (error == HPE_PAUSED) { // a whole request: the caller answers it before the next is read
            http_parser_pause(&d->parser, 0);
            break;
        }
        if (error != HPE_OK) {
            fail(400, u"malformed HTTP request: %1"_s.arg(QString::fromLatin1(http_errno_description(error))));
            break;
        }
        if (used < size_t(n))
            break;
    }
    return total;
}

HttpRequest HttpRequestReader::takeRequest()
{
    Q_ASSERT(m_complete);
    m_complete = false;
    m_headBytes = 0;
    m_headDone = false;
    return std::exchange(m_request, {});
}

} // namespace lark::protocol
