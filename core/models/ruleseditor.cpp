// SPDX-License-Identifier: MIT
#include "ruleseditor.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTime>
#include <QUrlQuery>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

RulesEditor::RulesEditor(QObject *parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
{
    // The dashboard's server is local or named by the user: a system proxy must not stand in between.
    m_network->setProxy(QNetworkProxy::NoProxy);
}

void RulesEditor::dropReply()
{
    if (!m_reply)
        return;
    m_reply->disconnect(this);
    m_reply->abort();
    m_reply->deleteLater();
    m_reply = nullptr;
}

void RulesEditor::setServer(const QUrl &serverUrl, const QString &adminToken)
{
    dropReply();
    m_server = serverUrl;
    m_adminToken = adminToken;
    m_source.clear();
    m_status = m_server.isValid() ? QString() : u"no server"_s;
    m_error.clear();
    m_errorLine = m_errorColumn = 0;
    Q_EMIT sourceChanged();
    Q_EMIT stateChanged();
}

QUrl RulesEditor::endpoint(bool dryRun) const
{
    QUrl url = m_server;
    url.setScheme(m_server.scheme() == u"wss"_s ? u"https"_s : u"http"_s);
    url.setPath(u"/.settings/rules.json"_s);
    QUrlQuery query;
    query.addQueryItem(u"ns"_s, m_ns);
    if (dryRun)
        query.addQueryItem(u"dryRun"_s, u"true"_s);
    url.setQuery(query);
    return url;
}

void RulesEditor::load(const QString &ns)
{
    m_ns = ns;
    send(Call::Load, {});
}

void RulesEditor::apply(const QString &text)
{
    send(Call::Apply, text);
}

void RulesEditor::check(const QString &text)
{
    send(Call::Check, text);
}

void RulesEditor::send(Call call, const QString &text)
{
    if (!m_server.isValid() || m_ns.isEmpty()) {
        fail(u"no server to send the rules to"_s);
        return;
    }
    dropReply(); // the newest request wins: an older answer must not overwrite what the user asked for since
    QNetworkRequest request(endpoint(call == Call::Check));
    request.setRawHeader("Authorization", "Bearer " + m_adminToken.toUtf8());
    request.setTransferTimeout(10000);
    if (call == Call::Load) {
        m_reply = m_network->get(request);
    } else {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        m_reply = m_network->put(request, text.toUtf8());
    }
    QNetworkReply *reply = m_reply;
    connect(reply, &QNetworkReply::finished, this, [this, call, reply, text] { finish(call, reply, text); });
    m_status = call == Call::Load ? u"loading…"_s : call == Call::Apply ? u"applying…"_s : u"checking…"_s;
    Q_EMIT stateChanged();
}

void RulesEditor::finish(Call call, QNetworkReply *reply, const QString &text)
{
    reply->deleteLater();
    m_reply = nullptr;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    if (status == 0) {
        fail(u"the server did not answer: %1"_s.arg(reply->errorString()));
        return;
    }
    if (status != 200) {
        const QString why = QJsonDocument::fromJson(body).object().value(u"error"_s).toString().trimmed();
        fail(why.isEmpty() ? u"HTTP %1"_s.arg(status) : why);
        return;
    }
    m_error.clear();
    m_errorLine = m_errorColumn = 0;
    const QString at = QTime::currentTime().toString(u"HH:mm:ss"_s);
    switch (call) {
    case Call::Load:
        m_source = QString::fromUtf8(body);
        m_status = u"loaded at %1"_s.arg(at);
        Q_EMIT sourceChanged();
        break;
    case Call::Apply:
        m_source = text;
        m_status = u"applied at %1"_s.arg(at);
        Q_EMIT sourceChanged();
        Q_EMIT applied();
        break;
    case Call::Check:
        m_status = u"the server would accept these rules (checked at %1)"_s.arg(at);
        break;
    }
    Q_EMIT stateChanged();
}

void RulesEditor::fail(const QString &error)
{
    static const QRegularExpression position(u"^(\\d+):(\\d+): "_s);
    const QRegularExpressionMatch m = position.match(error);
    m_error = error;
    m_errorLine = m.hasMatch() ? m.captured(1).toInt() : 0;
    m_errorColumn = m.hasMatch() ? m.captured(2).toInt() : 0;
    m_status = u"refused; the rules in force are unchanged"_s;
    Q_EMIT stateChanged();
}

QString RulesEditor::readFile(const QUrl &file)
{
    QFile f(file.isLocalFile() ? file.toLocalFile() : file.toString());
    if (!f.open(QIODevice::ReadOnly)) {
        fail(u"cannot read %1: %2"_s.arg(f.fileName(), f.errorString()));
        return {};
    }
    m_error.clear();
    m_errorLine = m_errorColumn = 0;
    m_status = u"%1 loaded into the editor; Apply to use it"_s.arg(f.fileName());
    Q_EMIT stateChanged();
    return QString::fromUtf8(f.readAll());
}

} // namespace lark::models
