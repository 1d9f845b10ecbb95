// SPDX-License-Identifier: MIT
// The security rules engine against its specification, docs/rules.md (cited as §N below): loading
// (dialect, type check, positions), path matching, reads, writes and updates, the expression language, query
// variables, the docs' own examples with their verdicts, and what a denial reports. The expected results come from
// the document, not from the engine.
#include "testvalues.h"

#include "rules/ruleset.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;
using namespace lark::rules;

class TestRules : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void loadAccepted_data();
    void loadAccepted();
    void loadRefused_data();
    void loadRefused();
    void sourceAndStrictJson();
    void openRuleset();
    void indexOn_data();
    void indexOn();
    void reads_data();
    void reads();
    void writes_data();
    void writes();
    void expressions_data();
    void expressions();
    void denials_data();
    void denials();
    void evaluationStepCap();
    void authUidBesideAuth();
};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------
namespace
{

/** One instant for every request of the test: `now` in the rules, and the value ServerValue.TIMESTAMP resolves to. */
constexpr qint64 Now = 1700000000000;

const char *const Anon = "null";
const char *const Alice = R"J({"uid":"alice","provider":"custom","token":{"sub":"alice","user_id":"alice",
    "email":"alice@example.com","email_verified":true,"level":3,
    "firebase":{"sign_in_provider":"custom","identities":{}}}})J";
const char *const Bob = R"J({"uid":"bob","provider":"custom","token":{"sub":"bob","user_id":"bob",
    "firebase":{"sign_in_provider":"custom","identities":{}}}})J";
/** §10.15: claims set to true, and the same claims as the string "true". */
const char *const Towel
    = R"J({"uid":"carol","provider":"custom","token":{"sub":"carol","hasEmergencyTowel":true,"isAdmin":true}})J";
const char *const TowelString
    = R"J({"uid":"dave","provider":"custom","token":{"sub":"dave","hasEmergencyTowel":"true","isAdmin":"true"}})J";

/** The tree the one-line expressions of expressions() see as `root` and `data`. */
const char *const Fixture = R"J({"s":"hello","t":"HeLLo","n":5,"f":1.5,"z":0,"b":true,"o":{"x":1,"y":"two"},
    "p":{".value":"pv",".priority":7},"users":{"alice":{"name":"Alice"}}})J";

QString str(const char *s)
{
    return QString::fromUtf8(s);
}

Node nodeOf(const QJsonValue &v)
{
    Node n;
    QString error;
    if (!Node::fromJson(v, &n, &error))
        qFatal("bad test node: %s", qPrintable(error));
    return n;
}

Context context(const QString &authJson)
{
    Context c;
    c.auth = json(authJson);
    c.now = Now;
    return c;
}

/** A wire `q` object (docs/wire-protocol.md §9); empty text: a plain read. */
Query queryOf(const QString &text)
{
    Query q;
    if (text.isEmpty())
        return q;
    QString error;
    if (!Query::fromWire(json(text).toObject(), &q, &error))
        qFatal("bad test query %s: %s", qPrintable(text), qPrintable(error));
    return q;
}

/** A set: one write at the empty relative path. An update: one write per key, relative to base, null deletes. */
std::vector<Write> writesOf(const Path &base, const QString &op, const QString &value)
{
    std::vector<Write> writes;
    if (op == "set"_L1) {
        writes.push_back(Write {Path(), nodeOf(json(value))});
        return writes;
    }
    const QJsonObject map = json(value).toObject();
    for (auto it = map.begin(); it != map.end(); ++it) {
        Path rel;
        QString error;
        if (!Path::parseRelative(base, it.key(), &rel, &error))
            qFatal("bad test update key %s: %s", qPrintable(it.key()), qPrintable(error));
        writes.push_back(Write {rel, nodeOf(it.value())});
    }
    return writes;
}

/** {"rules": ...} with one rule of kind holding expr, at the node `under` ("" for the root, e.g. "a/$id"). */
QString exprSource(const char *kind, const char *expr, const char *under = "")
{
    QJsonObject node {{QString::fromUtf8(kind), QString::fromUtf8(expr)}};
    const QStringList keys = QString::fromUtf8(under).split(u'/', Qt::SkipEmptyParts);
    for (auto it = keys.rbegin(); it != keys.rend(); ++it)
        node = QJsonObject {{*it, node}};
    return QString::fromUtf8(QJsonDocument(QJsonObject {{u"rules"_s, node}}).toJson(QJsonDocument::Compact));
}

std::shared_ptr<const Ruleset> compile(const QString &source, QString *error, const Limits &limits = {})
{
    LoadError e;
    auto rules = Ruleset::compile(source.toUtf8(), &e, limits);
    if (!rules && error)
        *error = e.toString();
    return rules;
}

QString verdict(bool allowed, const Denial &why)
{
    return allowed ? u"allowed"_s : QString(u"denied: "_s + why.message);
}

// Row builders, so the tables below read as one line per case.

void accept(const char *name, const QString &source, int limit = 0)
{
    QTest::newRow(name) << source << limit;
}

void acceptExpr(const char *name, const char *kind, const char *expr, const char *under = "")
{
    accept(name, exprSource(kind, expr, under));
}

/** line/column 0: not checked (only unambiguous positions are). */
void refuse(const char *name, const QString &source, const char *message, int line = 0, int column = 0, int limit = 0)
{
    QTest::newRow(name) << source << limit << str(message) << line << column;
}

void refuseExpr(const char *name, const char *kind, const char *expr, const char *message, const char *under = "")
{
    refuse(name, exprSource(kind, expr, under), message);
}

void readRow(const char *name, const char *rules, const char *tree, const char *auth, const char *path,
    const char *query, bool allowed)
{
    QTest::newRow(name) << str(rules) << str(tree) << str(auth) << str(path) << str(query) << allowed;
}

void setRow(const char *name, const char *rules, const char *tree, const char *auth, const char *path,
    const char *value, bool allowed)
{
    QTest::newRow(name) << str(rules) << str(tree) << str(auth) << str(path) << u"set"_s << str(value) << allowed;
}

void updateRow(const char *name, const char *rules, const char *tree, const char *auth, const char *path,
    const char *map, bool allowed)
{
    QTest::newRow(name) << str(rules) << str(tree) << str(auth) << str(path) << u"update"_s << str(map) << allowed;
}

/** A `.read` at the root holding expr, read at "/" over Fixture. */
void ex(const char *name, const char *expr, bool allowed, const char *auth = Alice)
{
    QTest::newRow(name) << u".read"_s << str(expr) << str(auth) << u"null"_s << allowed;
}

/** A `.write` (or `.validate` beside `.write: true`) at the root holding expr; a set of value at "/" over Fixture. */
void exw(const char *name, const char *kind, const char *expr, const char *value, bool allowed)
{
    QTest::newRow(name) << str(kind) << str(expr) << str(Alice) << str(value) << allowed;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// Loading: §2 dialect, node keys, the type check's accepted list; §9 the source cap
// ---------------------------------------------------------------------------------------------------------------
void TestRules::loadAccepted_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("limit"); // Limits::maxSourceBytes; 0: the default

    // §2 dialect: accepted.
    accept("dialect: line comment", uR"J(// header
{"rules": {".read": true}})J"_s);
    accept("dialect: block comment between tokens", uR"J({/* a */"rules"/* b */:/* c */{".read"/**/:true}/* d */})J"_s);
    accept("dialect: line comment after a value", uR"J({"rules": {".read": true, // ok
  ".write": false}})J"_s);
    accept("dialect: trailing comma in object", uR"J({"rules": {".read": true,},})J"_s);
    accept("dialect: trailing comma in array", uR"J({"rules": {".indexOn": ["a","b",]}})J"_s);
    accept("dialect: raw LF inside a rule string", u"{\"rules\": {\".read\": \"true &&\n true\"}}"_s);
    accept("dialect: raw CRLF inside a rule string", u"{\"rules\": {\".read\": \"true &&\r\n true\"}}"_s);
    accept("dialect: raw tab inside a rule string", u"{\"rules\": {\".read\": \"true\t&& true\"}}"_s);
    accept("dialect: CRLF line endings", u"{\r\n  \"rules\": {\r\n    \".read\": true\r\n  }\r\n}\r\n"_s);

    // §2 node keys.
    accept("keys: empty rules", uR"J({"rules": {}})J"_s);
    accept("keys: boolean rules", uR"J({"rules": {".read": true, ".write": false, ".validate": true}})J"_s);
    accept("keys: indexOn string", uR"J({"rules": {"a": {".indexOn": "b"}}})J"_s);
    accept("keys: indexOn array", uR"J({"rules": {"a": {".indexOn": ["b", ".value"]}}})J"_s);
    accept("keys: nested wildcards, distinct names", uR"J({"rules": {"$a": {"$b": {".read": "$a == $b"}}}})J"_s);
    accept(
        "keys: literal beside wildcard", uR"J({"rules": {"x": {"lit": {".read": true}, "$w": {".read": false}}}})J"_s);
    accept("keys: same $name in sibling branches",
        uR"J({"rules": {"a": {"$id": {".read": "$id == 'x'"}}, "b": {"$id": {".read": "$id == 'y'"}}}})J"_s);
    accept("keys: $var used deeper", uR"J({"rules": {"u": {"$uid": {"p": {"q": {".read": "$uid == auth.uid"}}}}}})J"_s);

    // §2 type check: the accepted list.
    acceptExpr("type ok: auth.foo == 1", ".read", "auth.foo == 1");
    acceptExpr("type ok: auth['uid']", ".read", "auth['uid'] == 'alice'");
    acceptExpr("type ok: token subscripts", ".read", "auth.token['firebase']['sign_in_provider'] == 'custom'");
    acceptExpr("type ok: auth.foo[$bar]", ".read", "auth.foo[$bar] == 1", "$bar");
    acceptExpr("type ok: root[\"exists\"]()", ".read", "root[\"exists\"]()");
    acceptExpr("type ok: $id.length", ".read", "$id.length > 0", "$id");
    acceptExpr("type ok: $id.beginsWith", ".read", "$id.beginsWith('a')", "$id");
    acceptExpr("type ok: newData.val().length", ".write", "newData.val().length > 0");
    acceptExpr("type ok: newData.val().contains", ".write", "newData.val().contains('a')");
    acceptExpr("type ok: data.child(newData.val())", ".write", "data.child(newData.val()).exists()");
    acceptExpr("type ok: data.child(auth.uid)", ".read", "data.child(auth.uid).exists()");
    acceptExpr("type ok: root.child('a/' + $id)", ".read", "root.child('a/' + $id).exists()", "$id");
    acceptExpr("type ok: child('.')", ".read", "data.child('.').exists()");
    acceptExpr("type ok: child('..')", ".read", "data.child('..').exists()");
    acceptExpr("type ok: hasChildren()", ".read", "data.hasChildren()");
    acceptExpr("type ok: hasChildren([])", ".read", "data.hasChildren([])");
    acceptExpr("type ok: query in .write", ".write", "query.orderByKey == true || query.limitToFirst == null");
    acceptExpr("type ok: now in .read", ".read", "now > 0");
    acceptExpr("type ok: root in .validate", ".validate", "root.exists()");
    acceptExpr("type ok: 'true' literal", ".read", "true");
    acceptExpr("type ok: 'false' literal", ".write", "false");
    acceptExpr("type ok: newData in .validate", ".validate", "newData.isString()");
    acceptExpr("type ok: ternary of booleans", ".read", "auth != null ? auth.uid == 'a' : false");
    acceptExpr("type ok: regex with i flag", ".read", "auth.uid.matches(/^a/i)");
    acceptExpr("type ok: regex brace without escape", ".read", "auth.uid.matches(/\\{foo}/)");
    acceptExpr("type ok: $n === 5 loads (always false)", ".read", "$n === 5", "$n");

    // §9: the source cap is a maximum, not a bound that must be undercut.
    const QString small = uR"J({"rules":{".read":true}})J"_s;
    accept("limit: source exactly at the cap", small, int(small.toUtf8().size()));
}

void TestRules::loadAccepted()
{
    QFETCH(QString, source);
    QFETCH(int, limit);
    Limits limits;
    if (limit > 0)
        limits.maxSourceBytes = limit;
    QString error;
    const auto rules = compile(source, &error, limits);
    QVERIFY2(rules, qPrintable(error));
    QCOMPARE(rules->source(), source.toUtf8());
    QJsonParseError pe;
    QJsonDocument::fromJson(rules->strictJson(), &pe);
    QCOMPARE(pe.error, QJsonParseError::NoError);
}

// ---------------------------------------------------------------------------------------------------------------
// Refusals: §1 (400 body "L:C: message"), §2 dialect, node keys and every row of the type-check table, §6 regexes,
// §9 the source cap
// ---------------------------------------------------------------------------------------------------------------
void TestRules::loadRefused_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("limit");
    QTest::addColumn<QString>("message"); // a substring of LoadError::message; empty: any
    QTest::addColumn<int>("line"); // 0: not checked
    QTest::addColumn<int>("column");

    // §2 dialect: refused, with positions where the offending character is unambiguous.
    refuse("dialect: backslash-newline in a string", u"{\"rules\": {\".read\": \"true && \\\n true\"}}"_s,
        "Invalid escape");
    refuse("dialect: doubled comma", uR"J({"rules":{".read":true,,".write":true}})J"_s, "Expected '\"'.", 1, 24);
    refuse("dialect: leading comma", uR"J({"rules":{,".read":true}})J"_s, "Unexpected ','.", 1, 11);
    refuse("dialect: leading comma on line 3", u"{\n  \"rules\": {\n    , \".read\": true\n  }\n}\n"_s,
        "Unexpected ','.", 3, 5);
    refuse("dialect: not JSON at all", u"rules = true"_s, "", 1, 1);
    refuse("dialect: unterminated object", uR"J({"rules": {".read": true})J"_s, "");
    refuse("dialect: unterminated block comment", uR"J({"rules": {".read": true}} /* never closed)J"_s, "");

    // §2 the file and node keys.
    refuse("file: top level is an array", uR"J([{"rules": {}}])J"_s, "");
    refuse("file: no rules key", uR"J({})J"_s, "");
    refuse("file: another top-level key", uR"J({"rules": {}, "other": 1})J"_s, "");
    refuse("keys: unknown .key", uR"J({"rules": {"a": {".foo": true}}})J"_s, "");
    refuse("keys: two wildcards at one level", uR"J({"rules": {"a": {"$x": {".read": true}, "$y": {}}}})J"_s, "");
    refuse("keys: same $name twice on a path", uR"J({"rules": {"$x": {"$x": {".read": true}}}})J"_s, "");
    refuse("keys: child name with #", uR"J({"rules": {"a#b": {".read": true}}})J"_s, "Key names can't contain");
    refuse("keys: child name with [", uR"J({"rules": {"a[0]": {".read": true}}})J"_s, "Key names can't contain");
    refuse("keys: .read holds a number", uR"J({"rules": {".read": 1}})J"_s, "");
    refuse("keys: .write holds an object", uR"J({"rules": {".write": {"a": true}}})J"_s, "");
    refuse("keys: .indexOn holds a number", uR"J({"rules": {"a": {".indexOn": 5}}})J"_s, "");
    refuse("keys: .indexOn array of non-strings", uR"J({"rules": {"a": {".indexOn": [1]}}})J"_s, "");
    refuse("keys: empty expression", uR"J({"rules": {".read": ""}})J"_s, "");

    // §2 type check, row by row.
    const char *const notBool = "Expression must evaluate to a boolean.";
    refuseExpr("bool: auth.uid", ".read", "auth.uid", notBool);
    refuseExpr("bool: 1", ".read", "1", notBool);
    refuseExpr("bool: 'a'", ".read", "'a'", notBool);
    refuseExpr("bool: null", ".read", "null", notBool);
    refuseExpr("bool: data", ".read", "data", notBool);
    refuseExpr("bool: data.val()", ".read", "data.val()", notBool);
    refuseExpr("bool: now + 1", ".read", "now + 1", notBool);
    refuseExpr("bool: ternary of numbers", ".read", "auth != null ? 1 : 2", notBool);
    refuseExpr("bool: auth.token.admin", ".read", "auth.token.admin", notBool);
    refuseExpr("bool: regex", ".read", "/a/", notBool);
    refuseExpr("bool: in .write too", ".write", "newData.val()", notBool);
    refuseExpr("bool: in .validate too", ".validate", "newData.val()", notBool);

    refuseExpr("!: on auth.uid", ".read", "!auth.uid", "! only operates on booleans.");
    refuseExpr("&&: left not boolean", ".read", "auth.uid && true", "Left operand of && must be boolean.");
    refuseExpr("||: right not boolean", ".read", "true || 1", "Right operand of || must be boolean.");

    refuseExpr("newData in .read", ".read", "newData.exists()", "newData is invalid in .read expressions.");
    refuseExpr("unknown $var", ".read", "$other == auth.uid", "Unknown variable '$other'.");
    refuseExpr("unknown $var in a literal branch", ".read", "$other == 'x'", "Unknown variable '$other'.", "a/b");
    refuse("unknown $var of a sibling branch",
        uR"J({"rules": {"a": {"$x": {".read": true}}, "b": {".read": "$x == 'a'"}}})J"_s, "Unknown variable '$x'.");
    refuse("unknown $var declared below", uR"J({"rules": {"a": {".read": "$x == 'a'", "$x": {".read": true}}}})J"_s,
        "Unknown variable '$x'.");
    refuseExpr("unknown identifier", ".read", "foo == 1", "Unknown variable 'foo'.");

    refuseExpr("property: data.foo", ".read", "data.foo == 1", "No such method/property 'foo'.");
    refuseExpr("property: newData.val().foo", ".write", "newData.val().foo == 1", "No such method/property 'foo'.");
    refuseExpr("property: newData.val()['kind']", ".write", "newData.val()['kind'] == 'a'", "No such method/property");
    refuseExpr("property: $id.val()", ".read", "$id.val() == 'a'", "No such method/property", "$id");
    refuseExpr("property: query.foo", ".read", "query.foo == 1", "No such method/property 'foo'.");
    refuseExpr("property: data.contains", ".read", "data.contains('a')", "No such method/property");

    const char *const badEq = "Invalid == expression: left operand is not a number, boolean, string, null.";
    refuseExpr("==: method without call", ".read", "data.exists == true", badEq);
    // `!=` and `!==` are one operator, reported as `!=` (§2), as `==` and `===` are reported as `==`.
    const char *const badNe = "Invalid != expression: left operand is not a number, boolean, string, null.";
    refuseExpr("!=: snapshot with null", ".read", "root.child('foo') != null", badNe);
    refuseExpr("!==: reported as !=", ".read", "root.child('foo') !== null", badNe);
    refuseExpr("==: snapshot with snapshot", ".read", "data == data", badEq);
    refuseExpr("===: reported as ==", ".read", "data === data", badEq);

    refuseExpr("+: snapshot operand", ".read", "(data + 'a') == 'a'",
        "Invalid + expression: left operand is not a number or string.");
    refuseExpr("-: snapshot operand", ".read", "data - 1 == 0", "Invalid - expression: left operand is not a number.");
    refuseExpr(
        "<: snapshot operand", ".read", "data < 1", "Invalid < expression: left operand must be a number or string.");

    const char *const notFunction = "Type error: Function call on target that is not a function.";
    refuseExpr("call: length()", ".read", "auth.uid.length() > 0", notFunction);
    refuseExpr("call: auth.exists()", ".read", "auth.exists()", notFunction);
    refuseExpr("call: auth.token.exists()", ".read", "auth.token.exists()", notFunction);
    refuseExpr("call: auth.uid.foo()", ".read", "auth.uid.foo()", notFunction);
    refuseExpr("call: $id.length()", ".read", "$id.length() > 0", "", "$id");

    refuseExpr("now: property", ".read", "now.foo == 1", "Invalid property access: target is not an object.");
    refuseExpr("now: method", ".read", "now.val() == 1", "Invalid property access: target is not an object.");

    refuseExpr("arity: child()", ".read", "data.child().exists()", "child() expects 1 argument.");
    refuseExpr("arity: child(1)", ".read", "data.child(1).exists()", "child() expects a string argument.");
    refuseExpr("arity: exists(1)", ".read", "data.exists(1)", "exists() expects no arguments.");
    refuseExpr("arity: val('a')", ".read", "data.val('a') == 1", "val()");
    refuseExpr("arity: parent('a')", ".read", "data.parent('a').exists()", "parent()");
    refuseExpr("arity: hasChild()", ".read", "data.hasChild()", "hasChild()");
    refuseExpr("arity: child('a', 'b')", ".read", "data.child('a', 'b').exists()", "child() expects 1 argument.");

    refuseExpr("hasChildren: two strings", ".read", "data.hasChildren('a', 'b')", "hasChildren() expects");
    refuseExpr("hasChildren: one string", ".read", "data.hasChildren('a')", "hasChildren() expects");
    refuseExpr("hasChildren: array with a number", ".read", "data.hasChildren(['a', 7])", "an array of strings.");
    refuseExpr("hasChildren: two arrays", ".read", "data.hasChildren(['a'], ['b'])", "hasChildren() expects");

    refuseExpr("string: beginsWith(1)", ".read", "$id.beginsWith(1)", "beginsWith() expects a string argument.", "$id");
    refuseExpr("string: contains(null)", ".read", "$id.contains(null)", "contains() expects a string argument.", "$id");
    refuseExpr("string: endsWith(true)", ".read", "$id.endsWith(true)", "endsWith() expects a string argument.", "$id");
    refuseExpr(
        "string: replace one argument", ".read", "$id.replace('a') == 'b'", "replace() expects two arguments.", "$id");
    refuseExpr("string: replace(regex, s)", ".read", "$id.replace(/a/, 'b') == 'b'",
        "Argument 1 of replace() must be a string.", "$id");
    refuseExpr(
        "string: replace(s, number)", ".read", "$id.replace('a', 1) == 'b'", "of replace() must be a string.", "$id");

    const char *const regexArg = "matches() expects a regular expression literal argument.";
    refuseExpr("regex: string argument", ".read", "$id.matches('a')", regexArg, "$id");
    refuseExpr("regex: slashes in a string", ".read", "$id.matches('/a/')", regexArg, "$id");
    refuseExpr(
        "regex: g flag", ".read", "$id.matches(/a/g)", "regular expressions do not support flags other than i", "$id");
    refuseExpr("regex: unterminated", ".read", "$id.matches(/[a/)", "unterminated regular expression literal", "$id");
    refuseExpr("regex: ^ not first", ".read", "$id.matches(/(^foo$|bar)/)", "", "$id");
    refuseExpr("regex: $ not last", ".read", "$id.matches(/^(foo|)$/)", "", "$id");

    refuseExpr("regex: $ in the middle", ".read", "$id.matches(/a$b/)", "", "$id");
    refuseExpr("regex: ^ in the middle", ".read", "$id.matches(/a^b/)", "", "$id");
    refuseExpr("array: outside hasChildren", ".read", "['a'] == 'a'", "Unexpected array literal.");

    refuseExpr("js: var", ".read", "var x = 8", "");
    refuseExpr("js: assignment", ".read", "root = 5", "");
    refuseExpr("js: sequence", ".read", "true; true", "");
    refuseExpr("js: exponent", ".read", "2**2 == 4", "");
    refuseExpr("js: computed method name", ".read", "root[\"exi\"+\"sts\"]()", "");
    refuseExpr("js: $var method name", ".read", "root[$foo]()", "", "$foo");
    // \u takes exactly four hex digits: no sign, no 0x, no spaces (a number parser would take them).
    const char *const badU = "Invalid escape: '\\u'";
    refuseExpr("string: \\u with a sign", ".read", "'\\u+041' == 'A'", badU);
    refuseExpr("string: \\u with 0x", ".read", "'\\u0x41' == 'A'", badU);
    refuseExpr("string: \\u with a space", ".read", "'\\u 041' == 'A'", badU);
    refuseExpr("string: \\u with three digits", ".read", "'\\u041' == 'A'", badU);

    // §9: above the cap, refused; the cap is configurable.
    refuse("limit: above a small cap", uR"J({"rules":{".read":true, ".write":true}})J"_s, "", 0, 0, 16);
    refuse("limit: above the default 256 KB",
        u"{\"rules\":{\".read\":true}} /*"_s + QString(256 * 1024, u'x') + u"*/"_s, "");
}

void TestRules::loadRefused()
{
    QFETCH(QString, source);
    QFETCH(int, limit);
    QFETCH(QString, message);
    QFETCH(int, line);
    QFETCH(int, column);
    Limits limits;
    if (limit > 0)
        limits.maxSourceBytes = limit;
    LoadError error;
    const auto rules = Ruleset::compile(source.toUtf8(), &error, limits);
    QVERIFY2(!rules, "accepted");
    QVERIFY2(error.line >= 1 && error.column >= 1, qPrintable(error.toString()));
    QVERIFY2(!error.message.isEmpty(), qPrintable(error.toString()));
    if (!message.isEmpty())
        QVERIFY2(error.message.contains(message), qPrintable(error.toString()));
    if (line > 0) {
        QCOMPARE(error.line, line);
        QCOMPARE(error.column, column);
    }
    // §1: the 400 body is "L:C: message".
    QCOMPARE(error.toString(), u"%1:%2: %3"_s.arg(error.line).arg(error.column).arg(error.message));
}

// §1: GET returns the source byte for byte; ?format=strict the parsed JSON, comments gone, keys in file order.
void TestRules::sourceAndStrictJson()
{
    const QByteArray source = R"J(// header
{
  "rules": {
    /* first */ "zeta": {".read": true,},
    "alpha": {".indexOn": ["b", "a",], "$id": {".write": "$id == auth.uid"},},
  },
}
)J";
    LoadError error;
    const auto rules = Ruleset::compile(source, &error);
    QVERIFY2(rules, qPrintable(error.toString()));
    QCOMPARE(rules->source(), source);
    const QByteArray strict = rules->strictJson();
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(strict, &pe);
    QCOMPARE(pe.error, QJsonParseError::NoError);
    QCOMPARE(doc.object(),
        json(R"J({"rules":{"zeta":{".read":true},"alpha":{".indexOn":["b","a"],"$id":{".write":"$id == auth.uid"}}}})J")
            .toObject());
    QVERIFY(!strict.contains("first"));
    QVERIFY(!strict.contains("header"));
    QVERIFY(strict.indexOf("zeta") < strict.indexOf("alpha"));
    QVERIFY(strict.indexOf("\"b\"") < strict.indexOf("\"a\""));
}

// §1: a namespace without rules is open, as the emulator's default.
void TestRules::openRuleset()
{
    const auto rules = Ruleset::open();
    QVERIFY(rules);
    QCOMPARE(QJsonDocument::fromJson(rules->strictJson()).object(),
        json(R"J({"rules":{".read":true,".write":true}})J").toObject());
    const Node tree = node(R"J({"a":{"b":1}})J");
    QVERIFY(rules->canRead(context(u"null"_s), tree, path(u"/a/b"_s), Query()));
    QVERIFY(rules->canRead(context(u"null"_s), tree, path(u"/"_s), Query()));
    QVERIFY(rules->canWrite(context(u"null"_s), tree, path(u"/a"_s), writesOf(path(u"/a"_s), u"set"_s, u"null"_s)));
}

// §7: .indexOn entries of the matching rule node.
void TestRules::indexOn_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("string") << u"/users"_s << QStringList {u"age"_s};
    QTest::newRow("array under a wildcard") << u"/users/alice"_s << QStringList {u"a"_s, u"b/c"_s};
    QTest::newRow("value index") << u"/scores"_s << QStringList {u".value"_s};
    QTest::newRow("literal wins over wildcard") << u"/users/lit"_s << QStringList {u"z"_s};
    QTest::newRow("no entry") << u"/users/alice/x"_s << QStringList();
    QTest::newRow("no rule node") << u"/other"_s << QStringList();
    QTest::newRow("root") << u"/"_s << QStringList();
}

void TestRules::indexOn()
{
    QFETCH(QString, path);
    QFETCH(QStringList, expected);
    QString error;
    const auto rules = compile(uR"J({"rules": {
        "users": {".indexOn": "age", "$uid": {".indexOn": ["a", "b/c"]}, "lit": {".indexOn": ["z"]}},
        "scores": {".indexOn": ".value"}}})J"_s,
        &error);
    QVERIFY2(rules, qPrintable(error));
    QCOMPARE(rules->indexOn(::path(path)), expected);
}

// ---------------------------------------------------------------------------------------------------------------
// Reads: §0.1-2, §3 matching, §4, §7 query variables, §10 examples
// ---------------------------------------------------------------------------------------------------------------
void TestRules::reads_data()
{
    QTest::addColumn<QString>("rules");
    QTest::addColumn<QString>("tree");
    QTest::addColumn<QString>("auth");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("query"); // a wire q object; empty: a plain read
    QTest::addColumn<bool>("allowed");

    // §4: deny by default, a true at / opens everything.
    readRow("default: no rules", R"J({"rules":{}})J", "{}", Alice, "/a", "", false);
    readRow("default: no rules, root", R"J({"rules":{}})J", "{}", Alice, "/", "", false);
    readRow("default: only a .write", R"J({"rules":{".write":true}})J", "{}", Alice, "/a", "", false);
    readRow("root true opens a deep path", R"J({"rules":{".read":true}})J", "{}", Anon, "/a/b/c/d", "", true);

    // §0.1 cascade, §10.4.
    const char *const cascade = R"J({"rules":{"a":{".read":true,"b":{".read":false}}}})J";
    readRow("cascade: false below a grant is ignored", cascade, "{}", Alice, "/a/b", "", true);
    readRow("cascade: deeper than any rule", cascade, "{}", Alice, "/a/b/c/d", "", true);
    readRow("cascade: root not granted", cascade, "{}", Alice, "/", "", false);
    const char *const foo = R"J({"rules":{"foo":{".read":"data.child('baz').val() === true","bar":{".read":false}}}})J";
    readRow("10.4 /foo/bar when /foo/baz is true", foo, R"J({"foo":{"baz":true}})J", Alice, "/foo/bar", "", true);
    readRow("10.4 /foo/bar when /foo/baz is false", foo, R"J({"foo":{"baz":false}})J", Alice, "/foo/bar", "", false);
    readRow("10.4 /foo/bar when /foo/baz is absent", foo, "{}", Alice, "/foo/bar", "", false);
    readRow(
        "10.4 /foo/bar when baz is the string true", foo, R"J({"foo":{"baz":"true"}})J", Alice, "/foo/bar", "", false);
    readRow("10.4 /foo itself", foo, R"J({"foo":{"baz":true}})J", Alice, "/foo", "", true);

    // §0.2 not filters, §10.5.
    const char *const records = R"J({"rules":{"records":{"rec1":{".read":true},"rec2":{".read":false}}}})J";
    const char *const recTree = R"J({"records":{"rec1":1,"rec2":2}})J";
    readRow("10.5 /records denied", records, recTree, Alice, "/records", "", false);
    readRow("10.5 /records/rec1 allowed", records, recTree, Alice, "/records/rec1", "", true);
    readRow("10.5 /records/rec2 denied", records, recTree, Alice, "/records/rec2", "", false);
    readRow("4: grant only deeper denies the parent", R"J({"rules":{"a":{"b":{".read":true}}}})J", R"J({"a":{"b":1}})J",
        Alice, "/a", "", false);
    readRow("4: rules below the path are never consulted", R"J({"rules":{"a":{".read":false,"b":{".read":true}}}})J",
        "{}", Alice, "/a", "", false);

    // §3 matching.
    const char *const lit = R"J({"rules":{"a":{"$x":{".read":true},"lit":{".read":false}}}})J";
    readRow("3: literal wins over wildcard", lit, "{}", Alice, "/a/lit", "", false);
    readRow("3: wildcard matches other names", lit, "{}", Alice, "/a/other", "", true);
    readRow("3: literal without a .read still shadows the wildcard",
        R"J({"rules":{"a":{"lit":{"deep":{".read":true}},"$x":{".read":true}}}})J", "{}", Alice, "/a/lit", "", false);
    readRow("3: walk ends where no node matches", R"J({"rules":{"a":{"b":{".read":true}}}})J", "{}", Alice, "/x/b", "",
        false);
    const char *const num = R"J({"rules":{"$n":{".read":"$n === '5'"}}})J";
    readRow("3: $var bound as a string", num, "{}", Alice, "/5", "", true);
    readRow(
        "0.9: $n === 5 is always false", R"J({"rules":{"$n":{".read":"$n === 5"}}})J", "{}", Alice, "/5", "", false);
    const char *const scoped = R"J({"rules":{"users":{"$uid":{"profile":{".read":"$uid === auth.uid"}}}}})J";
    readRow("3: $var visible below its node", scoped, "{}", Alice, "/users/alice/profile", "", true);
    readRow("3: $var visible below its node, other user", scoped, "{}", Bob, "/users/alice/profile", "", false);
    readRow("3: two nested $vars", R"J({"rules":{"$a":{"$b":{".read":"$a + '/' + $b === 'x/y'"}}}})J", "{}", Alice,
        "/x/y", "", true);

    // §4: data is the snapshot at the rule's node, root the whole tree.
    const char *const owner = R"J({"rules":{"docs":{"$d":{".read":"data.child('owner').val() === auth.uid"}}}})J";
    const char *const docs = R"J({"docs":{"d1":{"owner":"alice","body":{"t":1}}}})J";
    readRow("4: data at the rule's node, owner", owner, docs, Alice, "/docs/d1/body/t", "", true);
    readRow("4: data at the rule's node, not owner", owner, docs, Bob, "/docs/d1/body", "", false);
    const char *const pub = R"J({"rules":{"a":{".read":"root.child('public').val() === true"}}})J";
    readRow("4: root is the whole tree, true", pub, R"J({"public":true})J", Alice, "/a", "", true);
    readRow("4: root is the whole tree, false", pub, R"J({"public":false})J", Alice, "/a", "", false);
    readRow(
        "4: reading a missing node", R"J({"rules":{"a":{".read":"!data.exists()"}}})J", "{}", Alice, "/a", "", true);

    // §0.7: a runtime error makes that rule false; another rule on the path can still grant.
    const char *const erringRoot = R"J({"rules":{".read":"auth.uid.beginsWith('a')","a":{".read":true}}})J";
    readRow("0.7 erring root rule, a deeper grant", erringRoot, "{}", Anon, "/a", "", true);
    readRow("0.7 erring root rule alone", erringRoot, "{}", Anon, "/b", "", false);
    readRow("0.7 the same root rule without the error", erringRoot, "{}", Alice, "/b", "", true);

    // §10.1 locked, §10.2 content owner only, §10.3 presence reads.
    const char *const locked = R"J({"rules":{".read":false,".write":false}})J";
    readRow("10.1 locked: root", locked, "{}", Alice, "/", "", false);
    readRow("10.1 locked: deep", locked, "{}", Alice, "/a/b", "", false);
    const char *const ownerOnly
        = R"J({"rules":{"some_path":{"$uid":{".read":"auth !== null && auth.uid === $uid",".write":"auth !== null && auth.uid === $uid"}}}})J";
    readRow("10.2 alice reads her node", ownerOnly, "{}", Alice, "/some_path/alice", "", true);
    readRow("10.2 bob reads alice's node", ownerOnly, "{}", Bob, "/some_path/alice", "", false);
    readRow("10.2 alice reads the parent", ownerOnly, "{}", Alice, "/some_path", "", false);
    readRow("10.2 unauthenticated", ownerOnly, "{}", Anon, "/some_path/alice", "", false);
    readRow("10.3 presence readable by anyone", R"J({"rules":{"presence":{"$uid":{".read":true}}}})J", "{}", Anon,
        "/presence/bob", "", true);

    // §10.13 recent messages.
    const char *const recent
        = R"J({"rules":{"messages":{"$message":{".read":"data.child('timestamp').val() > (now - 600000)"}}}})J";
    const QByteArray freshTree
        = R"J({"messages":{"m1":{"content":"hi","timestamp":)J" + QByteArray::number(Now) + "}}}";
    QTest::newRow("10.13 stamped just now: readable")
        << str(recent) << QString::fromUtf8(freshTree) << str(Alice) << u"/messages/m1"_s << QString() << true;
    readRow("10.13 stamped 1: not readable", recent, R"J({"messages":{"m1":{"content":"hi","timestamp":1}}})J", Alice,
        "/messages/m1", "", false);
    readRow("10.13 no timestamp: error, not readable", recent, R"J({"messages":{"m1":{"content":"hi"}}})J", Alice,
        "/messages/m1", "", false);

    // §10.15 custom claims.
    const char *const towel = R"J({"rules":{".read":"auth.token.hasEmergencyTowel === true"}})J";
    readRow("10.15 claim true", towel, "{}", Towel, "/", "", true);
    readRow("10.15 claim missing", towel, "{}", Alice, "/", "", false);
    readRow("10.15 claim is the string true", towel, "{}", TowelString, "/", "", false);
    readRow("10.15 unauthenticated", towel, "{}", Anon, "/", "", false);

    // §7 query variables.
    readRow("7: plain read is orderByKey",
        R"J({"rules":{".read":"query.orderByKey == true && query.orderByValue == false && query.orderByPriority == false"}})J",
        "{}", Alice, "/", "", true);
    readRow("7: plain read has null bounds and limits",
        R"J({"rules":{".read":"query.orderByChild == null && query.startAt == null && query.endAt == null && query.equalTo == null && query.limitToFirst == null && query.limitToLast == null"}})J",
        "{}", Alice, "/", "", true);
    const char *const baskets
        = R"J({"rules":{"baskets":{".read":"auth.uid !== null && query.orderByChild === 'owner' && query.equalTo === auth.uid"}}})J";
    const char *const eqAlice = R"J({"i":"owner","sp":"alice","sin":true,"ep":"alice","ein":true})J";
    readRow("10.14 baskets: orderByChild('owner').equalTo(uid)", baskets, "{}", Alice, "/baskets", eqAlice, true);
    readRow("10.14 baskets: plain listen", baskets, "{}", Alice, "/baskets", "", false);
    readRow("10.14 baskets: someone else's uid", baskets, "{}", Bob, "/baskets", eqAlice, false);
    readRow("10.14 baskets: unauthenticated", baskets, "{}", Anon, "/baskets", eqAlice, false);
    readRow("7: startAt alone is not equalTo", baskets, "{}", Alice, "/baskets",
        R"J({"i":"owner","sp":"alice","sin":true,"l":10,"vf":"l"})J", false);
    readRow("7: different start and end is not equalTo", baskets, "{}", Alice, "/baskets",
        R"J({"i":"owner","sp":"alice","sin":true,"ep":"alicf","ein":true})J", false);
    const char *const limited
        = R"J({"rules":{"messages":{".read":"query.orderByKey && query.limitToFirst <= 1000"}}})J";
    readRow("10.14 messages: plain listen", limited, "{}", Alice, "/messages", "", false);
    readRow("10.14 messages: limitToFirst(1000)", limited, "{}", Alice, "/messages", R"J({"l":1000,"vf":"l"})J", true);
    readRow("10.14 messages: limitToFirst(1001)", limited, "{}", Alice, "/messages", R"J({"l":1001,"vf":"l"})J", false);
    readRow("10.14 messages: limitToLast(10)", limited, "{}", Alice, "/messages", R"J({"l":10,"vf":"r"})J", false);
    readRow("10.14 messages: orderByKey().limitToFirst(5)", limited, "{}", Alice, "/messages",
        R"J({"i":".key","l":5,"vf":"l"})J", true);
    readRow("10.14 messages: orderByChild limitToFirst", limited, "{}", Alice, "/messages",
        R"J({"i":"created","l":5,"vf":"l"})J", false);
    readRow("7: orderByValue().limitToLast(5)",
        R"J({"rules":{".read":"query.orderByValue && !query.orderByKey && query.limitToLast === 5 && query.limitToFirst === null"}})J",
        "{}", Alice, "/", R"J({"l":5,"vf":"r","i":".value"})J", true);
    readRow("7: orderByKey().startAt('m')",
        R"J({"rules":{".read":"query.orderByKey && query.startAt === 'm' && query.endAt === null && query.limitToFirst === 3"}})J",
        "{}", Alice, "/", R"J({"sp":"m","sin":true,"l":3,"vf":"l","i":".key"})J", true);
    readRow("7: startAt/endAt numbers",
        R"J({"rules":{".read":"query.orderByChild === 'age' && query.startAt === 18 && query.endAt === 30 && query.equalTo === null"}})J",
        "{}", Alice, "/", R"J({"sp":18,"sin":true,"ep":30,"ein":true,"i":"age"})J", true);
    readRow("7: equalTo with a key name, child path",
        R"J({"rules":{".read":"query.orderByChild === 'a/b' && query.equalTo === 'x' && !query.orderByKey"}})J", "{}",
        Alice, "/", R"J({"sp":"x","sn":"k1","sin":true,"ep":"x","en":"k1","ein":true,"i":"a/b"})J", true);
    readRow("7: equalTo a number", R"J({"rules":{".read":"query.equalTo === 7"}})J", "{}", Alice, "/",
        R"J({"sp":7,"sin":true,"ep":7,"ein":true,"i":"n"})J", true);
    readRow("7: absent i with a bound counts as orderByKey", R"J({"rules":{".read":"query.orderByKey === true"}})J",
        "{}", Alice, "/", R"J({"sp":1,"sin":true})J", true);
    readRow("7: orderByChild is null for orderByKey", R"J({"rules":{".read":"query.orderByChild === null"}})J", "{}",
        Alice, "/", R"J({"i":".key","l":2,"vf":"l"})J", true);
}

void TestRules::reads()
{
    QFETCH(QString, rules);
    QFETCH(QString, tree);
    QFETCH(QString, auth);
    QFETCH(QString, path);
    QFETCH(QString, query);
    QFETCH(bool, allowed);
    QString error;
    const auto ruleset = compile(rules, &error);
    QVERIFY2(ruleset, qPrintable(error));
    Denial why;
    const bool got = ruleset->canRead(context(auth), node(tree), ::path(path), queryOf(query), &why);
    QVERIFY2(got == allowed, qPrintable(verdict(got, why)));
}

// ---------------------------------------------------------------------------------------------------------------
// Writes: §0.3-6, §5 permission walk, validation, updates, priorities; §10 examples
// ---------------------------------------------------------------------------------------------------------------
void TestRules::writes_data()
{
    QTest::addColumn<QString>("rules");
    QTest::addColumn<QString>("tree");
    QTest::addColumn<QString>("auth");
    QTest::addColumn<QString>("path"); // the set's location or the update's base
    QTest::addColumn<QString>("op"); // "set" or "update"
    QTest::addColumn<QString>("value"); // the set's value, or the update's map of relative paths to values
    QTest::addColumn<bool>("allowed");

    // §5.2 permission walk.
    setRow("walk: no rules", R"J({"rules":{}})J", "{}", Alice, "/a", "1", false);
    setRow("walk: root true", R"J({"rules":{".write":true}})J", "{}", Anon, "/a/b/c", "1", true);
    setRow("walk: .read does not grant writes", R"J({"rules":{".read":true}})J", "{}", Alice, "/a", "1", false);
    setRow("walk: rules below P are ignored (set into them)",
        R"J({"rules":{"a":{".write":true,"b":{".write":false}}}})J", "{}", Alice, "/a", R"J({"b":1})J", true);
    setRow("walk: a false below a grant is ignored", R"J({"rules":{"a":{".write":true,"b":{".write":false}}}})J", "{}",
        Alice, "/a/b", "1", true);
    setRow("walk: grant below P does not grant P", R"J({"rules":{"a":{"b":{".write":true}}}})J", "{}", Alice, "/a",
        R"J({"b":1})J", false);
    const char *const nd = R"J({"rules":{"a":{".write":"newData.child('b').val() === 1"}}})J";
    setRow("walk: newData at the rule's node, merged", nd, "{}", Alice, "/a/b", "1", true);
    setRow("walk: newData at the rule's node, merged, false", nd, "{}", Alice, "/a/b", "2", false);
    const char *const ownerRule = R"J({"rules":{"a":{".write":"data.child('owner').val() === auth.uid"}}})J";
    setRow("walk: data at the rule's node, owner", ownerRule, R"J({"a":{"owner":"alice"}})J", Alice, "/a/x", "1", true);
    setRow(
        "walk: data at the rule's node, not owner", ownerRule, R"J({"a":{"owner":"alice"}})J", Bob, "/a/x", "1", false);
    setRow("walk: $var is a string", R"J({"rules":{"$n":{".write":"$n === newData.val() + ''"}}})J", "{}", Alice, "/5",
        "5", true);
    setRow("walk: $var is a string, other value", R"J({"rules":{"$n":{".write":"$n === newData.val() + ''"}}})J", "{}",
        Alice, "/5", "6", false);

    // §0.7 on writes: an erring .write is false, a deeper one still grants.
    const char *const erringWrite = R"J({"rules":{".write":"auth.uid.beginsWith('a')","a":{".write":true}}})J";
    setRow("0.7 erring root .write, a deeper grant", erringWrite, "{}", Anon, "/a", "1", true);
    setRow("0.7 erring root .write alone", erringWrite, "{}", Anon, "/b", "1", false);

    // §10.1 locked, §10.3 presence, §10.7 wildcard capture.
    setRow("10.1 locked: write denied", R"J({"rules":{".read":false,".write":false}})J", "{}", Alice, "/a", "1", false);
    const char *const presence = R"J({"rules":{"presence":{"$uid":{".read":true,".write":"$uid === auth.uid"}}}})J";
    setRow("10.3 alice sets /presence/alice", presence, "{}", Alice, "/presence/alice", "true", true);
    setRow("10.3 bob sets /presence/alice", presence, "{}", Bob, "/presence/alice", "true", false);
    setRow("10.3 unauthenticated", presence, "{}", Anon, "/presence/alice", "true", false);
    setRow("10.3 alice sets /presence {alice:true}", presence, "{}", Alice, "/presence", R"J({"alice":true})J", false);
    setRow("10.3 alice removes /presence/alice", presence, R"J({"presence":{"alice":true}})J", Alice, "/presence/alice",
        "null", true);
    updateRow(
        "5: the same content as an update is allowed", presence, "{}", Alice, "/presence", R"J({"alice":true})J", true);
    updateRow("5: update touching someone else's node", presence, "{}", Alice, "/presence",
        R"J({"alice":true,"bob":true})J", false);
    const char *const rooms
        = R"J({"rules":{"rooms":{"$room_id":{"topic":{".write":"$room_id.contains('public')"}}}}})J";
    setRow("10.7 /rooms/public_chat/topic", rooms, "{}", Alice, "/rooms/public_chat/topic", R"J("x")J", true);
    setRow("10.7 /rooms/private/topic", rooms, "{}", Alice, "/rooms/private/topic", R"J("x")J", false);

    // §10.2 content owner only, writes.
    const char *const ownerOnly
        = R"J({"rules":{"some_path":{"$uid":{".read":"auth !== null && auth.uid === $uid",".write":"auth !== null && auth.uid === $uid"}}}})J";
    setRow("10.2 alice writes her node", ownerOnly, "{}", Alice, "/some_path/alice/x", "1", true);
    setRow("10.2 bob writes alice's node", ownerOnly, "{}", Bob, "/some_path/alice", "1", false);

    // §5: a set of {k1,k2} at P is denied while the same update is allowed; a grant at P covers every key.
    const char *const keys = R"J({"rules":{"p":{"k1":{".write":true},"k2":{".write":true}}}})J";
    setRow("5: set {k1,k2} at P", keys, "{}", Alice, "/p", R"J({"k1":1,"k2":2})J", false);
    updateRow("5: update {k1,k2} at P", keys, "{}", Alice, "/p", R"J({"k1":1,"k2":2})J", true);
    updateRow("5: update with a key without a grant", keys, "{}", Alice, "/p", R"J({"k1":1,"k3":3})J", false);
    updateRow("5: grant at P covers keys without rules", R"J({"rules":{"p":{".write":true}}})J", "{}", Alice, "/p",
        R"J({"x/y":1,"z":2})J", true);
    const char *const deepKey = R"J({"rules":{"p":{"x":{"y":{".write":true}}}}})J";
    updateRow("5: multi-segment key", deepKey, "{}", Alice, "/p", R"J({"x/y":1})J", true);
    updateRow(
        "5: multi-segment key plus a denied one (atomic)", deepKey, "{}", Alice, "/p", R"J({"x/y":1,"z":1})J", false);
    updateRow("5: update at the root", R"J({"rules":{"a":{".write":true},"b":{".write":true}}})J", "{}", Alice, "/",
        R"J({"a":1,"b/c":2})J", true);

    // §10.8 create or delete, never update.
    const char *const createDelete = R"J({"rules":{"x":{".write":"!data.exists() || !newData.exists()"}}})J";
    setRow("10.8 create", createDelete, "{}", Alice, "/x", "1", true);
    setRow("10.8 delete", createDelete, R"J({"x":1})J", Alice, "/x", "null", true);
    setRow("10.8 overwrite", createDelete, R"J({"x":1})J", Alice, "/x", "2", false);
    setRow("10.8 deep write into an existing value", createDelete, R"J({"x":{"a":1}})J", Alice, "/x/b", "2", false);

    // §10.9 other paths.
    const char *const other
        = R"J({"rules":{"doc":{".write":"root.child('allow_writes').val() === true && !data.parent().child('readOnly').exists() && newData.child('foo').exists()"}}})J";
    setRow("10.9 all three hold", other, R"J({"allow_writes":true})J", Alice, "/doc", R"J({"foo":1})J", true);
    setRow("10.9 allow_writes false", other, R"J({"allow_writes":false})J", Alice, "/doc", R"J({"foo":1})J", false);
    setRow("10.9 readOnly present", other, R"J({"allow_writes":true,"readOnly":true})J", Alice, "/doc",
        R"J({"foo":1})J", false);
    setRow("10.9 value without foo", other, R"J({"allow_writes":true})J", Alice, "/doc", R"J({"bar":1})J", false);

    // §10.10 widget validation, §0.3-4.
    const char *const widget = R"J({"rules":{".write":true,"widget":{
        ".validate":"newData.hasChildren(['color','size'])",
        "size":{".validate":"newData.isNumber() && newData.val() >= 0 && newData.val() <= 99"},
        "color":{".validate":"root.child('valid_colors/' + newData.val()).exists()"}}}})J";
    const char *const colors = R"J({"valid_colors":{"red":true,"blue":true}})J";
    const char *const withWidget = R"J({"valid_colors":{"red":true,"blue":true},"widget":{"color":"red","size":1}})J";
    setRow("10.10 'foo'", widget, colors, Alice, "/widget", R"J("foo")J", false);
    setRow("10.10 {size:22}", widget, colors, Alice, "/widget", R"J({"size":22})J", false);
    setRow(
        "10.10 {size:'foo',color:'red'}", widget, colors, Alice, "/widget", R"J({"size":"foo","color":"red"})J", false);
    setRow("10.10 {size:21,color:'blue'}", widget, colors, Alice, "/widget", R"J({"size":21,"color":"blue"})J", true);
    setRow(
        "10.10 color not in valid_colors", widget, colors, Alice, "/widget", R"J({"size":21,"color":"green"})J", false);
    setRow("10.10 size 100", widget, colors, Alice, "/widget", R"J({"size":100,"color":"red"})J", false);
    setRow("10.10 an extra child has no rule", widget, colors, Alice, "/widget",
        R"J({"size":1,"color":"red","extra":1})J", true);
    setRow("10.10 widget/size = 99 on an existing widget", widget, withWidget, Alice, "/widget/size", "99", true);
    setRow("10.10 widget/size = 99 without a widget", widget, colors, Alice, "/widget/size", "99", false);
    setRow("10.10 widget/size = 100 on an existing widget", widget, withWidget, Alice, "/widget/size", "100", false);
    setRow("10.10 remove /widget", widget, withWidget, Alice, "/widget", "null", true);
    setRow("5: remove /widget/size validates what remains", widget, withWidget, Alice, "/widget/size", "null", false);
    setRow("5: validate never grants", R"J({"rules":{"a":{".validate":true}}})J", "{}", Alice, "/a", "1", false);

    // §10.11 the same with .write: rules below the granting node are ignored.
    const char *const widgetW = R"J({"rules":{"widget":{
        ".write":"newData.hasChildren(['color','size'])",
        "size":{".write":"newData.isNumber() && newData.val() >= 0 && newData.val() <= 99"},
        "color":{".write":"root.child('valid_colors/' + newData.val()).exists()"}}}})J";
    setRow(
        "10.11 {size:99999,color:'red'}", widgetW, colors, Alice, "/widget", R"J({"size":99999,"color":"red"})J", true);
    setRow("10.11 widget/size = 99 with no widget", widgetW, colors, Alice, "/widget/size", "99", true);
    setRow("10.11 remove /widget", widgetW, withWidget, Alice, "/widget", "null", false);

    // §10.6 $other.
    const char *const widgetOther = R"J({"rules":{".write":true,"widget":{"title":{".validate":true},
        "color":{".validate":true},"$other":{".validate":false}}}})J";
    setRow("10.6 {title,color}", widgetOther, "{}", Alice, "/widget", R"J({"title":"t","color":"c"})J", true);
    setRow("10.6 {title,size}", widgetOther, "{}", Alice, "/widget", R"J({"title":"t","size":1})J", false);
    setRow("10.6 set /widget/size", widgetOther, "{}", Alice, "/widget/size", "1", false);
    setRow("10.6 set /widget/title", widgetOther, "{}", Alice, "/widget/title", R"J("t")J", true);
    setRow("10.6 remove /widget/size (null skips the validate)", widgetOther, R"J({"widget":{"size":1}})J", Alice,
        "/widget/size", "null", true);

    // §10.12 date format.
    const char *const date
        = R"J({"rules":{".write":true,"d":{".validate":"newData.isString() && newData.val().matches(/^(19|20)[0-9][0-9][-\\/. ](0[1-9]|1[012])[-\\/. ](0[1-9]|[12][0-9]|3[01])$/)"}}})J";
    setRow("10.12 2024-02-29", date, "{}", Alice, "/d", R"J("2024-02-29")J", true);
    setRow("10.12 2024-13-01", date, "{}", Alice, "/d", R"J("2024-13-01")J", false);
    setRow("10.12 1999/12/31", date, "{}", Alice, "/d", R"J("1999/12/31")J", true);
    setRow("10.12 trailing text", date, "{}", Alice, "/d", R"J("2024-02-29x")J", false);
    setRow("10.12 a number", date, "{}", Alice, "/d", "20240229", false);

    // §10.13 recent messages: the validate.
    const char *const messages = R"J({"rules":{"messages":{"$message":{".write":true,
        ".validate":"newData.hasChildren(['content','timestamp']) && newData.child('content').isString() && newData.child('timestamp').isNumber()"}}}})J";
    setRow("10.13 {content:'hi'}", messages, "{}", Alice, "/messages/m1", R"J({"content":"hi"})J", false);
    setRow("10.13 {content:'hi',timestamp:1}", messages, "{}", Alice, "/messages/m1",
        R"J({"content":"hi","timestamp":1})J", true);
    setRow("10.13 timestamp a string", messages, "{}", Alice, "/messages/m1", R"J({"content":"hi","timestamp":"1"})J",
        false);
    const QByteArray nowValue = QByteArray::number(Now);
    const char *const stamped = R"J({"rules":{".write":true,"t":{".validate":"newData.val() === now"}}})J";
    QTest::newRow("5.1 ServerValue.TIMESTAMP resolved with now")
        << str(stamped) << u"{}"_s << str(Alice) << u"/t"_s << u"set"_s << QString::fromUtf8(nowValue) << true;
    QTest::newRow("5.1 another instant is not now")
        << str(stamped) << u"{}"_s << str(Alice) << u"/t"_s << u"set"_s << QString::number(Now - 1) << false;

    // §10.15: custom claims on writes.
    const char *const admin = R"J({"rules":{".write":"auth != null && auth.token.isAdmin == true"}})J";
    setRow("10.15 isAdmin true", admin, "{}", Towel, "/a", "1", true);
    setRow("10.15 isAdmin missing", admin, "{}", Alice, "/a", "1", false);
    setRow("10.15 isAdmin the string true", admin, "{}", TowelString, "/a", "1", false);
    setRow("10.15 unauthenticated", admin, "{}", Anon, "/a", "1", false);

    // §5.3 validation: ancestors on merged values, the written subtree, never for null, not outside P.
    const char *const merged = R"J({"rules":{".write":true,"a":{".validate":"newData.child('x').val() === 1"}}})J";
    setRow("5.3 ancestor validate sees the merged value", merged, R"J({"a":{"x":1}})J", Alice, "/a/y", "2", true);
    setRow("5.3 ancestor validate on merged value fails", merged, R"J({"a":{"x":2}})J", Alice, "/a/y", "2", false);
    setRow("5.3 ancestor validate with no existing data", merged, "{}", Alice, "/a/y", "2", false);
    const char *const items = R"J({"rules":{".write":true,"items":{"$id":{".validate":"newData.isNumber()"}}}})J";
    setRow("5.3 subtree: every child validated, all pass", items, "{}", Alice, "/items", R"J({"a":1,"b":2})J", true);
    setRow("5.3 subtree: one child fails", items, "{}", Alice, "/items", R"J({"a":1,"b":"x"})J", false);
    setRow("5.3 subtree: untouched siblings are not validated", items, R"J({"items":{"bad":"x"}})J", Alice,
        "/items/good", "1", true);
    setRow("5.3 subtree: deep validate vetoes", R"J({"rules":{".write":true,"a":{"b":{"c":{".validate":false}}}}})J",
        "{}", Alice, "/a", R"J({"b":{"c":1}})J", false);
    setRow("5.3 subtree: deep validate not reached",
        R"J({"rules":{".write":true,"a":{"b":{"c":{".validate":false}}}}})J", "{}", Alice, "/a", R"J({"b":{"d":1}})J",
        true);
    setRow("5.3 outside P's subtree not validated", R"J({"rules":{".write":true,"other":{".validate":false}}})J",
        R"J({"other":1})J", Alice, "/mine", "1", true);
    const char *const never = R"J({"rules":{".write":true,"a":{".validate":false}}})J";
    setRow("0.4 delete skips the deleted node's validate", never, R"J({"a":1})J", Alice, "/a", "null", true);
    setRow("0.4 a non-null value runs it", never, R"J({"a":1})J", Alice, "/a", "2", false);
    setRow("5.3 root validate on what remains", R"J({"rules":{".write":true,".validate":"newData.hasChild('keep')"}})J",
        R"J({"keep":1,"x":1})J", Alice, "/x", "null", true);
    setRow("5.3 root validate on what remains, fails",
        R"J({"rules":{".write":true,".validate":"newData.hasChild('keep')"}})J", R"J({"keep":1,"x":1})J", Alice,
        "/keep", "null", false);
    const char *const needsB = R"J({"rules":{".write":true,"a":{".validate":"newData.hasChild('b')"}}})J";
    setRow("0.4 an ancestor emptied by the delete is not validated", needsB, R"J({"a":{"b":1}})J", Alice, "/a/b",
        "null", true);
    setRow(
        "0.4 an ancestor left non-null is validated", needsB, R"J({"a":{"b":1,"c":1}})J", Alice, "/a/b", "null", false);
    const char *const named = R"J({"rules":{".write":true,"u":{"$uid":{"name":{".validate":"$uid === 'alice'"}}}}})J";
    setRow("5.3 subtree walk binds $vars", named, "{}", Alice, "/u", R"J({"alice":{"name":"x"}})J", true);
    setRow("5.3 subtree walk binds $vars, other key", named, "{}", Alice, "/u", R"J({"bob":{"name":"x"}})J", false);
    const char *const numbers = R"J({"rules":{".write":true,"a":{"$k":{".validate":"newData.isNumber()"}}}})J";
    setRow("5.3 a priority is not a child", numbers, "{}", Alice, "/a", R"J({"x":1,".priority":"p"})J", true);
    updateRow("5 update: untouched siblings are not validated", numbers, R"J({"a":{"bad":"x"}})J", Alice, "/a",
        R"J({"good":1})J", true);
    updateRow("5 update: multi-segment key reaches a wildcard validate",
        R"J({"rules":{".write":true,"p":{"$k":{"$j":{".validate":"newData.isNumber()"}}}}})J", "{}", Alice, "/p",
        R"J({"x/y":"s"})J", false);
    const char *const erring = R"J({"rules":{".write":true,"a":{".validate":"newData.val().beginsWith('a')"}}})J";
    setRow("5.3 only true passes: an error fails", erring, "{}", Alice, "/a", "5", false);
    setRow("5.3 only true passes: the string passes", erring, "{}", Alice, "/a", R"J("abc")J", true);

    // §5 updates: one final tree, all-or-nothing, newData sees other paths, root does not.
    const char *const sibling
        = R"J({"rules":{"p":{"a":{".write":"newData.parent().child('b').val() === 2"},"b":{".write":true}}}})J";
    updateRow("0.5 newData includes every path of the update", sibling, "{}", Alice, "/p", R"J({"a":1,"b":2})J", true);
    updateRow("0.5 newData includes every path, wrong value", sibling, "{}", Alice, "/p", R"J({"a":1,"b":3})J", false);
    setRow("0.5 a set sees the existing sibling", sibling, R"J({"p":{"b":2}})J", Alice, "/p/a", "1", true);
    setRow("0.5 a set without the sibling", sibling, "{}", Alice, "/p/a", "1", false);
    const char *const viaRoot
        = R"J({"rules":{"p":{"a":{".write":"root.child('p/b').val() === 2"},"b":{".write":true}}}})J";
    updateRow("0.5 root is the prior tree in an update", viaRoot, "{}", Alice, "/p", R"J({"a":1,"b":2})J", false);
    updateRow("0.5 root is the prior tree, already there", viaRoot, R"J({"p":{"b":2}})J", Alice, "/p",
        R"J({"a":1,"b":2})J", true);
    const char *const pair = R"J({"rules":{".write":true,"p":{".validate":"newData.hasChildren(['a','b'])"}}})J";
    updateRow("5 update: ancestor validate on the final tree", pair, "{}", Alice, "/p", R"J({"a":1,"b":2})J", true);
    updateRow("5 update: ancestor validate fails", pair, "{}", Alice, "/p", R"J({"a":1})J", false);
    updateRow("5 update: merged with existing data", pair, R"J({"p":{"b":1}})J", Alice, "/p", R"J({"a":1})J", true);
    updateRow("5 update: a delete leaves too little", pair, R"J({"p":{"a":1,"b":2}})J", Alice, "/p", R"J({"a":null})J",
        false);
    updateRow(
        "5 update: subtree validate of one key fails", items, "{}", Alice, "/items", R"J({"a":1,"b":"x"})J", false);
    updateRow("5 update: deleted key's validate is skipped",
        R"J({"rules":{".write":true,"p":{"$k":{".validate":false}}}})J", R"J({"p":{"a":1,"b":2}})J", Alice, "/p",
        R"J({"a":null})J", true);
    const char *const deleteOnly = R"J({"rules":{"a":{"$k":{".write":"!newData.exists()"}}}})J";
    updateRow("5 update: null deletes", deleteOnly, R"J({"a":{"x":1}})J", Alice, "/a", R"J({"x":null})J", true);
    updateRow("5 update: null plus a denied value", deleteOnly, R"J({"a":{"x":1}})J", Alice, "/a",
        R"J({"x":null,"y":1})J", false);

    // §5 priorities.
    const char *const prio = R"J({"rules":{".write":true,"a":{".validate":"newData.getPriority() === 5"}}})J";
    setRow("5 priority: setWithPriority", prio, "{}", Alice, "/a", R"J({".value":1,".priority":5})J", true);
    setRow("5 priority: a plain set leaves it null", prio, "{}", Alice, "/a", "1", false);
    setRow("5 priority: null for a plain set",
        R"J({"rules":{".write":true,"a":{".validate":"newData.getPriority() === null"}}})J", "{}", Alice, "/a", "1",
        true);
    setRow("5 priority: set at .priority", prio, R"J({"a":1})J", Alice, "/a/.priority", "5", true);
}

void TestRules::writes()
{
    QFETCH(QString, rules);
    QFETCH(QString, tree);
    QFETCH(QString, auth);
    QFETCH(QString, path);
    QFETCH(QString, op);
    QFETCH(QString, value);
    QFETCH(bool, allowed);
    QString error;
    const auto ruleset = compile(rules, &error);
    QVERIFY2(ruleset, qPrintable(error));
    const Path base = ::path(path);
    Denial why;
    const bool got = ruleset->canWrite(context(auth), node(tree), base, writesOf(base, op, value), &why);
    QVERIFY2(got == allowed, qPrintable(verdict(got, why)));
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions: §6 runtime semantics, snapshot methods, strings, regexes, auth, now. One rule at the root over Fixture.
// ---------------------------------------------------------------------------------------------------------------
void TestRules::expressions_data()
{
    QTest::addColumn<QString>("kind"); // ".read", ".write", or ".validate" (beside ".write": true)
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QString>("auth");
    QTest::addColumn<QString>("value"); // for .write/.validate: the value set at "/"
    QTest::addColumn<bool>("allowed");

    // == and !=: one operator, no coercion.
    ex("==: numbers", "1 == 1", true);
    ex("==: number and string", "1 == '1'", false);
    ex("===: string and number", "'1' === 1", false);
    ex("==: null and null", "null == null", true);
    ex("==: boolean and number", "true == 1", false);
    ex("==: 3 and 3.0", "3 == 3.0", true);
    ex("!=: number and string", "1 != '1'", true);
    ex("==: data value", "data.child('n').val() == 5", true);
    ex("==: data value and its string", "data.child('n').val() == '5'", false);
    ex("==: missing value is null", "data.child('missing').val() == null", true);
    ex("==: primitive compared with null", "data.child('s').val() != null", true);
    ex("==: boolean data", "data.child('b').val() === true", true);

    // + concatenates when either side is a string; bool or null is an error.
    ex("+: numbers", "1 + 2 == 3", true);
    ex("+: string and number", "'a' + 1 == 'a1'", true);
    ex("+: number and string", "1 + 'two' == '1two'", true);
    ex("+: strings", "'a' + 'b' == 'ab'", true);
    ex("+: fraction to string", "'' + 1.5 == '1.5'", true);
    ex("+: integer to string", "'' + 100 == '100'", true);
    ex("+: auth.uid", "auth.uid + '!' == 'alice!'", true);
    ex("+: null operand errors", "auth.foo + 1 == 1", false);
    ex("+: null operand errors, negated", "!(auth.foo + 1 == 1)", false);
    ex("+: boolean operand errors", "data.child('b').val() + 1 == 2", false);
    ex("+: boolean operand errors, negated", "!(data.child('b').val() + 1 == 2)", false);

    // - * / % and unary -: numbers only; x / 0 is NaN.
    ex("-: numbers", "5 - 2 == 3", true);
    ex("*: numbers", "2 * 3 == 6", true);
    ex("/: numbers", "6 / 4 == 1.5", true);
    ex("%: numbers", "7 % 3 == 1", true);
    ex("unary -: data", "-data.child('n').val() == -5", true);
    ex("-: string operand errors", "data.child('s').val() - 1 == 0", false);
    ex("-: string operand errors, negated", "!(data.child('s').val() - 1 == 0)", false);
    ex("unary -: string errors", "!(-data.child('s').val() == 0)", false);
    ex("NaN: 1/0 prints as NaN", "(1/0 + '') == 'NaN'", true);
    ex("NaN: 0/0 prints as NaN", "(data.child('z').val() / 0 + '') == 'NaN'", true);
    ex("NaN: not equal to itself", "1/0 == 1/0", false);
    ex("NaN: not greater than 0", "1/0 > 0", false);
    ex("NaN: not less than 0", "1/0 < 0", false);
    ex("NaN: not >= 1", "1/0 >= 1", false);

    // < <= > >=: two numbers or two strings.
    ex("<: numbers", "2 < 10", true);
    ex("<=: equal numbers", "5 <= data.child('n').val()", true);
    ex(">: data number", "data.child('f').val() > 1", true);
    ex("<: strings", "'a' < 'b'", true);
    ex("<: strings, reversed", "'b' < 'a'", false);
    ex("<: strings, common prefix", "'abc' < 'abd'", true);
    ex("<: strings by code point", "'Z' < 'a'", true);
    ex("<: numeric strings compare as text", "'2' < '10'", false);
    ex(">=: equal strings", "'x' >= 'x'", true);
    ex("<: mixed types error", "data.child('s').val() > 1", false);
    ex("<: mixed types error, negated", "!(data.child('s').val() > 1)", false);
    ex("<: null errors", "auth.foo < 1", false);
    ex("<: null errors, negated", "!(auth.foo < 1)", false);
    ex("<: 'foo' > auth.foo without auth", "'foo' > auth.foo", false, Anon);
    ex("<: 'foo' > auth.foo without auth, negated", "!('foo' > auth.foo)", false, Anon);

    // && || ?: short-circuit; the untaken branch is not evaluated.
    ex("||: untaken right branch", "true || auth.foo.beginsWith('x')", true);
    ex("||: auth null guard", "auth == null || auth.uid.beginsWith('a')", true, Anon);
    ex("&&: guard then call", "auth != null && auth.uid.beginsWith('a')", true);
    ex("&&: guard stops the call", "!(auth != null && auth.uid.beginsWith('a'))", true, Anon);
    ex("&&: false left", "false && true", false);
    ex("&&: untaken right inside !", "!(false && auth.foo.beginsWith('x'))", true);
    ex("?: untaken else branch", "true ? true : auth.foo.beginsWith('x')", true);
    ex("?: untaken then branch", "false ? auth.foo.beginsWith('x') : true", true);
    ex("?: condition picks", "auth.uid == 'alice' ? data.child('b').val() == true : false", true);
    ex("||: error on the left is false", "auth.foo.beginsWith('x') || true", false);
    ex("!: boolean", "!false", true);
    ex("!: comparison", "!(auth.uid == 'bob')", true);

    // Member access on null yields null; a call on null errors.
    ex("null: auth.uid without auth", "auth.uid == null", true, Anon);
    ex("null: auth.foo.baz without auth", "auth.foo.baz == null", true, Anon);
    ex("null: auth.uid !== 'x' without auth", "auth.uid !== 'x'", true, Anon);
    ex("null: auth === null", "auth === null", true, Anon);
    ex("null: call on null errors", "auth.uid.beginsWith('a')", false, Anon);
    ex("null: call on null errors, negated", "!auth.uid.beginsWith('a')", false, Anon);
    ex("null: call on a missing claim", "auth.token.missing.contains('a')", false);
    ex("null: .length on a number errors", "data.child('n').val().length > 0", false);
    ex("null: .length on a number errors, negated", "!(data.child('n').val().length > 0)", false);
    ex("null: child(null) errors", "data.child(auth.uid).exists()", false, Anon);
    ex("null: child(null) errors, negated", "!data.child(auth.uid).exists()", false, Anon);

    // Strings.
    ex("string: contains", "data.child('s').val().contains('ell')", true);
    ex("string: contains, absent", "data.child('s').val().contains('xyz')", false);
    ex("string: contains empty", "data.child('s').val().contains('')", true);
    ex("string: beginsWith", "data.child('s').val().beginsWith('he')", true);
    ex("string: beginsWith, no", "data.child('s').val().beginsWith('lo')", false);
    ex("string: endsWith", "data.child('s').val().endsWith('lo')", true);
    ex("string: length", "data.child('s').val().length == 5", true);
    ex("string: empty length", "''.length == 0", true);
    ex("string: replace replaces every occurrence", "data.child('s').val().replace('l', 'L') == 'heLLo'", true);
    ex("string: replace with empty", "data.child('s').val().replace('l', '') == 'heo'", true);
    ex("string: replace is not a regex", "data.child('s').val().replace('.', 'x') == 'hello'", true);
    ex("string: replace a dot everywhere", "'a.b.c'.replace('.', '-') == 'a-b-c'", true);
    ex("string: toUpperCase", "data.child('s').val().toUpperCase() == 'HELLO'", true);
    ex("string: toLowerCase", "data.child('t').val().toLowerCase() == 'hello'", true);
    ex("string: methods on a literal", "'foo'.beginsWith('f') && 'foo'.endsWith('o')", true);
    ex("string: \\u escape", "'\\u0041\\u004a' == 'AJ'", true);
    ex("string: non-string argument at runtime", "'foo'.contains(auth.foo)", false);
    ex("string: number argument at runtime", "'foo1'.contains(auth.token.level)", false);
    ex("string: method on a number errors", "data.child('n').val().contains('5')", false);

    // Regexes: unanchored unless ^/$, the i flag, the supported subset.
    ex("regex: unanchored", "'ba'.matches(/a/)", true);
    ex("regex: ^ anchors", "'ba'.matches(/^a/)", false);
    ex("regex: ^ anchors, match", "'ab'.matches(/^a/)", true);
    ex("regex: $ anchors", "'ba'.matches(/b$/)", false);
    ex("regex: both anchors", "'abc'.matches(/^abc$/)", true);
    ex("regex: both anchors, longer", "'abcd'.matches(/^abc$/)", false);
    ex("regex: case sensitive", "'ABC'.matches(/abc/)", false);
    ex("regex: i flag", "'ABC'.matches(/abc/i)", true);
    ex("regex: \\d", "'a1'.matches(/\\d/)", true);
    ex("regex: \\d, none", "'ab'.matches(/\\d/)", false);
    ex("regex: \\D+", "'12'.matches(/^\\D+$/)", false);
    ex("regex: \\s", "'a b'.matches(/\\s/)", true);
    ex("regex: \\S+", "'a b'.matches(/^\\S+$/)", false);
    ex("regex: \\w+", "'_w1'.matches(/^\\w+$/)", true);
    ex("regex: \\w+ with a dash", "'a-b'.matches(/^\\w+$/)", false);
    ex("regex: \\W", "'a-b'.matches(/\\W/)", true);
    ex("regex: escaped dot", "'a.c'.matches(/^a\\.c$/)", true);
    ex("regex: escaped dot, other char", "'abc'.matches(/^a\\.c$/)", false);
    ex("regex: dot", "'abc'.matches(/^a.c$/)", true);
    ex("regex: ?", "'ac'.matches(/^ab?c$/)", true);
    ex("regex: *", "'abbbc'.matches(/^ab*c$/)", true);
    ex("regex: +", "'ac'.matches(/^ab+c$/)", false);
    ex("regex: {n}", "'aaa'.matches(/^a{3}$/)", true);
    ex("regex: {n}, too few", "'aa'.matches(/^a{3}$/)", false);
    ex("regex: {n,}", "'aaaa'.matches(/^a{2,}$/)", true);
    ex("regex: {n,m}, too many", "'aaaa'.matches(/^a{1,3}$/)", false);
    ex("regex: set range", "'abc'.matches(/^[a-c]+$/)", true);
    ex("regex: set range, outside", "'abd'.matches(/^[a-c]+$/)", false);
    ex("regex: negated set", "'x'.matches(/^[^a-c]$/)", true);
    ex("regex: alternation", "'foo'.matches(/^(foo|bar)$/)", true);
    ex("regex: alternation, neither", "'baz'.matches(/^(foo|bar)$/)", false);
    ex("regex: \\{ and a bare }", "'{foo}'.matches(/\\{foo}/)", true);
    ex("regex: on data", "data.child('s').val().matches(/^h.*o$/)", true);
    ex("regex: on null errors", "auth.foo.matches(/a/)", false);

    // Snapshot methods.
    ex("snapshot: hasChildren on an object", "data.child('o').hasChildren()", true);
    ex("snapshot: hasChildren on a leaf", "data.child('s').hasChildren()", false);
    ex("snapshot: hasChildren on null", "data.child('missing').hasChildren()", false);
    ex("snapshot: hasChildren with names", "data.child('o').hasChildren(['x', 'y'])", true);
    ex("snapshot: hasChildren with a missing name", "data.child('o').hasChildren(['x', 'z'])", false);
    ex("snapshot: hasChildren with a path", "data.hasChildren(['o/x', 's'])", true);
    ex("snapshot: hasChildren([]) on an object", "data.child('o').hasChildren([])", true);
    ex("snapshot: child with a path", "data.child('o/x').val() == 1", true);
    ex("snapshot: chained child", "data.child('o').child('y').isString()", true);
    ex("snapshot: hasChild", "data.hasChild('o')", true);
    ex("snapshot: hasChild with a path", "data.hasChild('o/x')", true);
    ex("snapshot: hasChild, absent", "data.hasChild('nope')", false);
    ex("snapshot: parent", "data.child('o/x').parent().hasChild('y')", true);
    ex("snapshot: parent of the root errors", "data.parent().exists()", false);
    ex("snapshot: parent of the root errors, negated", "!data.parent().exists()", false);
    ex("snapshot: exists", "data.child('s').exists()", true);
    ex("snapshot: exists, absent", "data.child('missing').exists()", false);
    ex("snapshot: isNumber int", "data.child('n').isNumber()", true);
    ex("snapshot: isNumber fraction", "data.child('f').isNumber()", true);
    ex("snapshot: isNumber of a string", "data.child('s').isNumber()", false);
    ex("snapshot: isString", "data.child('s').isString()", true);
    ex("snapshot: isBoolean", "data.child('b').isBoolean()", true);
    ex("snapshot: type tests false for objects",
        "!data.child('o').isNumber() && !data.child('o').isString() && !data.child('o').isBoolean()", true);
    ex("snapshot: type tests false for null",
        "!data.child('missing').isNumber() && !data.child('missing').isString() && !data.child('missing').isBoolean()",
        true);
    ex("snapshot: getPriority", "data.child('p').getPriority() === 7", true);
    ex("snapshot: value beside a priority", "data.child('p').val() === 'pv'", true);
    ex("snapshot: getPriority null", "data.child('n').getPriority() === null", true);
    ex("snapshot: root is data at the root", "root.child('s').val() === data.child('s').val()", true);
    ex("snapshot: root[\"exists\"]()", "root[\"exists\"]()", true);
    ex("snapshot: child(auth.uid)", "data.child('users').child(auth.uid).exists()", true);
    ex("snapshot: child built by +", "root.child('users/' + auth.uid + '/name').val() === 'Alice'", true);

    // auth and token claims.
    ex("auth: uid", "auth.uid === 'alice'", true);
    ex("auth: provider", "auth.provider === 'custom'", true);
    ex("auth: subscript", "auth['uid'] === 'alice'", true);
    ex("auth: token claim", "auth.token.email === 'alice@example.com'", true);
    ex("auth: token boolean claim", "auth.token.email_verified === true", true);
    ex("auth: sub is the uid", "auth.token.sub === auth.uid", true);
    ex("auth: nested claim", "auth.token.firebase.sign_in_provider === 'custom'", true);
    ex("auth: nested subscripts", "auth.token['firebase']['sign_in_provider'] == 'custom'", true);
    ex("auth: missing claim is null", "auth.token.missing === null", true);
    ex("auth: open map", "auth.foo == null", true);
    ex("auth: present", "auth != null", true);
    ex("auth: absent", "auth != null", false, Anon);
    ex("auth: other user", "auth.uid === 'alice'", false, Bob);

    // now.
    ex("now: the request's instant", "now === 1700000000000", true);
    ex("now: arithmetic", "now - 1000 < now", true);

    // .write and .validate: newData, data and query in writes.
    exw("write: newData value", ".write", "newData.val() === 'x'", R"J("x")J", true);
    exw("write: newData value, other", ".write", "newData.val() === 'x'", R"J("y")J", false);
    exw("write: newData.isString", ".write", "newData.isString()", R"J("x")J", true);
    exw("write: newData.val().length", ".write", "newData.val().length > 0", R"J("x")J", true);
    exw("write: newData.val().contains", ".write", "newData.val().contains('a')", R"J("bab")J", true);
    exw("write: newData child", ".write", "newData.child('a').val() === 1", R"J({"a":1})J", true);
    exw("write: newData.hasChildren on a leaf", ".write", "newData.hasChildren()", "1", false);
    exw("write: newData.hasChildren on an object", ".write", "newData.hasChildren()", R"J({"a":1})J", true);
    exw("write: data is the prior tree", ".write", "data.child('s').val() === 'hello'", "1", true);
    exw("write: data.child(newData.val())", ".write", "data.child(newData.val()).exists()", R"J("s")J", true);
    exw("write: delete has no newData", ".write", "!newData.exists()", "null", true);
    exw("write: query bounds are null", ".write", "query.equalTo == null", "1", true);
    exw("write: now", ".write", "newData.val() === now", "1700000000000", true);
    exw("validate: passes", ".validate", "newData.isNumber()", "1", true);
    exw("validate: fails", ".validate", "newData.isNumber()", R"J("x")J", false);
    exw("validate: root is the prior tree", ".validate", "root.child('n').val() == 5", "1", true);
    exw("validate: skipped for null", ".validate", "false", "null", true);
    exw("validate: an error fails", ".validate", "newData.val().beginsWith('a')", "1", false);
}

void TestRules::expressions()
{
    QFETCH(QString, kind);
    QFETCH(QString, expr);
    QFETCH(QString, auth);
    QFETCH(QString, value);
    QFETCH(bool, allowed);
    QJsonObject rule;
    if (kind == ".validate"_L1)
        rule.insert(u".write"_s, true);
    rule.insert(kind, expr);
    const QString source
        = QString::fromUtf8(QJsonDocument(QJsonObject {{u"rules"_s, rule}}).toJson(QJsonDocument::Compact));
    QString error;
    const auto ruleset = compile(source, &error);
    QVERIFY2(ruleset, qPrintable(error));
    const Node tree = node(Fixture);
    Denial why;
    const bool got = kind == ".read"_L1
        ? ruleset->canRead(context(auth), tree, Path(), Query(), &why)
        : ruleset->canWrite(context(auth), tree, Path(), writesOf(Path(), u"set"_s, value), &why);
    QVERIFY2(got == allowed, qPrintable(verdict(got, why)));
}

// ---------------------------------------------------------------------------------------------------------------
// Denials: the rule that decided (§8: each denial is logged with the rule path and kind)
// ---------------------------------------------------------------------------------------------------------------
void TestRules::denials_data()
{
    QTest::addColumn<QString>("rules");
    QTest::addColumn<QString>("auth");
    QTest::addColumn<QString>("op"); // "read", "set" or "update"
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("rulePath");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expression"); // "*": not checked
    QTest::addColumn<QString>("deniedPath"); // "*": not checked

    QTest::newRow("read: the one false rule")
        << u"{\"rules\":{\"a\":{\".read\":\"auth != null\"}}}"_s << str(Anon) << u"read"_s << u"/a/b"_s << QString()
        << u"/a"_s << u".read"_s << u"auth != null"_s << u"/a/b"_s;
    QTest::newRow("read: no rule of the kind") << u"{\"rules\":{\".write\":true}}"_s << str(Alice) << u"read"_s
                                               << u"/a"_s << QString() << u"*"_s << QString() << QString() << u"/a"_s;
    QTest::newRow("write: wildcard rule path")
        << u"{\"rules\":{\"presence\":{\"$uid\":{\".write\":\"$uid === auth.uid\"}}}}"_s << str(Bob) << u"set"_s
        << u"/presence/alice"_s << u"true"_s << u"/presence/$uid"_s << u".write"_s << u"$uid === auth.uid"_s
        << u"/presence/alice"_s;
    QTest::newRow("write: validate decides")
        << u"{\"rules\":{\".write\":true,\"a\":{\".validate\":\"newData.isNumber()\"}}}"_s << str(Alice) << u"set"_s
        << u"/a"_s << u"\"x\""_s << u"/a"_s << u".validate"_s << u"newData.isNumber()"_s << u"*"_s;
    QTest::newRow("write: validate in the subtree")
        << u"{\"rules\":{\".write\":true,\"items\":{\"$id\":{\".validate\":\"newData.isNumber()\"}}}}"_s << str(Alice)
        << u"set"_s << u"/items"_s << u"{\"a\":1,\"b\":\"x\"}"_s << u"/items/$id"_s << u".validate"_s
        << u"newData.isNumber()"_s << u"*"_s;
    QTest::newRow("update: the denied key path")
        << u"{\"rules\":{\"p\":{\"a\":{\".write\":true},\"b\":{\".write\":\"false\"}}}}"_s << str(Alice) << u"update"_s
        << u"/p"_s << u"{\"a\":1,\"b\":1}"_s << u"/p/b"_s << u".write"_s << u"*"_s << u"/p/b"_s;
    QTest::newRow("write: no rule of the kind") << u"{\"rules\":{\".read\":true}}"_s << str(Alice) << u"set"_s
                                                << u"/a"_s << u"1"_s << u"*"_s << QString() << QString() << u"/a"_s;
}

void TestRules::denials()
{
    QFETCH(QString, rules);
    QFETCH(QString, auth);
    QFETCH(QString, op);
    QFETCH(QString, path);
    QFETCH(QString, value);
    QFETCH(QString, rulePath);
    QFETCH(QString, kind);
    QFETCH(QString, expression);
    QFETCH(QString, deniedPath);
    QString error;
    const auto ruleset = compile(rules, &error);
    QVERIFY2(ruleset, qPrintable(error));
    const Path at = ::path(path);
    Denial why;
    const bool got = op == "read"_L1 ? ruleset->canRead(context(auth), Node(), at, Query(), &why)
                                     : ruleset->canWrite(context(auth), Node(), at, writesOf(at, op, value), &why);
    QVERIFY(!got);
    QVERIFY(!why.message.isEmpty());
    if (rulePath != "*"_L1)
        QCOMPARE(why.rulePath, rulePath);
    QCOMPARE(why.kind, kind);
    if (expression != "*"_L1)
        QCOMPARE(why.expression, expression);
    if (deniedPath != "*"_L1)
        QCOMPARE(why.path.keys(), ::path(deniedPath).keys());
}

// §9 / Limits: beyond the evaluation budget, fail closed.
void TestRules::evaluationStepCap()
{
    const QByteArray source = R"J({"rules":{".write":true,"items":{"$id":{".validate":"newData.isNumber()"}}}})J";
    QJsonObject value;
    for (int i = 0; i < 200; ++i)
        value.insert(u"k%1"_s.arg(i), i);
    const Path at = path(u"/items"_s);
    std::vector<Write> writes;
    writes.push_back(Write {Path(), nodeOf(value)});

    LoadError error;
    const auto open = Ruleset::compile(source, &error);
    QVERIFY2(open, qPrintable(error.toString()));
    QVERIFY(open->canWrite(context(u"null"_s), Node(), at, writes));

    Limits tight;
    tight.maxEvaluationSteps = 10;
    const auto capped = Ruleset::compile(source, &error, tight);
    QVERIFY2(capped, qPrintable(error.toString()));
    QVERIFY(!capped->canWrite(context(u"null"_s), Node(), at, writes));
}

// Context::authUid (the server passes Identity::uid) answers auth.uid as the JSON would; empty, the JSON answers.
void TestRules::authUidBesideAuth()
{
    const QByteArray source = R"J({"rules":{"p":{"$uid":{".read":"auth.uid === $uid",
        ".write":"auth.uid + '' === $uid && auth.uid.length > 0 && auth.provider === 'custom'"}}}})J";
    LoadError error;
    const auto rules = Ruleset::compile(source, &error);
    QVERIFY2(rules, qPrintable(error.toString()));
    const auto writeTrue = [](const Path &at) { return writesOf(at, u"set"_s, u"true"_s); };
    for (const bool beside : {false, true}) {
        Context alice = context(uR"({"uid":"alice","provider":"custom","token":{"sub":"alice"}})"_s);
        if (beside)
            alice.authUid = u"alice"_s;
        QVERIFY(rules->canRead(alice, Node(), path(u"/p/alice"_s), Query()));
        QVERIFY(!rules->canRead(alice, Node(), path(u"/p/bob"_s), Query()));
        QVERIFY(rules->canWrite(alice, Node(), path(u"/p/alice"_s), writeTrue(path(u"/p/alice"_s))));
        QVERIFY(!rules->canWrite(alice, Node(), path(u"/p/bob"_s), writeTrue(path(u"/p/bob"_s))));
    }
    // An auth object without a uid: auth.uid is null, not "".
    QVERIFY(!rules->canRead(context(uR"({"provider":"custom"})"_s), Node(), path(u"/p/x"_s), Query()));
    QVERIFY(
        !rules->canWrite(context(uR"({"provider":"custom"})"_s), Node(), path(u"/p/x"_s), writeTrue(path(u"/p/x"_s))));
}

QTEST_GUILESS_MAIN(TestRules)
#include "tst_rules.moc"
