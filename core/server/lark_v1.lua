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

-- The caller's lease must exist and not have expired (docs: node leases with epoch fencing).
local function fenced(nodes, node, epoch)
    local expiry = redis.call('ZSCORE', nodes, node .. '#' .. epoch)
    return not expiry or tonumber(expiry) <= now_ms()
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

-- lark_write(node, epoch, since, origin, handle, payload, n, [path, k, leafpath, leafjson x k] x n)
-- origin: c (client), a (admin), i (import), o (onDisconnect). payload: the batch as the nodes apply it,
-- [[path, export JSON], ...], already encoded. Returns [seq, stream ID].
local function lark_write(keys, args)
    local node, epoch, since, origin, handle, payload = args[1], args[2], args[3], args[4], args[5], args[6]
    local n = tonumber(args[7])
    if not n or not payload or #keys ~= 9 then
        return redis.error_reply('BAD lark_write arguments')
    end
    -- Parse before the first write: a bad call must change nothing.
    local sets, at = {}, 8
    for s = 1, n do
        local path, k = args[at], tonumber(args[at + 1])
        if not path or not k or at + 1 + 2 * k > #args then
            return redis.error_reply('BAD lark_write set ' .. s)
        end
        sets[s] = { path = path, leaves = { unpack(args, at + 2, at + 1 + 2 * k) } }
        at = at + 2 + 2 * k
    end
    if at ~= #args + 1 then
        return redis.error_reply('BAD lark_write: extra arguments')
    end
    if fenced(keys[NODES], node, epoch) then
        return redis.error_reply('FENCED lease ' .. node .. '#' .. epoch .. ' is not valid')
    end
    local paths = {}
    for s = 1, n do
        paths[s] = sets[s].path
    end
    if since ~= '' and stale_since(keys, since, paths) then
        return redis.error_reply('DATASTALE the data changed since ' .. since)
    end
    for s = 1, n do
        apply_set(keys, sets[s].path, sets[s].leaves)
    end
    local seq = redis.call('HINCRBY', keys[META], 'seq', 1)
    local id = redis.call('XADD', keys[LOG], 'MAXLEN', '~', 100000, '*', 'q', seq, 'k', 'w', 'n',
        node .. '#' .. epoch, 't', now_ms(), 'ps', table.concat(paths, '\n'), 'o', origin, 'h', handle, 'd', payload)
    redis.call('SADD', keys[NSS], keys[T]:sub(2, -4)) -- {ns}:t → ns
    return { seq, id }
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

redis.register_function('lark_write', lark_write)
redis.register_function { function_name = 'lark_read', callback = lark_read, flags = { 'no-writes' } }
redis.register_function('lark_node_heartbeat', lark_node_heartbeat)
redis.register_function { function_name = 'lark_nodes', callback = lark_nodes, flags = { 'no-writes' } }
