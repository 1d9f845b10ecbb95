// SPDX-License-Identifier: MIT
// libFuzzer target: importing a JSON file (lark-server --import, the dashboard's import), through
// Server::importJson, which reads the text with Node::fromJsonText and writes it as one batch. An input that starts
// with '/' names the import path on its first line (the dashboard imports at any path); the rest is the file.
//
// Checked: the import succeeds exactly when fromJsonText accepts the text (the same error otherwise); what was
// imported reads back at its path; the tree keeps the storage limits and round-trips through JSON text.

#include "db/database.h"
#include "fuzzcheck.h"
#include "server/server.h"

using namespace lark;
using namespace Qt::Literals::StringLiterals;

namespace
{
Server *server = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz::initQt(argc, argv);
    server = new Server(); // not listening: importJson needs no socket
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QByteArray json(reinterpret_cast<const char *>(data), qsizetype(size));
    Path path;
    if (json.startsWith('/')) {
        const qsizetype eol = json.indexOf('\n');
        QString error;
        if (eol < 0 || !Path::parse(QString::fromUtf8(json.left(eol)), &path, &error))
            return 0;
        json = json.mid(eol + 1);
    }
    Database *db = server->database(u"fuzz"_s);
    // Each input starts from an empty tree, so runs do not depend on each other.
    std::vector<Write> clear;
    clear.push_back({Path(), Node()});
    (void)db->write(Path(), std::move(clear), {WriteOrigin::Kind::Import, QString()});

    Node expected;
    QString parseError;
    const bool parsed = Node::fromJsonText(json, path, &expected, &parseError);
    QString importError;
    const bool imported = server->importJson(u"fuzz"_s, path, json, &importError);
    LARK_FUZZ_CHECK(parsed == imported, parseError + u" / "_s + importError);
    if (!imported) {
        LARK_FUZZ_CHECK(importError == parseError && !importError.isEmpty(), importError);
        LARK_FUZZ_CHECK(db->root().isNull(), QString());
        return 0;
    }
    LARK_FUZZ_CHECK(db->hashAt(path) == expected.hash(), path.toString());
    fuzz::checkTree(db->root(), Path());
    fuzz::checkRoundTrip(db->root());
    return 0;
}
