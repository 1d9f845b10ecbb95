#!lua name=lark_v1
-- SPDX-License-Identifier: MIT
-- The cluster mode's mutations (issue #17), one atomic call each. Redis runs functions serially, so its thread is the
-- single writer and a namespace's stream ID is the order every node applies its changes in. The only clock is
-- Redis TIME: no function takes a "now".
--
-- Namespace functions get KEYS {ns}:t {ns}:ix {ns}:log {ns}:meta {ns}:sess {ns}:dl {ns}:own lark:nodes lark:nss
-- and ARGV node, epoch first; node functions get KEYS lark:nodes lark:epoch. Errors start with a code: FENCED,
-- DATASTALE, BAD. Redis does not roll a function back when it fails half-way, so every argument is checked before
-- the first write.
--
-- The tree is kept as leaves: {ns}:t maps a leaf's path ("users/alice/name", no leading slash, "" for a root leaf;
-- a priority is the pseudo-leaf ".../.priority") to its JSON text, and {ns}:ix holds every leaf path at score 0 so
-- that a subtree is one lexical range: [P/ to (P0, "0" being the byte after "/". The node encodes leaves and the
-- log entry's payload itself, so no number goes through Lua's JSON encoder (which keeps 14 digits).

local T, IX, LOG, META, NODES, NSS = 1, 2, 3, 4, 8, 9
local CHUNK = 1000 -- below Lua's unpack() limit

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A call that fires or moves many sessions stops once it has worked this long (after one session at least), so that
-- it holds Redis a few ms on any machine, not a fixed count's worth; the node calls again at once while some remain.
-- The calls take another budget as their last argument (the tests give 0: one session per call).
local BUDGET_US = 2000

local function clock_us()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- The caller's lease must exist and not have expired (docs: node leases with epoch fencing).
local function fenced(nodes, node, epoch)
    local expiry = redis.call('ZSCORE', nodes, node .. '#' .. epoch)
    return not expiry or tonumber(expiry) <= now_ms()
end

-- The error a fenced caller gets; nil while its lease holds.
local function refuse_fenced(nodes, node, epoch)
    if fenced(nodes, node, epoch) then
        return redis.error_reply('FENCED lease ' .. node .. '#' .. epoch .. ' is not valid')
    end
    return nil
end

local function is_priority(path)
    return path == '.priority' or path:sub(-10) == '/.priority'
end

local function parent_of(path)
    local cut = path:match('^(.*)/[^/]*$')
    return cut or ''
end

-- Deletes the paths in list, a chunk at a time.
local function delete_leaves(keys, list)
    for i = 1, #list, CHUNK do
        local part = { unpack(list, i, math.min(i + CHUNK - 1, #list)) }
        redis.call('HDEL', keys[T], unpack(part))
        redis.call('ZREM', keys[IX], unpack(part))
    end
end

-- The leaves strictly below path (its priority included).
local function leaves_below(keys, path, limit)
    if path == '' then
        if limit then
            return redis.call('ZRANGEBYLEX', keys[IX], '-', '+', 'LIMIT', 0, limit)
        end
        return redis.call('ZRANGEBYLEX', keys[IX], '-', '+')
    end
    if limit then
        return redis.call('ZRANGEBYLEX', keys[IX], '[' .. path .. '/', '(' .. path .. '0', 'LIMIT', 0, limit)
    end
    return redis.call('ZRANGEBYLEX', keys[IX], '[' .. path .. '/', '(' .. path .. '0')
end

-- Whether anything but a priority is at or below path: a node, as the tree sees it.
local function exists(keys, path)
    if redis.call('HEXISTS', keys[T], path) == 1 then
        return true
    end
    for _, leaf in ipairs(leaves_below(keys, path, 2)) do
        if leaf ~= (path == '' and '.priority' or path .. '/.priority') then
            return true
        end
    end
    return false
end

-- After a deletion: an ancestor left without children loses its priority, as the tree prunes an empty node.
local function prune_priorities(keys, path)
    local at = path
    while at ~= '' do
        at = parent_of(at)
        if exists(keys, at) then
            return
        end
        local p = at == '' and '.priority' or at .. '/.priority'
        redis.call('HDEL', keys[T], p)
        redis.call('ZREM', keys[IX], p)
    end
end

-- One set: what was at and below path goes, leaf ancestors become objects (keeping their priorities, as the SDK
-- does), then the new leaves go in. A priority only applies to a node that exists.
local function apply_set(keys, path, leaves)
    if is_priority(path) then
        local owner = path == '.priority' and '' or path:sub(1, -11)
        redis.call('HDEL', keys[T], path)
        redis.call('ZREM', keys[IX], path)
        if #leaves == 0 or not exists(keys, owner) then
            return
        end
    else
        if path == '' then
            redis.call('DEL', keys[T], keys[IX])
        else
            delete_leaves(keys, leaves_below(keys, path))
            redis.call('HDEL', keys[T], path)
            redis.call('ZREM', keys[IX], path)
        end
        if #leaves == 0 then
            prune_priorities(keys, path)
            return
        end
        local at = path
        while at ~= '' do
            at = parent_of(at)
            if redis.call('HDEL', keys[T], at) == 1 then
                redis.call('ZREM', keys[IX], at)
            end
        end
    end
    for i = 1, #leaves, 2 * CHUNK do
        local hset, zadd = { keys[T] }, { keys[IX] }
        for j = i, math.min(i + 2 * CHUNK - 1, #leaves), 2 do
            hset[#hset + 1] = leaves[j]
            hset[#hset + 1] = leaves[j + 1]
            zadd[#zadd + 1] = 0
            zadd[#zadd + 1] = leaves[j]
        end
        redis.call('HSET', unpack(hset))
        redis.call('ZADD', unpack(zadd))
    end
end

-- Whether a and b overlap: one is the other or lies below it.
local function overlaps(a, b)
    if a == '' or b == '' or a == b then
        return true
    end
    local short, long = a, b
    if #a > #b then
        short, long = b, a
    end
    return long:sub(1, #short + 1) == short .. '/'
end

local function field(entry, name)
    local f = entry[2]
    for i = 1, #f, 2 do
        if f[i] == name then
            return f[i + 1]
        end
    end
    return nil
end

-- A transaction's precondition: no change after the stream ID `since` touched any of paths.
local function stale_since(keys, since, paths)
    local entries = redis.call('XRANGE', keys[LOG], '(' .. since, '+', 'COUNT', 1001)
    if #entries > 1000 then
        return true
    end
    for _, e in ipairs(entries) do
        local touched = field(e, 'ps') or ''
        for p in (touched .. '\n'):gmatch('([^\n]*)\n') do
            for _, mine in ipairs(paths) do
                if overlaps(p, mine) then
                    return true
                end
            end
        end
    end
    return false
end

-- lark_read(): every leaf with the log position they are current at, in one instant:
-- [seq, last stream ID, leafpath, leafjson, ...].
local function lark_read(keys, args)
    local seq = redis.call('HGET', keys[META], 'seq') or '0'
    local last = redis.call('XREVRANGE', keys[LOG], '+', '-', 'COUNT', 1)
    local reply = { tonumber(seq), #last > 0 and last[1][1] or '0-0' }
    for _, v in ipairs(redis.call('HGETALL', keys[T])) do
        reply[#reply + 1] = v
    end
    return reply
end

-- lark_node_heartbeat(node, epoch, ttl): epoch 0 registers (a live lease of the same name expires at once, and the
-- new lease gets a new, larger epoch); otherwise renews, unless the lease has expired: an expired lease is never
-- renewed, the node registers again. Returns [epoch, expiry ms].
local function lark_node_heartbeat(keys, args)
    local node, epoch, ttl = args[1], args[2], tonumber(args[3])
    if not node or node == '' or node:find('#', 1, true) or not ttl or ttl < 1 then
        return redis.error_reply('BAD lark_node_heartbeat arguments')
    end
    local now = now_ms()
    if epoch == '0' then
        local prefix = node .. '#'
        for _, lease in ipairs(redis.call('ZRANGEBYSCORE', keys[1], '(' .. now, '+inf')) do
            if lease:sub(1, #prefix) == prefix then
                redis.call('ZADD', keys[1], now, lease)
            end
        end
        local fresh = redis.call('INCR', keys[2])
        redis.call('ZADD', keys[1], now + ttl, prefix .. fresh)
        return { fresh, now + ttl }
    end
    if fenced(keys[1], node, epoch) then
        return redis.error_reply('FENCED lease ' .. node .. '#' .. epoch .. ' has expired')
    end
    redis.call('ZADD', keys[1], 'XX', now + ttl, node .. '#' .. epoch)
    return { tonumber(epoch), now + ttl }
end

-- lark_nodes(): every lease with its expiry and Redis's time, for the dashboard: [now, lease, expiry, ...].
local function lark_nodes(keys, args)
    local reply = { now_ms() }
    for _, v in ipairs(redis.call('ZRANGE', keys[1], 0, -1, 'WITHSCORES')) do
        reply[#reply + 1] = v
    end
    return reply
end

-- Sessions (issue #17). {ns}:sess holds per session id three fields: <sid> its state as JSON
-- {st = live|suspended, own = lease, sk = public key, h = handle, fa = fire-at}, <sid>|q the fire plan
-- [[path, value as sent, arrays as objects], ...] that Lua resolves and applies when it fires, and <sid>|o what
-- the owner node keeps for a resume elsewhere (identity, ops), which Lua never reads. {ns}:own holds
-- "<lease>|<sid>" for every live session, so one lease's sessions are a lexical range; {ns}:dl the suspended ones
-- by fire-at.
local SESS, DL, OWN = 5, 6, 7

local function state_of(keys, sid)
    local text = redis.call('HGET', keys[SESS], sid)
    if not text then
        return nil
    end
    return cjson.decode(text)
end

local function save_state(keys, sid, st)
    redis.call('HSET', keys[SESS], sid, cjson.encode(st))
end

-- Numbers as the shortest of %.15g, %.16g, %.17g that reads back as the same double: Lua's cjson keeps 14 digits.
local function encode_number(n)
    if n ~= n or n == math.huge or n == -math.huge then
        return nil
    end
    if n == math.floor(n) and math.abs(n) < 1e15 then
        return string.format('%d', n)
    end
    for _, f in ipairs({ '%.15g', '%.16g', '%.17g' }) do
        local text = string.format(f, n)
        if tonumber(text) == n then
            return text
        end
    end
    return string.format('%.17g', n)
end

local function encode(v)
    local t = type(v)
    if v == cjson.null or v == nil then
        return 'null'
    elseif t == 'number' then
        return encode_number(v) or 'null'
    elseif t == 'string' then
        return cjson.encode(v)
    elseif t == 'boolean' then
        return v and 'true' or 'false'
    end
    local parts = {}
    for k, child in pairs(v) do
        parts[#parts + 1] = cjson.encode(tostring(k)) .. ':' .. encode(child)
    end
    return '{' .. table.concat(parts, ',') .. '}'
end

local function join(at, key)
    return at == '' and key or at .. '/' .. key
end

-- ServerValues against the tree as it is now: a timestamp is Redis's time, an increment adds to the number there
-- (or to nothing). Nil with a reason when the op must be skipped.
local function resolve(keys, v, at, now)
    if type(v) ~= 'table' or v == cjson.null then
        return v
    end
    local sv = v['.sv']
    if sv ~= nil then
        if sv == 'timestamp' then
            return now
        end
        if type(sv) == 'table' and type(sv.increment) == 'number' then
            local current = tonumber(redis.call('HGET', keys[T], at) or '')
            local sum = (current or 0) + sv.increment
            if sum ~= sum or sum == math.huge or sum == -math.huge then
                return nil, 'the increment overflows'
            end
            return sum
        end
        return nil, 'unknown server value'
    end
    local out = {}
    for k, child in pairs(v) do
        local below = (k == '.value' or k == '.priority') and at or join(at, k)
        local r, why = resolve(keys, child, below, now)
        if why then
            return nil, why
        end
        out[k] = r
    end
    return out
end

-- The leaves of a resolved value at path, as apply_set takes them; a priority only on a node with leaves.
local function flatten(v, at, out)
    local t = type(v)
    if v == nil or v == cjson.null then
        return
    elseif t == 'number' then
        local text = encode_number(v)
        if text then
            out[#out + 1] = at
            out[#out + 1] = text
        end
        return
    elseif t == 'string' then
        out[#out + 1] = at
        out[#out + 1] = cjson.encode(v)
        return
    elseif t == 'boolean' then
        out[#out + 1] = at
        out[#out + 1] = v and 'true' or 'false'
        return
    end
    local before = #out
    if v['.value'] ~= nil then
        flatten(v['.value'], at, out)
    else
        for k, child in pairs(v) do
            if k ~= '.priority' then
                flatten(child, join(at, k), out)
            end
        end
    end
    local p = v['.priority']
    if #out > before and (type(p) == 'number' or type(p) == 'string') then
        out[#out + 1] = join(at, '.priority')
        out[#out + 1] = type(p) == 'number' and encode_number(p) or cjson.encode(p)
    end
end

-- The leaves a resolved value sets at path: a priority is one leaf, and only a number or a string.
local function leaves_for(path, resolved)
    local leaves = {}
    if is_priority(path) then
        if type(resolved) == 'number' or type(resolved) == 'string' then
            leaves = { path, encode(resolved) }
        end
    else
        flatten(resolved, path, leaves)
    end
    return leaves
end

local function log_entry(keys, lease, kind, paths, payload, extra)
    local seq = redis.call('HINCRBY', keys[META], 'seq', 1)
    local args = { keys[LOG], 'MAXLEN', '~', 100000, '*', 'q', seq, 'k', kind, 'n', lease, 't', now_ms(), 'ps',
        table.concat(paths, '\n'), 'd', payload }
    for i = 1, #extra do
        args[#args + 1] = extra[i]
    end
    return redis.call('XADD', unpack(args))
end

-- Fires one session: resolves and applies its plan as one batch, logs it (k = f), and deletes the session.
local function fire(keys, sid, st, lease, why)
    local plan = cjson.decode(redis.call('HGET', keys[SESS], sid .. '|q') or '[]')
    local now = now_ms()
    local paths, sets, payload = {}, {}, {}
    for _, op in ipairs(plan) do
        local path, value = op[1], op[2]
        local resolved, skip = resolve(keys, value, path, now)
        if not skip then
            paths[#paths + 1] = path
            sets[#sets + 1] = { path, leaves_for(path, resolved) }
            payload[#payload + 1] = '[' .. cjson.encode(path) .. ',' .. encode(resolved) .. ']'
        end
    end
    for _, set in ipairs(sets) do
        apply_set(keys, set[1], set[2])
    end
    redis.call('HDEL', keys[SESS], sid, sid .. '|q', sid .. '|o')
    redis.call('ZREM', keys[DL], sid)
    redis.call('ZREM', keys[OWN], (st.own or '') .. '|' .. sid)
    log_entry(keys, lease, 'f', paths, '[' .. table.concat(payload, ',') .. ']',
        { 'o', 'o', 'h', st.h or '', 'sk', st.sk or '', 'why', why, 'own', st.own or '' })
    redis.call('SADD', keys[NSS], keys[T]:sub(2, -4))
end

local function namespace_call(keys, args, n)
    if #keys ~= 9 or #args < n then
        return nil, redis.error_reply('BAD arguments')
    end
    local refused = refuse_fenced(keys[NODES], args[1], args[2])
    if refused then
        return nil, refused
    end
    return args[1] .. '#' .. args[2]
end

-- One client request's writes in a lark_write call: origin, handle, n, [path, value, k, leafpath, leafjson x k] x n.
-- Returns the group and the index after it, or nil and the error.
local function parse_group(args, at, g)
    local origin, handle, n = args[at], args[at + 1], tonumber(args[at + 2])
    if not origin or not handle or not n then
        return nil, 'BAD lark_write group ' .. g
    end
    local sets = {}
    at = at + 3
    for s = 1, n do
        local path, value, k = args[at], args[at + 1], tonumber(args[at + 2])
        if not path or not value or not k or at + 2 + 2 * math.max(k, 0) > #args then
            return nil, 'BAD lark_write group ' .. g .. ' set ' .. s
        end
        if k < 0 then
            local ok, decoded = pcall(cjson.decode, value)
            if not ok then
                return nil, 'BAD lark_write group ' .. g .. ' set ' .. s .. ' is not JSON'
            end
            sets[s] = { path = path, raw = decoded }
            at = at + 3
        else
            sets[s] = { path = path, text = value, leaves = { unpack(args, at + 3, at + 2 + 2 * k) } }
            at = at + 3 + 2 * k
        end
    end
    return { origin = origin, handle = handle, sets = sets }, at
end

-- Applies one group as one stream entry (one event for the listeners); its ServerValues resolve against the tree
-- as the groups before it left it, as on a single server. Returns the entry's ID, or "!" and why the group alone
-- was refused (nothing of it applied).
local function write_group(keys, lease, group)
    local now = now_ms()
    for _, set in ipairs(group.sets) do
        if set.raw ~= nil then
            local resolved, why = resolve(keys, set.raw, set.path, now)
            if why then
                return '!BAD ' .. why
            end
            set.leaves = leaves_for(set.path, resolved)
            set.text = encode(resolved)
        end
    end
    local paths, payload = {}, {}
    for s, set in ipairs(group.sets) do
        apply_set(keys, set.path, set.leaves)
        paths[s] = set.path
        payload[s] = '[' .. cjson.encode(set.path) .. ',' .. set.text .. ']'
    end
    return log_entry(keys, lease, 'w', paths, '[' .. table.concat(payload, ',') .. ']',
        { 'o', group.origin, 'h', group.handle })
end

-- lark_write(node, epoch, since, g, group x g): the writes one node gathered in one round of its event loop, in
-- order, each group one client request (see parse_group). origin: c (client), a (admin), i (import), o
-- (onDisconnect). A set's value is its export JSON with its leaves encoded by the node; with k = -1 instead, it is
-- the JSON as sent, with ServerValues for Redis to resolve now (so that two nodes incrementing one path both count).
-- since: a transaction, which comes alone; DATASTALE if its paths changed after that stream ID. Returns
-- [seq, result x g], each result as write_group's.
local function lark_write(keys, args)
    local node, epoch, since, g = args[1], args[2], args[3], tonumber(args[4])
    if not g or #keys ~= 9 then
        return redis.error_reply('BAD lark_write arguments')
    end
    -- Parse before the first write: a bad call must change nothing.
    local groups, at = {}, 5
    for i = 1, g do
        local group, next_at = parse_group(args, at, i)
        if not group then
            return redis.error_reply(next_at)
        end
        groups[i], at = group, next_at
    end
    if at ~= #args + 1 then
        return redis.error_reply('BAD lark_write: extra arguments')
    end
    local refused = refuse_fenced(keys[NODES], node, epoch)
    if refused then
        return refused
    end
    if since ~= '' then
        local paths = {}
        for _, group in ipairs(groups) do
            for _, set in ipairs(group.sets) do
                paths[#paths + 1] = set.path
            end
        end
        if stale_since(keys, since, paths) then
            return redis.error_reply('DATASTALE the data changed since ' .. since)
        end
    end
    local reply = { 0 }
    for i, group in ipairs(groups) do
        reply[i + 1] = write_group(keys, node .. '#' .. epoch, group)
    end
    reply[1] = tonumber(redis.call('HGET', keys[META], 'seq'))
    redis.call('SADD', keys[NSS], keys[T]:sub(2, -4)) -- {ns}:t → ns
    return reply
end

-- lark_session_open(node, epoch, sid, sk, handle, kept): a new live session owned by the caller.
local function lark_session_open(keys, args)
    local lease, err = namespace_call(keys, args, 6)
    if not lease then
        return err
    end
    local sid = args[3]
    if redis.call('HEXISTS', keys[SESS], sid) == 1 then
        return redis.error_reply('BAD session exists')
    end
    save_state(keys, sid, { st = 'live', own = lease, sk = args[4], h = args[5] })
    redis.call('HSET', keys[SESS], sid .. '|q', '[]', sid .. '|o', args[6])
    redis.call('ZADD', keys[OWN], 0, lease .. '|' .. sid)
    redis.call('SADD', keys[NSS], keys[T]:sub(2, -4))
    return 'ok'
end

-- lark_session_save(node, epoch, sid, plan, kept): after o / om / oc or an identity change, by the owner only.
local function lark_session_save(keys, args)
    local lease, err = namespace_call(keys, args, 5)
    if not lease then
        return err
    end
    local sid, plan = args[3], args[4]
    local st = state_of(keys, sid)
    if not st then
        return redis.error_reply('NO_SESSION')
    end
    if st.st ~= 'live' or st.own ~= lease then
        return redis.error_reply('NOT_OWNER ' .. (st.own or ''))
    end
    if not pcall(cjson.decode, plan) then
        return redis.error_reply('BAD plan is not JSON')
    end
    redis.call('HSET', keys[SESS], sid .. '|q', plan, sid .. '|o', args[5])
    return 'ok'
end

-- lark_session_suspend(node, epoch, sid, grace): the owner lost the socket. grace 0 (a clean close) fires now.
local function lark_session_suspend(keys, args)
    local lease, err = namespace_call(keys, args, 4)
    if not lease then
        return err
    end
    local sid, grace = args[3], tonumber(args[4])
    if not grace or grace < 0 then
        return redis.error_reply('BAD grace')
    end
    local st = state_of(keys, sid)
    if not st then
        return redis.error_reply('NO_SESSION')
    end
    if st.st ~= 'live' or st.own ~= lease then
        return redis.error_reply('NOT_OWNER ' .. (st.own or ''))
    end
    if grace == 0 then
        fire(keys, sid, st, lease, 'close')
        return 'fired'
    end
    redis.call('ZREM', keys[OWN], lease .. '|' .. sid)
    st.st = 'suspended'
    st.fa = now_ms() + grace
    save_state(keys, sid, st)
    redis.call('ZADD', keys[DL], st.fa, sid)
    return st.fa
end

-- lark_session_resume(node, epoch, sid): the caller owns it from now on, live. A session still live on another
-- node is taken from it (a kick entry tells that node to close its socket without firing).
-- Returns ["resumed", handle, kept] or ["ended"].
local function lark_session_resume(keys, args)
    local lease, err = namespace_call(keys, args, 3)
    if not lease then
        return err
    end
    local sid = args[3]
    local st = state_of(keys, sid)
    if not st then
        return { 'ended' }
    end
    if st.st == 'suspended' then
        redis.call('ZREM', keys[DL], sid)
    else
        redis.call('ZREM', keys[OWN], st.own .. '|' .. sid)
        if st.own ~= lease then
            log_entry(keys, lease, 'r', {}, '[]', { 'sk', st.sk or '', 'h', st.h or '', 'own', st.own })
        end
    end
    st.st = 'live'
    st.own = lease
    st.fa = nil
    save_state(keys, sid, st)
    redis.call('ZADD', keys[OWN], 0, lease .. '|' .. sid)
    return { 'resumed', st.h or '', redis.call('HGET', keys[SESS], sid .. '|o') or '' }
end

-- lark_fire_due(node, epoch, limit[, budget µs]): fires up to limit sessions whose grace has ended, within the budget.
-- Returns [fired, still due].
local function lark_fire_due(keys, args)
    local lease, err = namespace_call(keys, args, 3)
    if not lease then
        return err
    end
    local now = now_ms()
    local started, budget = clock_us(), tonumber(args[4]) or BUDGET_US
    local due = redis.call('ZRANGEBYSCORE', keys[DL], '-inf', now, 'LIMIT', 0, tonumber(args[3]) or 50)
    local done = 0
    for _, sid in ipairs(due) do
        local st = state_of(keys, sid)
        if st and st.st == 'suspended' then
            fire(keys, sid, st, lease, 'grace')
        else
            redis.call('ZREM', keys[DL], sid)
        end
        done = done + 1
        if clock_us() - started >= budget then
            break
        end
    end
    return { done, redis.call('ZCOUNT', keys[DL], '-inf', now) }
end

-- lark_take_over(node, epoch, dead, grace, limit[, budget µs]): the live sessions of an expired lease become suspended
-- with a fresh grace (then they fire, or resume anywhere). Returns [moved, remaining].
local function lark_take_over(keys, args)
    local lease, err = namespace_call(keys, args, 5)
    if not lease then
        return err
    end
    local dead, grace, limit = args[3], tonumber(args[4]), tonumber(args[5]) or 200
    local expiry = redis.call('ZSCORE', keys[NODES], dead)
    local now = now_ms()
    if expiry and tonumber(expiry) > now then
        return redis.error_reply('NOT_DEAD ' .. dead)
    end
    local started, budget = clock_us(), tonumber(args[6]) or BUDGET_US
    local members = redis.call('ZRANGEBYLEX', keys[OWN], '[' .. dead .. '|', '(' .. dead .. '}', 'LIMIT', 0, limit)
    local done = 0
    for _, member in ipairs(members) do
        local sid = member:sub(#dead + 2)
        local st = state_of(keys, sid)
        if st and st.st == 'live' and st.own == dead then
            st.st = 'suspended'
            st.fa = now + grace
            save_state(keys, sid, st)
            redis.call('ZADD', keys[DL], st.fa, sid)
        end
        redis.call('ZREM', keys[OWN], member)
        done = done + 1
        if clock_us() - started >= budget then
            break
        end
    end
    return { done, redis.call('ZLEXCOUNT', keys[OWN], '[' .. dead .. '|', '(' .. dead .. '}') }
end

-- lark_sessions(limit): for the dashboard, which node each session of the namespace is on, without its id:
-- [now, lease, handle, state, fire-at, ...], the live ones (by lease) then the suspended ones, at most limit each.
local function lark_sessions(keys, args)
    local limit = tonumber(args[1]) or 200
    local out = { now_ms() }
    local function add(sid)
        local st = state_of(keys, sid)
        if st then
            out[#out + 1] = st.own or ''
            out[#out + 1] = st.h or ''
            out[#out + 1] = st.st or ''
            out[#out + 1] = tostring(st.fa or 0)
        end
    end
    for _, member in ipairs(redis.call('ZRANGE', keys[OWN], 0, limit - 1)) do
        local sid = member:match('#%d+|(.+)$') -- "<node>#<epoch>|<sid>"
        if sid then
            add(sid)
        end
    end
    for _, sid in ipairs(redis.call('ZRANGE', keys[DL], 0, limit - 1)) do
        add(sid)
    end
    return out
end

-- lark_expired(node, epoch) / lark_forget_node(node, epoch, dead), on the node keys: the leases that ran out, and
-- dropping one once its sessions were taken over in every namespace.
local function lark_expired(keys, args)
    return refuse_fenced(keys[1], args[1], args[2]) or redis.call('ZRANGEBYSCORE', keys[1], '-inf', now_ms())
end

local function lark_forget_node(keys, args)
    local refused = refuse_fenced(keys[1], args[1], args[2])
    if refused then
        return refused
    end
    local expiry = redis.call('ZSCORE', keys[1], args[3])
    if expiry and tonumber(expiry) > now_ms() then
        return redis.error_reply('NOT_DEAD ' .. args[3])
    end
    return redis.call('ZREM', keys[1], args[3])
end

redis.register_function('lark_session_open', lark_session_open)
redis.register_function('lark_session_save', lark_session_save)
redis.register_function('lark_session_suspend', lark_session_suspend)
redis.register_function('lark_session_resume', lark_session_resume)
redis.register_function('lark_fire_due', lark_fire_due)
redis.register_function('lark_take_over', lark_take_over)
redis.register_function('lark_expired', lark_expired)
redis.register_function('lark_forget_node', lark_forget_node)

redis.register_function('lark_write', lark_write)
redis.register_function { function_name = 'lark_read', callback = lark_read, flags = { 'no-writes' } }
redis.register_function('lark_node_heartbeat', lark_node_heartbeat)
redis.register_function { function_name = 'lark_nodes', callback = lark_nodes, flags = { 'no-writes' } }
redis.register_function { function_name = 'lark_sessions', callback = lark_sessions, flags = { 'no-writes' } }
