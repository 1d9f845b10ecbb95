// SPDX-License-Identifier: MIT
// libFuzzer target: protocol::HttpRequestReader, the server's plain-HTTP input (the rules endpoint, REST next). Each
// input is read twice, in one piece and split at input-derived places the way ServerWebSocket feeds it (what feed()
// did not consume comes again in front of the next read); both must give the same requests, within the caps.
//
// Input: the first byte seeds the split points. The caps are small so the fuzzer reaches them.

#include "fuzzcheck.h"
#include "protocol/httpmessage.h"

#include <QByteArray>

#include <string>
#include <vector>

using namespace lark;
using protocol::HttpRequestReader;

namespace
{

constexpr qsizetype MaxHead = 600;
constexpr qsizetype MaxBody = 1000;

std::string read(const QByteArray &input, const std::vector<qsizetype> &cuts)
{
    HttpRequestReader reader({MaxHead, MaxBody});
    std::string log;
    QByteArray pending;
    qsizetype from = 0;
    for (qsizetype i = 0; i <= qsizetype(cuts.size()) && !reader.failed(); ++i) {
        const qsizetype to = i < qsizetype(cuts.size()) ? cuts[size_t(i)] : input.size();
        pending += input.mid(from, to - from);
        from = to;
        for (;;) {
            // A copy sized to fit, so AddressSanitizer sees any read past the bytes given.
            const std::vector<char> buffer(pending.cbegin(), pending.cend());
            const qsizetype used = reader.feed(buffer.data(), qsizetype(buffer.size()));
            LARK_FUZZ_CHECK(used >= 0 && used <= pending.size(), QString::number(used));
            pending.remove(0, used);
            if (reader.failed()) {
                const int status = reader.errorStatus();
                LARK_FUZZ_CHECK(status == 400 || status == 413 || status == 431, QString::number(status));
                LARK_FUZZ_CHECK(reader.feed("x", 1) == 0, QString()); // nothing is read after a failure
                log += "E" + std::to_string(status) + '\n';
                break;
            }
            if (!reader.hasRequest())
                break;
            const protocol::HttpRequest r = reader.takeRequest();
            LARK_FUZZ_CHECK(r.body.size() <= MaxBody, QString::number(r.body.size()));
            LARK_FUZZ_CHECK(r.target.size() <= MaxHead, QString::number(r.target.size()));
            LARK_FUZZ_CHECK(!r.method.isEmpty(), QString());
            const QByteArray serialized
                = protocol::HttpResponse::error(400, QString::fromUtf8(r.target)).serialize(true);
            LARK_FUZZ_CHECK(serialized.startsWith("HTTP/1.1 400 "), QString());
            log += "R" + r.method.toStdString() + ' ' + r.target.toStdString() + ' ' + std::to_string(r.headers.size())
                + ' ' + r.body.toHex().toStdString() + (r.keepAlive ? "" : " close") + '\n';
        }
    }
    return log;
}

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
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const std::string whole = read(input, {});
    const std::string pieces = read(input, fuzz::splitPoints(control, input.size()));
    LARK_FUZZ_CHECK(whole == pieces, QString::fromStdString("in one piece:\n" + whole + "\nin pieces:\n" + pieces));
    return 0;
}
