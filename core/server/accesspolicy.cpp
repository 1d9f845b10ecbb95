// SPDX-License-Identifier: MIT
#include "accesspolicy.h"

#include <QHostAddress>

#include <cctype>

namespace lark
{

namespace
{

int defaultPort(const QByteArray &scheme)
{
    if (scheme == "http" || scheme == "ws")
        return 80;
    if (scheme == "https" || scheme == "wss")
        return 443;
    return -1;
}

} // namespace

AccessPolicy::AccessPolicy(const QStringList &allowedOrigins, const QStringList &allowedHosts, bool loopbackListener)
    : m_loopbackListener(loopbackListener)
{
    for (const QString &o : allowedOrigins) {
        if (o == QLatin1String("*"))
            m_anyOrigin = true;
        else if (o == QLatin1String("null"))
            m_origins.append("null");
        else if (const QByteArray n = normaliseOrigin(o.toUtf8()); !n.isEmpty())
            m_origins.append(n);
    }
    for (const QString &h : allowedHosts) {
        if (h == QLatin1String("*"))
            m_anyHost = true;
        else
            m_hosts.append(h.toUtf8().toLower());
    }
}

bool AccessPolicy::splitAuthority(const QByteArray &authority, QByteArray *host, int *port)
{
    *port = -1;
    QByteArray h = authority.trimmed();
    QByteArray portText;
    if (h.startsWith('[')) {
        const qsizetype close = h.indexOf(']');
        if (close < 0)
            return false;
        const QByteArray rest = h.mid(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(':'))
                return false;
            portText = rest.mid(1);
        }
        h = h.mid(1, close - 1);
    } else if (const qsizetype colon = h.lastIndexOf(':'); colon >= 0) {
        if (h.indexOf(':') != colon)
            return false; // an IPv6 address must be bracketed
        portText = h.mid(colon + 1);
        h = h.left(colon);
    }
    if (!portText.isEmpty()) {
        bool ok = false;
        const uint p = portText.toUInt(&ok);
        if (!ok || p > 65535)
            return false;
        *port = int(p);
    }
    if (h.isEmpty())
        return false;
    for (const char c : h) {
        // A registered name, an IPv4 address or the inside of an IPv6 literal (RFC 3986 §3.2.2), nothing else.
        if (!(std::isalnum(uchar(c)) || c == '-' || c == '.' || c == '_' || c == ':' || c == '%'))
            return false;
    }
    *host = h.toLower();
    return true;
}

bool AccessPolicy::isLoopbackHost(const QByteArray &host)
{
    // A trailing dot names the same host (localhost. is localhost).
    const QByteArray h = host.endsWith('.') ? host.chopped(1) : host;
    if (h == "localhost" || h.endsWith(".localhost")) // RFC 6761 §6.3: always the loopback
        return true;
    QHostAddress address;
    if (!address.setAddress(QString::fromLatin1(h)))
        return false;
    // Only literal addresses: a name that resolves to 127.0.0.1 is exactly what DNS rebinding is.
    bool mapped = false;
    const QHostAddress v4(address.toIPv4Address(&mapped));
    return address.isLoopback() || (mapped && v4.isLoopback());
}

QByteArray AccessPolicy::normaliseOrigin(const QByteArray &origin)
{
    const qsizetype sep = origin.indexOf("://");
    if (sep <= 0)
        return {};
    const QByteArray scheme = origin.left(sep).toLower();
    for (const char c : scheme) {
        if (!(std::isalnum(uchar(c)) || c == '+' || c == '-' || c == '.'))
            return {};
    }
    QByteArray authority = origin.mid(sep + 3);
    if (authority.endsWith('/'))
        authority.chop(1); // "http://localhost:3000/" as typed on a command line
    if (authority.contains('/') || authority.contains('@') || authority.contains('?') || authority.contains('#'))
        return {};
    QByteArray host;
    int port = -1;
    if (!splitAuthority(authority, &host, &port))
        return {};
    if (port == defaultPort(scheme))
        port = -1;
    const QByteArray hostPart = host.contains(':') ? '[' + host + ']' : host;
    return scheme + "://" + hostPart + (port >= 0 ? ':' + QByteArray::number(port) : QByteArray());
}

bool AccessPolicy::isValidOriginOption(const QString &value, QString *error)
{
    if (value == QLatin1String("*") || value == QLatin1String("null") || !normaliseOrigin(value.toUtf8()).isEmpty())
        return true;
    *error = QStringLiteral("\"%1\" is not an origin; write it as scheme://host[:port] (e.g. http://192.168.1.5:3000), "
                            "null, or * for any")
                 .arg(value);
    return false;
}

AccessPolicy::Verdict AccessPolicy::check(
    const std::optional<QByteArray> &hostHeader, const std::optional<QByteArray> &originHeader) const
{
    Verdict v;
    // RFC 6455 §4.2.1 and RFC 9112 §3.2: a request without Host is malformed.
    if (!hostHeader) {
        v.status = 400;
        v.reason = "the Host header is required";
        return v;
    }
    QByteArray host;
    int port = -1;
    if (!splitAuthority(*hostHeader, &host, &port)) {
        v.status = 400;
        v.reason = "malformed Host header";
        return v;
    }
    if (m_loopbackListener && !isLoopbackHost(host) && !m_anyHost && !m_hosts.contains(host)) {
        v.status = 403;
        v.reason = "Host " + host.left(255)
            + " is not a loopback name: a server on a loopback address answers only to localhost, 127.0.0.1 or "
              "[::1] (a defence against DNS rebinding); allow it with --allow-host "
            + host.left(255);
        return v;
    }
    if (!originHeader)
        return v;
    const QByteArray origin = originHeader->trimmed();
    const QByteArray normalised = origin == "null" ? QByteArray("null") : normaliseOrigin(origin);
    QByteArray originHost;
    int originPort = -1;
    const qsizetype sep = normalised.indexOf("://");
    if (sep > 0 && splitAuthority(normalised.mid(sep + 3), &originHost, &originPort) && isLoopbackHost(originHost)) {
        v.admission = Admission::LoopbackOrigin;
        return v;
    }
    if (!normalised.isEmpty() && m_origins.contains(normalised)) {
        v.admission = Admission::ListedOrigin;
        return v;
    }
    if (m_anyOrigin) {
        v.admission = Admission::AnyOrigin;
        return v;
    }
    v.status = 403;
    v.reason = "Origin " + origin.left(255)
        + " is not allowed: a web page may connect only from a loopback origin (localhost, 127.0.0.1, [::1]) or "
          "from one listed with --allow-origin";
    return v;
}

} // namespace lark
