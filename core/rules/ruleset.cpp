// SPDX-License-Identifier: MIT
// Loading a rules file into a tree of rule nodes, and the read and write walks over it
// (docs/rules.md §3-§5).
#include "ruleset.h"

#include "evaluate.h"
#include "expression.h"
#include "rulesfile.h"

#include <QSet>

#include <map>

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

struct Rule {
    bool present = false;
    bool constant = false;
    std::unique_ptr<Expr> expr;
    QString source;
};

struct RuleNode {
    QString path; // as written, e.g. "/presence/$uid"
    Rule read, write, validate;
    QStringList indexOn;
    std::map<QString, std::unique_ptr<RuleNode>> children;
    QString wildcardName;
    std::unique_ptr<RuleNode> wildcard;

    // A literal child wins; only without one does the level's $wildcard match (§3).
    [[nodiscard]] const RuleNode *match(const QString &key, bool *viaWildcard) const
    {
        const auto it = children.find(key);
        *viaWildcard = it == children.end();
        return *viaWildcard ? wildcard.get() : it->second.get();
    }
};

const QString keyNameMessage = u"Key names can't contain \".\", \"#\", \"$\", \"/\", \"[\", or \"]\" "
                               u"(unbound names start with \"$\")"_s;

bool isValidName(QStringView name)
{
    if (name.isEmpty())
        return false;
    for (const QChar c : name) {
        if (c == u'.' || c == u'#' || c == u'$' || c == u'/' || c == u'[' || c == u']' || c.unicode() < 0x20
            || c.unicode() == 0x7f)
            return false;
    }
    return true;
}

QString childPath(const QString &parent, const QString &key)
{
    return parent == u"/"_s ? parent + key : parent + u'/' + key;
}

class Compiler
{
public:
    explicit Compiler(LoadError *error)
        : m_error(error)
    {
    }

    bool node(const FileValue &v, RuleNode *out, QStringList &scope)
    {
        if (v.type != FileValue::Type::Object)
            return fail(v.pos, u"Expected an object of rules."_s);
        QSet<QString> seen;
        for (const FileValue::Member &m : v.members) {
            if (seen.contains(m.key))
                return fail(m.keyPos, u"Duplicate key '"_s + m.key + u"'."_s);
            seen.insert(m.key);
            if (m.key == u".read"_s || m.key == u".write"_s || m.key == u".validate"_s) {
                const RuleKind kind = m.key == u".read"_s ? RuleKind::Read
                    : m.key == u".write"_s                ? RuleKind::Write
                                                          : RuleKind::Validate;
                Rule *rule = kind == RuleKind::Read ? &out->read
                    : kind == RuleKind::Write       ? &out->write
                                                    : &out->validate;
                if (!compileRule(m.value, kind, scope, rule))
                    return false;
            } else if (m.key == u".indexOn"_s) {
                if (!indexOn(m.value, &out->indexOn))
                    return false;
            } else if (m.key.startsWith(u'$')) {
                const QString name = m.key.mid(1);
                if (!isValidName(name))
                    return fail(m.keyPos, keyNameMessage);
                if (out->wildcard)
                    return fail(m.keyPos,
                        u"Only one wildcard per level: '$"_s + out->wildcardName + u"' and '"_s + m.key + u"'."_s);
                if (scope.contains(name))
                    return fail(m.keyPos, u"The wildcard '"_s + m.key + u"' is already used on this path."_s);
                out->wildcardName = name;
                out->wildcard = std::make_unique<RuleNode>();
                out->wildcard->path = childPath(out->path, m.key);
                scope.append(name);
                const bool ok = node(m.value, out->wildcard.get(), scope);
                scope.removeLast();
                if (!ok)
                    return false;
            } else {
                if (!isValidName(m.key))
                    return fail(m.keyPos, keyNameMessage);
                auto child = std::make_unique<RuleNode>();
                child->path = childPath(out->path, m.key);
                if (!node(m.value, child.get(), scope))
                    return false;
                out->children.emplace(m.key, std::move(child));
            }
        }
        return true;
    }

private:
    bool fail(SourcePos at, const QString &message)
    {
        if (m_error)
            *m_error = LoadError {at.line, at.column, message};
        return false;
    }

    bool compileRule(const FileValue &v, RuleKind kind, const QStringList &scope, Rule *rule)
    {
        rule->present = true;
        if (v.type == FileValue::Type::Bool) {
            rule->constant = v.boolean;
            rule->source = v.boolean ? u"true"_s : u"false"_s;
            return true;
        }
        if (v.type != FileValue::Type::String)
            return fail(v.pos, u"Expected a boolean or an expression string."_s);
        QString error;
        rule->expr = compileExpression(v.text, kind, scope, &error);
        if (!rule->expr)
            return fail(v.pos, error);
        rule->source = v.text;
        return true;
    }

    bool indexOn(const FileValue &v, QStringList *out)
    {
        if (v.type == FileValue::Type::String) {
            out->append(v.text);
            return true;
        }
        if (v.type == FileValue::Type::Array) {
            for (const FileValue &item : v.items) {
                if (item.type != FileValue::Type::String)
                    return fail(item.pos, u".indexOn must be a string or an array of strings."_s);
                out->append(item.text);
            }
            return true;
        }
        return fail(v.pos, u".indexOn must be a string or an array of strings."_s);
    }

    LoadError *m_error;
};

QueryVars queryVars(const Query &query)
{
    QueryVars q;
    switch (query.index()) {
    case Query::Index::Priority: // an absent `i`: the SDK omits the priority index, so the two look the same (§7)
    case Query::Index::Key:
        q.orderByKey = true;
        break;
    case Query::Index::Value:
        q.orderByValue = true;
        break;
    case Query::Index::Child:
        q.orderByChild = query.childPath().keys().join(u'/');
        break;
    }
    if (query.hasStart())
        q.startAt = leafJson(query.startValue());
    if (query.hasEnd())
        q.endAt = leafJson(query.endValue());
    // equalTo(v) is sent as sp = ep = v, both inclusive.
    if (query.hasStart() && query.hasEnd() && query.startInclusive() && query.endInclusive() && q.startAt == q.endAt)
        q.equalTo = q.startAt;
    if (query.limit() > 0)
        (query.limitFromEnd() ? q.limitToLast : q.limitToFirst) = double(query.limit());
    return q;
}

} // namespace

QString LoadError::toString() const
{
    return u"%1:%2: %3"_s.arg(line).arg(column).arg(message);
}

struct Ruleset::Impl {
    QByteArray source;
    FileValue parsed;
    RuleNode root;
    Limits limits;

    bool evalRule(const Rule &rule, Env &env) const { return rule.expr ? evaluate(*rule.expr, env) : rule.constant; }

    bool deny(Denial *why, const RuleNode *node, const QString &kind, const Rule *rule, const Path &path,
        const QString &message) const
    {
        if (why) {
            why->rulePath = node ? node->path : u"/"_s;
            why->kind = kind;
            why->expression = rule ? rule->source : QString();
            why->path = path;
            why->message = message;
        }
        return false;
    }

    bool denyLimit(Denial *why, const RuleNode *node, const QString &kind, const Rule *rule, const Path &path) const
    {
        return deny(why, node, kind, rule, path,
            u"rule evaluation for %1 exceeded the limit of %2 steps, so it was denied"_s.arg(path.toString())
                .arg(limits.maxEvaluationSteps));
    }

    bool checkWrite(Env &env, const Path &target, const Node *value, Denial *why) const;
    bool validateSubtree(Env &env, const Node *value, const RuleNode *rules, Bindings &bindings, Denial *why) const;
};

Ruleset::Ruleset(std::unique_ptr<Impl> impl)
    : d(std::move(impl))
{
}

Ruleset::~Ruleset() = default;

std::shared_ptr<const Ruleset> Ruleset::compile(const QByteArray &source, LoadError *error, const Limits &limits)
{
    const auto refuse = [error](SourcePos at, const QString &message) {
        if (error)
            *error = LoadError {at.line, at.column, message};
        return nullptr;
    };
    if (source.size() > limits.maxSourceBytes)
        return refuse({}, u"Rules are larger than %1 bytes."_s.arg(limits.maxSourceBytes));
    auto impl = std::make_unique<Impl>();
    impl->source = source;
    impl->limits = limits;
    impl->root.path = u"/"_s;
    if (!parseRulesFile(QString::fromUtf8(source), &impl->parsed, error))
        return nullptr;
    const FileValue &top = impl->parsed;
    if (top.type != FileValue::Type::Object)
        return refuse(top.pos, u"Expected an object with a single key, \"rules\"."_s);
    for (const FileValue::Member &m : top.members) {
        if (m.key != u"rules"_s)
            return refuse(m.keyPos, u"Unexpected key '"_s + m.key + u"': the top level has one key, \"rules\"."_s);
    }
    if (top.members.size() != 1)
        return refuse(top.members.empty() ? top.pos : top.members[1].keyPos,
            u"Expected an object with a single key, \"rules\"."_s);
    QStringList scope;
    if (!Compiler(error).node(top.members.front().value, &impl->root, scope))
        return nullptr;
    return std::shared_ptr<const Ruleset>(new Ruleset(std::move(impl)));
}

std::shared_ptr<const Ruleset> Ruleset::open()
{
    static const std::shared_ptr<const Ruleset> rules
        = compile(QByteArrayLiteral("{\"rules\":{\".read\":true,\".write\":true}}"), nullptr);
    return rules;
}

const QByteArray &Ruleset::source() const
{
    return d->source;
}

QByteArray Ruleset::strictJson() const
{
    return toStrictJson(d->parsed);
}

bool Ruleset::canRead(const Context &ctx, const Node &root, const Path &path, const Query &query, Denial *why) const
{
    const QueryVars q = queryVars(query);
    Bindings bindings;
    Chain chain(&root, nullptr, path.keys());
    Env env;
    env.auth = ctx.auth;
    env.authObject = ctx.auth.toObject();
    env.authUid = ctx.authUid;
    env.now = ctx.now;
    env.chain = &chain;
    env.bindings = &bindings;
    env.query = &q;
    env.maxSteps = d->limits.maxEvaluationSteps;
    const RuleNode *node = &d->root;
    const RuleNode *lastRead = nullptr;
    // Top-down, the first true grants: rules below the requested path are never looked at (§4).
    for (int i = 0;; ++i) {
        if (node->read.present) {
            lastRead = node;
            env.depth = i;
            if (d->evalRule(node->read, env))
                return true;
            if (env.exhausted())
                return d->denyLimit(why, node, u".read"_s, &node->read, path);
        }
        if (i == path.size())
            break;
        bool viaWildcard = false;
        const RuleNode *next = node->match(path.at(i), &viaWildcard);
        if (!next)
            break;
        if (viaWildcard)
            bindings.push_back(path.at(i));
        node = next;
        chain.descend();
    }
    const QString message = u"no .read rule granted access to "_s + path.toString();
    if (lastRead)
        return d->deny(why, lastRead, u".read"_s, &lastRead->read, path, message);
    return d->deny(why, node, QString(), nullptr, path, message);
}

bool Ruleset::canWrite(
    const Context &ctx, const Node &root, const Path &base, const std::vector<Write> &writes, Denial *why) const
{
    Overlay overlay;
    QVarLengthArray<Path, 4> paths;
    for (const Write &w : writes) {
        paths.push_back(base.child(w.path));
        overlay.add(paths.back(), &w.value);
    }
    static const QueryVars q; // query variables are null (and false) for writes
    Env env;
    env.auth = ctx.auth;
    env.authObject = ctx.auth.toObject();
    env.authUid = ctx.authUid;
    env.now = ctx.now;
    env.query = &q;
    env.maxSteps = d->limits.maxEvaluationSteps;
    // Each path is checked like a set of its own, all against the one would-be tree (§5).
    for (size_t i = 0; i < writes.size(); ++i) {
        const Path &p = paths[i];
        const bool priority = !p.isRoot() && p.back() == u".priority"_s;
        const Path target = priority ? p.parent() : p;
        Chain chain(&root, &overlay.root, target.keys());
        env.chain = &chain;
        // A priority write changes the node above it: its rules decide, and it has no subtree of its own.
        if (!d->checkWrite(env, target, priority ? nullptr : &writes[i].value, why))
            return false;
    }
    return true;
}

bool Ruleset::Impl::checkWrite(Env &env, const Path &target, const Node *value, Denial *why) const
{
    Chain &chain = *env.chain;
    QVarLengthArray<const RuleNode *, 34> rules; // the matched rule node at each depth
    Bindings bindings;
    env.bindings = &bindings;
    const RuleNode *node = &root;
    bool granted = false;
    const RuleNode *lastWrite = nullptr;
    for (int i = 0;; ++i) {
        rules.push_back(node);
        if (!granted && node->write.present) {
            lastWrite = node;
            env.depth = i;
            granted = evalRule(node->write, env);
            if (env.exhausted())
                return denyLimit(why, node, u".write"_s, &node->write, target);
        }
        if (i == target.size())
            break;
        const QString &key = target.at(i);
        bool viaWildcard = false;
        const RuleNode *next = node->match(key, &viaWildcard);
        if (!next)
            break;
        if (viaWildcard)
            bindings.push_back(key);
        node = next;
        chain.descend();
    }
    if (!granted) {
        const QString message = u"no .write rule granted access to "_s + target.toString();
        if (lastWrite)
            return deny(why, lastWrite, u".write"_s, &lastWrite->write, target, message);
        return deny(why, node, QString(), nullptr, target, message);
    }
    // Validates on root → target where the new value is not null, against the merged value (§5.3).
    for (qsizetype i = 0; i < rules.size(); ++i) {
        const RuleNode *r = rules[i];
        if (!r->validate.present)
            continue;
        ++env.steps;
        if (env.exhausted())
            return denyLimit(why, r, u".validate"_s, &r->validate, target);
        if (!chain.newExistsAt(int(i)))
            continue;
        env.depth = int(i);
        if (!evalRule(r->validate, env)) {
            const Path at(target.keys().mid(0, int(i)));
            if (env.exhausted())
                return denyLimit(why, r, u".validate"_s, &r->validate, at);
            return deny(why, r, u".validate"_s, &r->validate, at,
                u"the .validate rule at "_s + r->path + u" failed for "_s + at.toString());
        }
    }
    // Then every node of the written value that has rules, when the rule walk reached the target.
    if (!value || value->isNull() || rules.size() != target.size() + 1)
        return true;
    return validateSubtree(env, value, rules.back(), bindings, why);
}

bool Ruleset::Impl::validateSubtree(
    Env &env, const Node *value, const RuleNode *rules, Bindings &bindings, Denial *why) const
{
    Chain &chain = *env.chain;
    for (const auto &[key, child] : value->children()) {
        bool viaWildcard = false;
        const RuleNode *next = rules->match(key, &viaWildcard);
        if (!next || child->isNull())
            continue;
        chain.descendInto(key, child.get());
        if (viaWildcard)
            bindings.push_back(key);
        ++env.steps;
        bool ok = !env.exhausted();
        if (ok && next->validate.present) {
            env.depth = chain.depth();
            ok = evalRule(next->validate, env);
        }
        if (!ok) {
            const Path at(chain.keys());
            if (env.exhausted())
                return denyLimit(why, next, u".validate"_s, &next->validate, at);
            return deny(why, next, u".validate"_s, &next->validate, at,
                u"the .validate rule at "_s + next->path + u" failed for "_s + at.toString());
        }
        if (!validateSubtree(env, child.get(), next, bindings, why))
            return false;
        chain.ascend();
        if (viaWildcard)
            bindings.pop_back();
    }
    return true;
}

QStringList Ruleset::indexOn(const Path &path) const
{
    const RuleNode *node = &d->root;
    for (const QString &key : path.keys()) {
        bool viaWildcard = false;
        node = node->match(key, &viaWildcard);
        if (!node)
            return {};
    }
    return node->indexOn;
}

} // namespace lark::rules
