// SPDX-License-Identifier: MIT
// lark-interop-client: the C++ client SDK (lark::client) driven by line commands on stdin, so the interop
// tests can put it next to a Firebase JS SDK app on the same server.
//
//   lark-interop-client <ws://host:port> <namespace> [auth token]
//
// Commands (one per line; every command answers exactly one `ok [json]` or `error <status> <message>` line,
// in the order the commands were given):
//   set <path> <json>                 update <path> <json object>        remove <path>
//   ondisconnect-set <path> <json>    ondisconnect-update <path> <obj>   ondisconnect-remove <path>
//   ondisconnect-cancel <path>        get <path>  (ok <json>)            watch <path>
//   offline  online  session (ok {"connected":..,"resumed":..})
//   quit     a clean close (close frame), then exit 0
//   kill     exit at once without closing the socket (the kernel sends FIN, no WebSocket close frame)
// Unsolicited lines: `value <path> <json>` for every value a watch sees, `connected true|false`.
#include "client/database.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QTimer>

#include <cstdio>
#include <deque>
#include <memory>
#include <unistd.h>
#include <vector>

using namespace Qt::Literals::StringLiterals;
using lark::client::Error;

namespace
{

QString compact(const QJsonValue &v)
{
    // QJsonDocument only serialises objects and arrays: wrap the value and strip the brackets.
    const QByteArray a = QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(a.mid(1, a.size() - 2));
}

bool parseJson(const QString &text, QJsonValue *out)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(u"["_s.append(text).append(u']').toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isArray() || doc.array().size() != 1)
        return false;
    *out = doc.array().at(0);
    return true;
}

void emitLine(const QString &line)
{
    std::fputs(line.toUtf8().constData(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

/**
 * Answers arrive asynchronously but must come out in command order: each command takes a slot, and the
 * slots are printed from the front as soon as they are filled.
 */
class Replies
{
public:
    std::shared_ptr<QString> take()
    {
        m_slots.push_back(std::make_shared<QString>());
        return m_slots.back();
    }
    void fill(const std::shared_ptr<QString> &slot, const QString &text)
    {
        *slot = text;
        while (!m_slots.empty() && !m_slots.front()->isEmpty()) {
            emitLine(*m_slots.front());
            m_slots.pop_front();
        }
    }

private:
    std::deque<std::shared_ptr<QString>> m_slots;
};

QString describe(const Error &e)
{
    return e.isOk() ? u"ok"_s : u"error %1 %2"_s.arg(e.status(), e.message());
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 3) {
        std::fputs("usage: lark-interop-client <ws://host:port> <namespace> [auth token]\n", stderr);
        return 2;
    }
    lark::client::DatabaseOptions options;
    if (args.size() > 3)
        options.authToken = args.at(3);
    lark::client::Database db(QUrl(args.at(1)), args.at(2), options);
    QObject::connect(&db, &lark::client::Database::connectedChanged, &app,
        [](bool connected) { emitLine(connected ? u"connected true"_s : u"connected false"_s); });

    Replies replies;
    std::vector<lark::client::Subscription> watches; // for the whole run, as the driver never unwatches
    QByteArray input;
    bool quitting = false;

    const auto run = [&](const QString &line) {
        if (line.trimmed().isEmpty())
            return;
        const QString cmd = line.section(u' ', 0, 0);
        const QString path = line.section(u' ', 1, 1);
        const QString rest = line.section(u' ', 2);
        const auto slot = replies.take();
        const auto done = [&replies, slot](const Error &e) { replies.fill(slot, describe(e)); };
        QJsonValue value;
        const bool needsValue
            = cmd == u"set"_s || cmd == u"update"_s || cmd == u"ondisconnect-set"_s || cmd == u"ondisconnect-update"_s;
        const bool needsPath = needsValue || cmd == u"remove"_s || cmd.startsWith(u"ondisconnect-"_s) || cmd == u"get"_s
            || cmd == u"watch"_s;
        if (needsPath && path.isEmpty()) {
            replies.fill(slot, u"error usage missing path"_s);
            return;
        }
        if (needsValue && !parseJson(rest, &value)) {
            replies.fill(slot, u"error usage not JSON: %1"_s.arg(rest));
            return;
        }
        if ((cmd == u"update"_s || cmd == u"ondisconnect-update"_s) && !value.isObject()) {
            replies.fill(slot, u"error usage update needs an object"_s);
            return;
        }
        const lark::client::Reference ref = db.ref(path);
        if (cmd == u"set"_s) {
            ref.set(value, &db, done);
        } else if (cmd == u"update"_s) {
            ref.update(value.toObject(), &db, done);
        } else if (cmd == u"remove"_s) {
            ref.remove(&db, done);
        } else if (cmd == u"ondisconnect-set"_s) {
            ref.onDisconnect().set(value, &db, done);
        } else if (cmd == u"ondisconnect-update"_s) {
            ref.onDisconnect().update(value.toObject(), &db, done);
        } else if (cmd == u"ondisconnect-remove"_s) {
            ref.onDisconnect().remove(&db, done);
        } else if (cmd == u"ondisconnect-cancel"_s) {
            ref.onDisconnect().cancel(&db, done);
        } else if (cmd == u"get"_s) {
            ref.get(&db, [&replies, slot](const Error &e, const lark::client::DataSnapshot &snap) {
                replies.fill(slot, e.isOk() ? u"ok "_s + compact(snap.value()) : describe(e));
            });
        } else if (cmd == u"watch"_s) {
            watches.push_back(ref.on(
                lark::client::Event::Value, &db,
                [path](const lark::client::DataSnapshot &snap, const QString &) {
                    emitLine(u"value %1 %2"_s.arg(path, compact(snap.value())));
                },
                [path](const Error &e) { emitLine(u"cancelled %1 %2"_s.arg(path, e.toString())); }));
            replies.fill(slot, u"ok"_s);
        } else if (cmd == u"offline"_s) {
            db.goOffline();
            replies.fill(slot, u"ok"_s);
        } else if (cmd == u"online"_s) {
            db.goOnline();
            replies.fill(slot, u"ok"_s);
        } else if (cmd == u"session"_s) {
            replies.fill(slot,
                u"ok {\"connected\":%1,\"resumed\":%2}"_s.arg(
                    db.isConnected() ? u"true"_s : u"false"_s, db.lastConnectResumed() ? u"true"_s : u"false"_s));
        } else if (cmd == u"kill"_s) {
            std::fflush(stdout);
            ::_exit(0); // no close frame, no cleanup: the server sees the TCP connection end abnormally
        } else if (cmd == u"quit"_s) {
            quitting = true;
            db.goOffline();
            replies.fill(slot, u"ok"_s);
            // Let the close frame leave before the process ends.
            QTimer::singleShot(200, &app, &QCoreApplication::quit);
        } else {
            replies.fill(slot, u"error usage unknown command %1"_s.arg(cmd));
        }
    };

    QSocketNotifier stdinNotifier(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(&stdinNotifier, &QSocketNotifier::activated, &app, [&] {
        char buf[65536];
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) { // EOF: the driver went away; leave cleanly
            stdinNotifier.setEnabled(false);
            if (!quitting) {
                quitting = true;
                db.goOffline();
                QTimer::singleShot(200, &app, &QCoreApplication::quit);
            }
            return;
        }
        input.append(buf, n);
        qsizetype nl;
        while ((nl = input.indexOf('\n')) >= 0) {
            const QString line = QString::fromUtf8(input.left(nl)).trimmed();
            input.remove(0, nl + 1);
            if (!quitting)
                run(line);
        }
    });
    return app.exec();
}
