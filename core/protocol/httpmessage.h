// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>

#include <memory>

namespace lark::protocol
{

/** One HTTP/1.1 request as read from a client: what the routes beside the WebSocket upgrade work with. */
struct HttpRequest {
    QByteArray method; /**< "GET", "PUT", … as sent */
    QByteArray target; /**< the origin-form target as sent, e.g. /.settings/rules.json?ns=demo */
    /** Every header line in order: the name as sent and the value, both trimmed. */
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body; /**< the whole body (Content-Length or chunked), at most the reader's cap */
    bool keepAlive = true; /**< whether the client lets the connection carry another request after this one */

    /** The values of every header called name (case-insensitive), joined with ", " (RFC 9110 §5.3). */
    [[nodiscard]] QByteArray header(QByteArrayView name) const;
};

/** The JSON text of any value, scalars and null included (QJsonDocument holds only objects and arrays). */
[[nodiscard]] QByteArray jsonBytes(const QJsonValue &value, bool indented = false);

/** An answer to an HttpRequest; serialize() gives the bytes with Content-Length and the Connection header. */
struct HttpResponse {
    int status = 200;
    QByteArray contentType = "application/json; charset=utf-8";
    QByteArray body;
    /** Whole header lines beyond the standard ones, e.g. "Allow: GET, PUT\r\n". */
    QByteArray extraHeaders;
    /** The server closes the connection after this answer, whatever the client asked for. */
    bool closeConnection = false;
    /**
     * The head of an event stream (text/event-stream): no Content-Length, the body is the stream's first bytes, more
     * follow, and the server ends it by closing the connection (Connection: close), as Firebase's streams do.
     */
    bool stream = false;

    /** A JSON body (compact, as the emulator answers). */
    [[nodiscard]] static HttpResponse json(int status, const QJsonValue &value);
    /** `{"error":"message"}`, the shape of every Firebase REST error. */
    [[nodiscard]] static HttpResponse error(int status, const QString &message);
    /**
     * The message bytes. Connection says close (the server then closes after sending it) unless keepAlive and not
     * closeConnection; a 426 also lists Upgrade there (RFC 9110 §7.8). A stream's head always says close.
     */
    [[nodiscard]] QByteArray serialize(bool keepAlive) const;
};

/** The reason phrase of an HTTP status code ("Not Found"), "Error" for one Lark never sends. */
[[nodiscard]] QByteArray httpStatusText(int status);

/**
 * Reads HTTP/1.1 requests from a byte stream, one at a time, with Debian's http-parser (nodejs/http-parser 2.9) doing
 * the grammar: request line, headers, Content-Length and chunked bodies. Bytes in, requests out: no socket, so it is
 * tested and fuzzed on its own. A request over a cap, or a broken one, ends the stream with a status and a reason for
 * the client.
 */
class HttpRequestReader
{
public:
    struct Limits {
        qsizetype maxHeadBytes = 16 * 1024; /**< request line and headers; more is refused with 431 */
        qsizetype maxBodyBytes = 16 * 1024 * 1024; /**< more is refused with 413 */
    };

    explicit HttpRequestReader(const Limits &limits);
    ~HttpRequestReader();
    HttpRequestReader(const HttpRequestReader &) = delete;
    HttpRequestReader &operator=(const HttpRequestReader &) = delete;

    /**
     * Parses from data and returns how many bytes it consumed: it stops after a complete request (hasRequest()) so
     * that the caller answers before the next one is read; the caller passes the rest again with what arrives later.
     */
    qsizetype feed(const char *data, qsizetype size);

    /** A complete request is waiting: take it (then feed() reads the next one). */
    [[nodiscard]] bool hasRequest() const { return m_complete; }
    HttpRequest takeRequest();

    /** The stream is broken or over a cap: answer errorStatus() with errorReason() and close. */
    [[nodiscard]] bool failed() const { return m_errorStatus != 0; }
    [[nodiscard]] int errorStatus() const { return m_errorStatus; }
    [[nodiscard]] const QString &errorReason() const { return m_errorReason; }

private:
    struct Parser;
    friend struct Parser;
    void fail(int status, const QString &reason);

    Limits m_limits;
    std::unique_ptr<Parser> d;
    HttpRequest m_request; // the one being read
    QByteArray m_field; // header name being read (http-parser may split it across calls)
    QByteArray m_value;
    bool m_inValue = false;
    qsizetype m_headBytes = 0; // of the request being read, until its head is done
    bool m_headDone = false;
    bool m_complete = false;
    int m_errorStatus = 0;
    QString m_errorReason;
};

} // namespace lark::protocol
