// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QString>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

namespace lark::models
{

/**
 * The Rules panel's model: one namespace's security rules on the dashboard's server, read and replaced through the
 * server's own endpoint (GET and PUT /.settings/rules.json, docs/rules.md §1) with the admin credential. Host and
 * connect mode go the same way, so the panel shows what any other client of the server would get. A refused file
 * leaves the rules in force; its line and column come back for the editor to point at.
 */
class RulesEditor : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString namespaceName READ namespaceName NOTIFY stateChanged)
    Q_PROPERTY(QString source READ source NOTIFY sourceChanged)
    Q_PROPERTY(bool available READ isAvailable NOTIFY stateChanged)
    Q_PROPERTY(bool busy READ isBusy NOTIFY stateChanged)
    Q_PROPERTY(QString status READ status NOTIFY stateChanged)
    Q_PROPERTY(QString error READ error NOTIFY stateChanged)
    Q_PROPERTY(int errorLine READ errorLine NOTIFY stateChanged)
    Q_PROPERTY(int errorColumn READ errorColumn NOTIFY stateChanged)
public:
    explicit RulesEditor(QObject *parent = nullptr);

    /** The server (its ws:// URL, empty for none) and the admin credential; forgets what was loaded. */
    void setServer(const QUrl &serverUrl, const QString &adminToken);

    [[nodiscard]] const QString &namespaceName() const { return m_ns; }
    /** The rules in force in namespaceName(), byte for byte as the server keeps them. */
    [[nodiscard]] const QString &source() const { return m_source; }
    [[nodiscard]] bool isAvailable() const { return m_server.isValid(); }
    /** A request is on its way. */
    [[nodiscard]] bool isBusy() const { return m_reply != nullptr; }
    /** What happened last, in words ("applied at 12:01:02"). */
    [[nodiscard]] const QString &status() const { return m_status; }
    /** Why the last request failed ("3:14: Expression must evaluate to a boolean."), or empty. */
    [[nodiscard]] const QString &error() const { return m_error; }
    /** Where error() points in the text sent, 1-based; 0 when it has no position. */
    [[nodiscard]] int errorLine() const { return m_errorLine; }
    [[nodiscard]] int errorColumn() const { return m_errorColumn; }

    /** Reads ns's rules from the server (source() when they arrive). */
    Q_INVOKABLE void load(const QString &ns);
    /** Replaces namespaceName()'s rules with text; on success source() is text. */
    Q_INVOKABLE void apply(const QString &text);
    /** Asks the server whether text would load (?dryRun=true), installing nothing. */
    Q_INVOKABLE void check(const QString &text);
    /** A rules file's text for the editor (nothing is applied), or empty with error() saying why. */
    Q_INVOKABLE QString readFile(const QUrl &file);

Q_SIGNALS:
    void sourceChanged();
    void stateChanged();
    /** apply() succeeded. */
    void applied();

private:
    enum class Call { Load, Apply, Check };
    /** Forgets the request on its way, if any: its answer is never looked at. */
    void dropReply();
    void send(Call call, const QString &text);
    void finish(Call call, QNetworkReply *reply, const QString &text);
    void fail(const QString &error);
    [[nodiscard]] QUrl endpoint(bool dryRun) const;

    QNetworkAccessManager *m_network;
    QNetworkReply *m_reply = nullptr;
    QUrl m_server;
    QString m_adminToken;
    QString m_ns;
    QString m_source;
    QString m_status;
    QString m_error;
    int m_errorLine = 0;
    int m_errorColumn = 0;
};

} // namespace lark::models
