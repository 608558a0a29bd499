import OpsKit

/// Where each piece of shared state lives in Redis (docs/redis-keys.md). Everything the matching
/// scripts touch carries the `{match}` hash tag, so on Redis Cluster it sits in one slot.
enum RedisKeys {
    static let queue = RedisProbe.matchQueueKey
    static func session(_ id: String) -> String { "session:\(id)" }
    static func resume(_ token: String) -> String { "resume:\(token)" }
    static func buffer(_ session: String) -> String { "buffer:\(session)" }
    static func ban(_ ipHash: String) -> String { "ban:\(ipHash)" }
    /// Present while the instance is alive (refreshed every second, expires after 5 s).
    static func server(_ name: String) -> String { "server:\(name)" }
    static func reports(_ ipHash: String) -> String { "reports:\(ipHash)" }

    /// The exact-interest-set key's suffix: a short digest of the sorted set.
    static func interestSetHash(_ interests: Set<String>) -> String {
        String(Digest.sha256Hex(interests.sorted().joined(separator: "\n")).prefix(16))
    }
}

/// The Lua scripts that make matching atomic across instances: each runs alone on the Redis
/// server, so two instances can never take the same waiting user.
enum MatchScripts {
    /// Removes a session and its interest entries from the queue; returns its interests or nil.
    private static let prelude = """
        local queue = KEYS[1]
        local function unqueue(s)
          local meta = redis.call('GET', '{match}:waiting:' .. s)
          redis.call('ZREM', queue, s)
          if not meta then return nil end
          local lines = {}
          for line in string.gmatch(meta, '[^\\n]+') do table.insert(lines, line) end
          redis.call('ZREM', '{match}:exact:' .. lines[1], s)
          local interests = {}
          for i = 2, #lines do
            redis.call('ZREM', '{match}:interest:' .. lines[i], s)
            table.insert(interests, lines[i])
          end
          redis.call('DEL', '{match}:waiting:' .. s)
          return interests
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local function taken(s, score)
          local interests = unqueue(s) or {}
          return {s, tostring(now - score), interests}
        end

        """

    /// KEYS: queue. ARGV: session, exact-set hash, fallback ms, interests...
    /// Returns {partner, waited ms, partner's interests} or nil after queueing the session.
    static let find = RedisScript(name: "find", source: prelude + """
        local session, exact, fallback = ARGV[1], ARGV[2], tonumber(ARGV[3])
        unqueue(session)
        local function oldest(key)
          local r = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
          if #r == 0 then return nil, nil end
          return r[1], tonumber(r[2])
        end
        local best, score = oldest('{match}:exact:' .. exact)
        if not best then
          for i = 4, #ARGV do
            local s, sc = oldest('{match}:interest:' .. ARGV[i])
            if s and (not score or sc < score) then best, score = s, sc end
          end
        end
        if not best then
          local r = redis.call('ZRANGEBYSCORE', queue, '-inf', now - fallback, 'WITHSCORES', 'LIMIT', 0, 1)
          if #r > 0 then best, score = r[1], tonumber(r[2]) end
        end
        if best then return taken(best, score) end
        redis.call('ZADD', queue, now, session)
        redis.call('ZADD', '{match}:exact:' .. exact, now, session)
        local meta = exact
        for i = 4, #ARGV do
          redis.call('ZADD', '{match}:interest:' .. ARGV[i], now, session)
          meta = meta .. '\\n' .. ARGV[i]
        end
        redis.call('SET', '{match}:waiting:' .. session, meta)
        return false
        """)

    /// KEYS: queue. ARGV: session. Pairs a queued session with the longest-waiting other user.
    static let fallback = RedisScript(name: "fallback", source: prelude + """
        local session = ARGV[1]
        if not redis.call('ZSCORE', queue, session) then return false end
        local r = redis.call('ZRANGE', queue, 0, 1, 'WITHSCORES')
        for i = 1, #r, 2 do
          if r[i] ~= session then
            unqueue(session)
            return taken(r[i], tonumber(r[i + 1]))
          end
        end
        return false
        """)

    /// KEYS: queue. ARGV: session. Returns 1 if it was queued.
    static let dequeue = RedisScript(name: "dequeue", source: prelude + """
        local was = redis.call('ZSCORE', queue, ARGV[1])
        unqueue(ARGV[1])
        if was then return 1 end
        return 0
        """)
}

/// Session bookkeeping that must not race between instances.
enum SessionScripts {
    /// KEYS: session, resume token key. ARGV: connection id, window ms, last sent, last delivered,
    /// rate window start (ms), messages, bytes. Marks the session away, unless a newer connection
    /// owns it.
    static let away = RedisScript(name: "away", source: """
        if redis.call('HGET', KEYS[1], 'conn') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'state', 'away', 'last_sent', ARGV[3], 'last_delivered', ARGV[4],
          'rate_since', ARGV[5], 'rate_msgs', ARGV[6], 'rate_bytes', ARGV[7])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        return 1
        """)

    /// KEYS: session, resume token key. ARGV: token, connection id, server, ttl ms, force (0/1),
    /// instance id. Takes the session over; returns its fields as they were, or nil. Unless
    /// forced, a session still connected through another connection is not taken: the reply is
    /// `{"busy", server, connection, instance}`, and the caller asks that connection to hand over
    /// (it records where it stopped) first.
    static let claim = RedisScript(name: "claim", source: """
        if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return false end
        if ARGV[5] ~= '1' and redis.call('HGET', KEYS[1], 'state') == 'connected' and redis.call('HGET', KEYS[1], 'conn') ~= ARGV[2] then
          return {'busy', redis.call('HGET', KEYS[1], 'server') or '', redis.call('HGET', KEYS[1], 'conn') or '',
            redis.call('HGET', KEYS[1], 'inst') or ''}
        end
        local before = redis.call('HGETALL', KEYS[1])
        redis.call('HSET', KEYS[1], 'conn', ARGV[2], 'server', ARGV[3], 'state', 'connected', 'inst', ARGV[6])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        return before
        """)
}
