// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QStringList>

#include <optional>

namespace lark
{

/**
 * Who may connect (docs/semantics.md §7), decided from a request's `Host` and `Origin` headers before it is
 * upgraded (and, later, for the HTTP routes).
 *
 * A page in the developer's browser can open ws://127.0.0.1:9000 as easily as the app can, and through DNS
 * rebinding it can reach a loopback server under a name of its own. So: a request without `Origin` (native SDKs,
 * Node, curl) is allowed; a browser origin only when it is a loopback origin or listed; and on a loopback listener
 * `Host` must name a loopback host unless listed.
 */
class AccessPolicy
{
public:
    /** How a request was let in; the admin credential is accepted only without Origin, or from a named one. */
    enum class Admission {
        NoOrigin, /**< no Origin header: not a browser page */
        LoopbackOrigin, /**< a page served from this machine's loopback */
        ListedOrigin, /**< an origin named with --allow-origin */
        AnyOrigin, /**< let in only by --allow-origin '*' */
    };

    struct Verdict {
        int status = 0; /**< 0: allowed; else the HTTP status to refuse with (400, 403) */
        QByteArray reason; /**< for the refusal's body and the log */
        Admission admission = Admission::NoOrigin;
    };

    /** Origins as `scheme://host[:port]` (or `*`, or `null`); hosts as names or addresses, without a port (or `*`). */
    AccessPolicy(
        const QStringList &allowedOrigins = {}, const QStringList &allowedHosts = {}, bool loopbackListener = true);

    /** host and origin are the header values, std::nullopt when the header is absent. */
    [[nodiscard]] Verdict check(const std::optional<QByteArray> &host, const std::optional<QByteArray> &origin) const;

    /** Whether a `host[:port]` (an Origin's or a Host header's authority) names this machine's loopback. */
    [[nodiscard]] static bool isLoopbackHost(const QByteArray &hostWithoutPort);
    /** Splits `host[:port]` / `[v6]:port`; the host comes back lower-cased and without brackets. False if malformed. */
    static bool splitAuthority(const QByteArray &authority, QByteArray *host, int *port);
    /** An origin as `scheme://host[:port]`, lower-cased, without a default port; empty if it is not one. */
    [[nodiscard]] static QByteArray normaliseOrigin(const QByteArray &origin);

    /** Whether an option's value is a valid --allow-origin entry; false with a reason. */
    static bool isValidOriginOption(const QString &value, QString *error);

private:
    QList<QByteArray> m_origins; // normalised
    QList<QByteArray> m_hosts; // lower-cased
    bool m_anyOrigin = false;
    bool m_anyHost = false;
    bool m_loopbackListener = true;
};

} // namespace lark
