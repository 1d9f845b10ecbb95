// SPDX-License-Identifier: MIT
// libFuzzer target: protocol::WebSocketParser, the server's whole input side (handshake, then frames). Each input is
// parsed twice, once in one piece and once split at input-derived places the way ServerWebSocket feeds it (the bytes
// a feed() did not consume come again in front of the next read); both must give the same events. The events
// themselves must keep the protocol's promises (sizes, UTF-8, close codes), whatever the bytes.
//
// Input: the first byte picks the split points (its seed) and, in bit 0, whether a valid handshake goes in front,
// so most of the time goes to frames. The limits are small so the fuzzer reaches them.

#include "fuzzcheck.h"
#include "protocol/websocketparser.h"

#include <QByteArray>

#include <string>

using namespace lark;
using protocol::WebSocketParser;

namespace
{

constexpr qsizetype MaxMessage = 1000;
constexpr qsizetype MaxHandshake = 600;

class Recorder : public WebSocketParser::Handler
{
public:
    std::string log;

    bool onHandshake(const protocol::Handshake &h) override
    {
        LARK_FUZZ_CHECK(h.hasHost, QString());
        LARK_FUZZ_CHECK(h.target.startsWith('/'), QString::fromLatin1(h.target));
        LARK_FUZZ_CHECK(QByteArray::fromBase64(h.key).size() == 16, QString::fromLatin1(h.key));
        LARK_FUZZ_CHECK(protocol::handshakeResponse(h).startsWith("HTTP/1.1 101 "), QString());
        add("H",
            h.target + ' ' + h.host + ' ' + (h.hasOrigin ? h.origin : "-") + ' '
                + QByteArray::number(h.headers.size()));
        return true;
    }
    void onHandshakeRefused(const protocol::HandshakeRefusal &r) override
    {
        LARK_FUZZ_CHECK(r.status >= 400 && r.status < 500, QString::number(r.status));
        const QByteArray response = protocol::refusalResponse(r);
        LARK_FUZZ_CHECK(response.endsWith(r.reason + '\n'), QString());
        add("R", QByteArray::number(r.status) + ' ' + r.reason);
    }
    bool onTextMessage(const QByteArray &utf8) override
    {
        LARK_FUZZ_CHECK(utf8.size() <= MaxMessage, QString::number(utf8.size()));
        LARK_FUZZ_CHECK(QByteArrayView(utf8).isValidUtf8(), QString());
        add("T", utf8);
        return true;
    }
    bool onBinaryMessage(const QByteArray &payload) override
    {
        LARK_FUZZ_CHECK(payload.size() <= MaxMessage, QString::number(payload.size()));
        add("B", payload);
        return true;
    }
    bool onPing(QByteArrayView payload) override
    {
        LARK_FUZZ_CHECK(payload.size() <= 125, QString::number(payload.size()));
        add("P", payload.toByteArray());
        return true;
    }
    bool onPong(QByteArrayView payload) override
    {
        LARK_FUZZ_CHECK(payload.size() <= 125, QString::number(payload.size()));
        add("O", payload.toByteArray());
        return true;
    }
    void onClose(quint16 code, QByteArrayView reason) override
    {
        LARK_FUZZ_CHECK(code == 1005 || WebSocketParser::isValidCloseCode(code), QString::number(code));
        LARK_FUZZ_CHECK(code != 1005 || reason.isEmpty(), QString());
        LARK_FUZZ_CHECK(reason.size() <= 123 && reason.isValidUtf8(), QString());
        add("C", QByteArray::number(code) + ' ' + reason.toByteArray());
    }
    void onProtocolError(QWebSocketProtocol::CloseCode code, const QString &reason) override
    {
        LARK_FUZZ_CHECK(code == 1002 || code == 1007 || code == 1009, QString::number(code));
        add("E", QByteArray::number(int(code)) + ' ' + reason.toUtf8());
    }

private:
    void add(const char *kind, const QByteArray &detail)
    {
        log += kind;
        log.append(detail.constData(), size_t(detail.size()));
        log += '\n';
    }
};

/** Feeds input in pieces (ends at the given offsets) as ServerWebSocket does; returns the events. */
std::string parse(const QByteArray &input, const std::vector<qsizetype> &cuts)
{
    Recorder recorder;
    WebSocketParser parser({MaxMessage, MaxHandshake}, &recorder);
    QByteArray pending; // what feed() did not consume yet
    qsizetype from = 0;
    for (qsizetype i = 0; i <= qsizetype(cuts.size()); ++i) {
        const qsizetype to = i < qsizetype(cuts.size()) ? cuts[size_t(i)] : input.size();
        pending += input.mid(from, to - from);
        from = to;
        const auto state = parser.state();
        if (state == WebSocketParser::State::Closed || state == WebSocketParser::State::Failed)
            break;
        // A copy sized to fit, so AddressSanitizer sees any read past the bytes given.
        std::vector<char> buffer(pending.cbegin(), pending.cend());
        const qsizetype used = parser.feed(buffer.data(), qsizetype(buffer.size()));
        LARK_FUZZ_CHECK(used >= 0 && used <= pending.size(), QString::number(used));
        pending = QByteArray(buffer.data() + used, qsizetype(buffer.size()) - used);
    }
    return recorder.log;
}

const QByteArray Handshake = "GET /.ws?v=5&ns=fuzz HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n";

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz::initQt(argc, argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const quint8 control = data[0];
    QByteArray input = QByteArray(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    if (control & 1)
        input.prepend(Handshake);
    const std::string whole = parse(input, {});
    const std::string pieces = parse(input, fuzz::splitPoints(control, input.size()));
    LARK_FUZZ_CHECK(whole == pieces, QString::fromStdString("in one piece:\n" + whole + "\nin pieces:\n" + pieces));
    return 0;
}
