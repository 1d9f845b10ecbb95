// SPDX-License-Identifier: MIT
#include "identity.h"

#include <QJsonDocument>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

QString Identity::describe() const
{
    switch (kind) {
    case Kind::Anonymous:
        return u"anonymous"_s;
    case Kind::Admin:
        return u"admin"_s;
    case Kind::User:
        return u"user:"_s + uid;
    }
    return {};
}

QJsonObject Identity::toAuthJson() const
{
    return {{u"uid"_s, uid}, {u"provider"_s, provider}, {u"token"_s, claims}};
}

bool Identity::fromJwt(const QString &token, Identity *out, QString *error)
{
    const auto parts = QStringView(token).split(u'.');
    if (parts.size() != 3) {
        *error = u"credential is not a JWT"_s;
        return false;
    }
    const auto decoded = QByteArray::fromBase64Encoding(
        parts[1].toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded) {
        *error = u"JWT payload is not base64url"_s;
        return false;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(*decoded, &pe);
    if (!doc.isObject()) {
        *error = u"JWT payload is not a JSON object"_s;
        return false;
    }
    return fromClaims(doc.object(), out, error);
}

bool Identity::fromClaims(const QJsonObject &claims, Identity *out, QString *error)
{
    QString uid = claims.value(u"user_id"_s).toString();
    if (uid.isEmpty())
        uid = claims.value(u"sub"_s).toString();
    if (uid.isEmpty()) {
        *error = u"JWT has no sub or user_id claim"_s;
        return false;
    }
    Identity id;
    id.kind = Kind::User; // admin is only the Admin SDK's "owner", never a claim a client can mint
    id.uid = uid;
    id.provider = claims.value(u"firebase"_s).toObject().value(u"sign_in_provider"_s).toString(u"custom"_s);
    id.claims = claims;
    id.authCache = id.toAuthJson();
    *out = std::move(id);
    return true;
}

} // namespace lark
