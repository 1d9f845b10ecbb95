// SPDX-License-Identifier: MIT
// A real redis-server (Debian's) for the tests: on a free loopback port, in a temporary folder, started and
// stopped by the test itself; never the machine's own Redis.
#pragma once

#include <QProcess>
#include <QRandomGenerator>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

class RedisServer
{
public:
    /** Extra redis-server options ("--appendfsync", "always", ...) after the test defaults. */
    explicit RedisServer(QStringList options = {})
        : m_options(std::move(options))
    {
        // Below the kernel's ephemeral range (32768-60999), where port 0 binds land: a test that stops and starts
        // its Redis again must not find the port taken by another test's server in between.
        for (int attempt = 0; attempt < 100 && m_port == 0; ++attempt) {
            const auto port = quint16(20000 + QRandomGenerator::global()->bounded(12000));
            QTcpServer probe;
            if (probe.listen(QHostAddress::LocalHost, port))
                m_port = port;
        }
    }
    ~RedisServer() { stop(); }

    quint16 port() const { return m_port; }
    bool isRunning() const { return m_process.state() == QProcess::Running; }

    /** Starts it (again: on the same port and folder, so an AOF from before is read back) and waits for PING. */
    bool start()
    {
        if (!m_dir.isValid() || m_port == 0)
            return false;
        QStringList args {u"--port"_qs, QString::number(m_port), u"--bind"_qs, u"127.0.0.1"_qs, u"--dir"_qs,
            m_dir.path(), u"--daemonize"_qs, u"no"_qs, u"--save"_qs, u""_qs, u"--appendonly"_qs, u"yes"_qs,
            u"--appendfsync"_qs, u"always"_qs, u"--maxmemory-policy"_qs, u"noeviction"_qs};
        args << m_options;
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.setStandardOutputFile(m_dir.filePath(u"redis.log"_qs), QIODevice::Append);
        m_process.start(u"redis-server"_qs, args);
        if (!m_process.waitForStarted(10000))
            return false;
        return QTest::qWaitFor([this] { return ping(); }, 10000);
    }
    /** SIGKILL: no shutdown, no final fsync; what was acknowledged with appendfsync always is on disk. */
    void kill()
    {
        m_process.kill();
        m_process.waitForFinished(10000);
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(10000))
            kill();
    }
    /** SIGSTOP / SIGCONT: a Redis that holds its connections and answers nothing. */
    void pause() { ::kill(pid_t(m_process.processId()), SIGSTOP); }
    void resume() { ::kill(pid_t(m_process.processId()), SIGCONT); }

private:
    // Up, and ours: another test's Redis may have taken the port while this one was stopped, so the answer must
    // come from this process (INFO's process_id), not from whoever listens there now.
    bool ping()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        if (!s.waitForConnected(500))
            return false;
        const qsizetype pass = m_options.indexOf(u"--requirepass"_qs);
        if (pass >= 0 && pass + 1 < m_options.size())
            s.write("AUTH " + m_options.at(pass + 1).toUtf8() + "\r\n");
        s.write("INFO server\r\n");
        QByteArray answer;
        while (!answer.contains("process_id:") || !answer.mid(answer.indexOf("process_id:")).contains("\r\n")) {
            if (!s.waitForReadyRead(500))
                return false;
            answer += s.readAll();
        }
        const QByteArray rest = answer.mid(answer.indexOf("process_id:") + 11);
        return rest.left(rest.indexOf("\r\n")).toLongLong() == m_process.processId();
    }

    QStringList m_options;
    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
};
