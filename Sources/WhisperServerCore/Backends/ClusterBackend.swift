import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OpsKit

/// Shared state in Redis and routing through NATS, so users on different instances chat as if
/// on one. Subjects: `match.found.<session>` for matches, `session.<session>` for partner events,
/// `chat.<chat>.<session>` for messages to that session (docs/redis-keys.md).
///
/// Both clients are thread-safe; the subscriptions table sits behind `lock`, hence
/// `@unchecked Sendable`.
final class ClusterBackend: ChatBackend, @unchecked Sendable {
    let redis: RedisClient
    let nats: NATSClient
    let configuration: ServerConfiguration
    let logger: Logger
    let lock = NIOLock()
    var routes: [String: [NATSClient.Subscription]] = [:]
    var deliver: (@Sendable (PeerEvent, String) -> Void)?
    private var depth = 0
    private var monitor: RepeatedTask?
    /// Where remote partners were last seen, for the crash check (`unreachable`).
    private var partnerLocations = PartnerLocations()
    /// When Redis last came back, perhaps empty: until every instance has written its sessions
    /// and liveness again, a missing one proves nothing.
    private var stateLostAt = NIODeadline.distantPast
    /// Sessions stay this long while connected; a crashed instance's sessions expire by themselves.
    static let connectedTTL: Duration = .seconds(86_400)
    static let bufferTTL: Duration = .seconds(3600)
    /// An instance that has not refreshed its `server:<name>` key for this long is gone.
    static let liveness: Duration = .seconds(5)
    /// This process among the instances, also across restarts under the same SERVER_NAME: the
    /// sessions it connects carry it (`inst`), and its Redis connection is named after it, so a
    /// resume elsewhere can tell whether the process holding a session is still there.
    let instanceID: String

    static func instanceID(serverName: String) -> String {
        let name = String(serverName.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        return "\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(SessionID.make(length: 8))"
    }

    init(configuration: ServerConfiguration, group: EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        instanceID = Self.instanceID(serverName: configuration.serverName)
        var redisOptions = RedisClient.Options()
        redisOptions.commandTimeout = configuration.redisTimeout
        redisOptions.clientName = "whisper-server:" + instanceID
        redis = RedisClient(address: configuration.redisAddress!, options: redisOptions, group: group, logger: logger)
        var natsOptions = NATSClient.Options()
        natsOptions.name = configuration.serverName
        // This instance delivers to its own sessions directly; it never needs its own publishes back.
        natsOptions.echo = false
        natsOptions.pingInterval = configuration.natsPingInterval
        nats = NATSClient(servers: configuration.natsServers, options: natsOptions, group: group, logger: logger)
    }

    func start(
        deliver: @escaping @Sendable (PeerEvent, String) -> Void, busRestored: @escaping @Sendable () -> Void,
        stateLost: @escaping @Sendable () -> Void
    ) {
        lock.withLock { self.deliver = deliver }
        // Every reconnection after the first may follow messages the bus dropped, or a Redis that
        // restarted empty: sessions catch up, and write themselves again.
        let natsConnections = NIOLockedValueBox(0)
        nats.onStateChange { state in
            guard state == .connected else { return }
            if natsConnections.withLockedValue({ $0 += 1; return $0 }) > 1 { busRestored() }
        }
        let redisConnections = NIOLockedValueBox(0)
        redis.onStateChange { [weak self] state in
            guard state == .connected, let self else { return }
            guard redisConnections.withLockedValue({ $0 += 1; return $0 }) > 1 else { return }
            lock.withLock { stateLostAt = .now() }
            stateLost()
        }
        redis.start()
        nats.start()
        // Each second: a PING notices a stopped Redis (the command times out), the queue depth
        // stays fresh for /metrics, and this instance's liveness key is renewed, so partners of
        // its users learn if it dies without draining.
        let liveness = [
            "SET", RedisKeys.server(configuration.serverName), String(ProcessInfo.processInfo.processIdentifier), "PX",
            String(Self.liveness.milliseconds),
        ]
        monitor = redis.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(1)) { [self] _ in
            redis.pipeline([["PING"], ["ZCARD", RedisKeys.queue], liveness]).whenSuccess { [self] replies in
                if let count = replies[1].int { lock.withLock { depth = count } }
            }
        }
    }

    func shutdown() async {
        monitor?.cancel()
        // Best effort on the way out: the key expires with its TTL if Redis does not answer.
        _ = try? await redis.command("DEL", RedisKeys.server(configuration.serverName))
        // Let publishes queued for sessions leaving now reach the server before the connection goes.
        try? await nats.flush(timeout: .seconds(1))
        await nats.close()
        await redis.close()
    }

    // MARK: Sessions

    func register(_ record: SessionRecord) async throws {
        route(record.session)
        let ttl = String(Self.connectedTTL.milliseconds)
        var fields = [
            "HSET", RedisKeys.session(record.session), "token", record.resumeToken, "ip_hash", record.ipHash, "server", record.server,
            "conn", record.connectionID, "state", "connected", "inst", instanceID, "created_at", String(Int(Date().timeIntervalSince1970)),
            "last_sent", String(record.lastSent), "last_delivered", String(record.lastDelivered),
        ]
        if let chat = record.chat, let partner = record.partner { fields += ["chat", chat, "partner", partner] }
        _ = try await check(redis.pipeline([
            fields, ["PEXPIRE", RedisKeys.session(record.session), ttl], ["SET", RedisKeys.resume(record.resumeToken), record.session, "PX", ttl],
        ]).get())
        // A partner on another instance may publish to us the moment it knows us.
        try await nats.flush()
    }

    func claim(resumeToken: String, connectionID: String, server: String) async throws -> ClaimedSession? {
        guard let session = try await redis.command("GET", RedisKeys.resume(resumeToken)).string else { return nil }
        let items = try await claimAfterHandover(session: session, resumeToken: resumeToken, connectionID: connectionID, server: server)
        guard let items else { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string { fields[key] = items[index + 1].string }
        }
        route(session)
        var previous = SessionRecord(
            session: session, resumeToken: resumeToken, ipHash: fields["ip_hash"] ?? "", server: fields["server"] ?? "",
            connectionID: fields["conn"] ?? "", chat: fields["chat"], partner: fields["partner"],
            lastSent: Int(fields["last_sent"] ?? "") ?? 0, lastDelivered: Int(fields["last_delivered"] ?? "") ?? 0,
            rate: Int64(fields["rate_since"] ?? "").flatMap { since in
                since > 0 ? RateCounters(windowStartMs: since, messages: Int(fields["rate_msgs"] ?? "") ?? 0, bytes: Int(fields["rate_bytes"] ?? "") ?? 0) : nil
            })
        // Taken while still connected elsewhere (its instance is gone, or never handed over): that
        // connection, if it still exists, closes quietly.
        if fields["state"] == "connected", previous.connectionID != connectionID {
            publish(.takeover(connectionID: previous.connectionID, handOver: false), to: session, chat: nil)
        }
        // What the partner's buffer holds of ours: newer than `last_sent` if our instance crashed.
        var stored: [String: Int] = [:]
        if let partner = previous.partner {
            let sent = StoredMessage.sentBy(try await kept(for: partner, after: 0))
            stored = sent.stored
            previous.lastSent = max(previous.lastSent, sent.lastSent)
        }
        try await nats.flush()
        return ClaimedSession(record: previous, stored: stored)
    }

    /// How long a resume waits for the session's old connection, on a live instance, to record
    /// where it stopped before the session is taken anyway.
    static let handoverWait: Duration = .seconds(15)

    /// Runs the claim script. While the session is still connected through another connection
    /// (the client came back before its old instance noticed it gone, or that instance is slow to
    /// record the departure), that connection is asked to hand over: it records its last message
    /// and closes, and the claim then reads a session numbered where it really stopped. The outcome
    /// does not depend on which side is faster. An instance that is gone (no liveness key) is not
    /// waited for, and none longer than `handoverWait`.
    private func claimAfterHandover(session: String, resumeToken: String, connectionID: String, server: String) async throws -> [RESPValue]? {
        let keys = [RedisKeys.session(session), RedisKeys.resume(resumeToken)]
        let deadline = ContinuousClock.now + Self.handoverWait
        var asked: String?
        var force = false
        while true {
            let reply = try await redis.run(
                SessionScripts.claim, keys: keys,
                arguments: [resumeToken, connectionID, server, String(Self.connectedTTL.milliseconds), force ? "1" : "0", instanceID])
            guard let items = reply.array else { return nil }
            guard items.count == 4, items[0].string == "busy", let holder = items[1].string, let holderConnection = items[2].string else { return items }
            let alive = try await isRunning(instance: items[3].string ?? "", server: holder)
            if !alive || ContinuousClock.now >= deadline {
                logger.info("session.claimed_without_handover", metadata: ["session": "\(session)", "from": "\(holder)", "alive": "\(alive)"])
                force = true
                continue
            }
            if asked != holderConnection {
                asked = holderConnection
                let handover = PeerEvent.takeover(connectionID: holderConnection, handOver: true)
                if holder == configuration.serverName {
                    // Our own publishes never come back to us: hand it to the session here.
                    lock.withLock { deliver }?(handover, session)
                } else {
                    publish(handover, to: session, chat: nil)
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Whether the process that connected a session is still there: its Redis connection, named
    /// after its instance, is in CLIENT LIST (a killed process's connection closes at once, and a
    /// restarted one has a new instance id). Where CLIENT LIST is not allowed, or the session
    /// predates instance ids, the instance's liveness key decides.
    private func isRunning(instance: String, server: String) async throws -> Bool {
        if !instance.isEmpty, let clients = try? await redis.command("CLIENT", "LIST", "TYPE", "normal").string {
            return clients.contains(" name=whisper-server:\(instance) ")
        }
        return try await redis.command("EXISTS", RedisKeys.server(server)).int == 1
    }

    func markAway(_ record: SessionRecord, window: Duration) async throws -> Bool {
        let reply = try await redis.run(
            SessionScripts.away, keys: [RedisKeys.session(record.session), RedisKeys.resume(record.resumeToken)],
            arguments: [
                record.connectionID, String(max(1, window.milliseconds)), String(record.lastSent), String(record.lastDelivered),
                String(record.rate?.windowStartMs ?? 0), String(record.rate?.messages ?? 0), String(record.rate?.bytes ?? 0),
            ])
        return reply.int == 1
    }

    func isConnected(session: String) async throws -> Bool {
        let (gone, located) = try await locate([session])
        guard !gone.contains(session), let server = located[session] else { return false }
        return try await liveServers([server]).contains(server)
    }

    /// The periodic crash check: one EXISTS per instance the partners are on, a full look-up only
    /// now and then (`PartnerLocations`), so its cost does not grow with the number of chats.
    func unreachable(_ sessions: [String]) async throws -> Set<String> {
        guard !sessions.isEmpty else { return [] }
        let settling = lock.withLock { NIODeadline.now() - stateLostAt < .init(Self.liveness) * 2 }
        if settling { return [] }
        let toLocate = lock.withLock { partnerLocations.begin(sessions) }
        var (gone, located) = try await locate(toLocate)
        let remembered = lock.withLock {
            partnerLocations.record(located)
            return partnerLocations.servers.filter { located[$0.key] == nil && !gone.contains($0.key) }
        }
        var alive = try await liveServers(Set(located.values).union(remembered.values))
        // A remembered instance that is gone: the partner may have moved on before it died.
        let recheck = remembered.filter { !alive.contains($0.value) }.map(\.key)
        if !recheck.isEmpty {
            let again = try await locate(recheck)
            gone.formUnion(again.gone)
            located.merge(again.located) { _, new in new }
            lock.withLock { partnerLocations.record(again.located) }
            alive.formUnion(try await liveServers(Set(again.located.values).subtracting(alive)))
        }
        for (session, server) in located where !alive.contains(server) { gone.insert(session) }
        for (session, server) in remembered where located[session] == nil && !alive.contains(server) { gone.insert(session) }
        lock.withLock { partnerLocations.forget(gone) }
        return gone
    }

    /// Where each session is connected; those that are not (away, expired) are `gone`.
    private func locate(_ sessions: [String]) async throws -> (gone: Set<String>, located: [String: String]) {
        guard !sessions.isEmpty else { return ([], [:]) }
        let states = try await check(redis.pipeline(sessions.map { ["HMGET", RedisKeys.session($0), "state", "server"] }).get())
        var gone = Set<String>()
        var located: [String: String] = [:]
        for (session, reply) in zip(sessions, states) {
            let fields = reply.array ?? []
            if fields.count == 2, fields[0].string == "connected", let server = fields[1].string {
                located[session] = server
            } else {
                gone.insert(session)
            }
        }
        return (gone, located)
    }

    /// Which of `servers` have renewed their liveness key.
    private func liveServers(_ servers: Set<String>) async throws -> Set<String> {
        guard !servers.isEmpty else { return [] }
        let names = Array(servers)
        let replies = try await check(redis.pipeline(names.map { ["EXISTS", RedisKeys.server($0)] }).get())
        return Set(zip(names, replies).compactMap { $1.int == 1 ? $0 : nil })
    }

    func forget(session: String) async {
        stopRouting(session: session)
        // Cleanup of a session that is gone: every key here has a TTL, so a failure only delays it.
        let token = try? await redis.command("HGET", RedisKeys.session(session), "token").string
        var commands = [["DEL", RedisKeys.session(session), RedisKeys.buffer(session)]]
        if let token { commands.append(["DEL", RedisKeys.resume(token)]) }
        _ = try? await redis.pipeline(commands).get()
        _ = try? await dequeue(session: session)
    }

    func stopRouting(session: String) {
        let subscriptions = lock.withLock { routes.removeValue(forKey: session) } ?? []
        for subscription in subscriptions { nats.unsubscribe(subscription) }
    }

    func setChat(_ chat: String, between first: String, and second: String) async throws {
        _ = try await check(redis.pipeline([
            ["HSET", RedisKeys.session(first), "chat", chat, "partner", second, "last_sent", "0", "last_delivered", "0"],
            ["HSET", RedisKeys.session(second), "chat", chat, "partner", first, "last_sent", "0", "last_delivered", "0"],
            ["DEL", RedisKeys.buffer(first), RedisKeys.buffer(second)],
        ]).get())
    }

    func clearChat(of session: String) async throws {
        _ = try await redis.command("HDEL", RedisKeys.session(session), "chat", "partner")
    }

    func ipHash(of session: String) async throws -> String? {
        try await redis.command("HGET", RedisKeys.session(session), "ip_hash").string
    }

    // MARK: Matching

    func findPartner(session: String, interests: Set<String>, fallback: Duration) async throws -> MatchCandidate? {
        let reply = try await redis.run(
            MatchScripts.find, keys: [RedisKeys.queue],
            arguments: [session, RedisKeys.interestSetHash(interests), String(fallback.milliseconds)] + interests.sorted())
        return Self.candidate(reply)
    }

    func fallbackPartner(session: String) async throws -> MatchCandidate? {
        Self.candidate(try await redis.run(MatchScripts.fallback, keys: [RedisKeys.queue], arguments: [session]))
    }

    @discardableResult
    func dequeue(session: String) async throws -> Bool {
        try await redis.run(MatchScripts.dequeue, keys: [RedisKeys.queue], arguments: [session]).int == 1
    }

    private static func candidate(_ reply: RESPValue) -> MatchCandidate? {
        guard let items = reply.array, items.count == 3, let session = items[0].string else { return nil }
        let waited = Duration.milliseconds(items[1].int ?? 0)
        return MatchCandidate(session: session, interests: Set(items[2].array?.compactMap(\.string) ?? []), waited: waited)
    }

    var queueDepth: Int { lock.withLock { depth } }

    // MARK: Bans

    func isBanned(ipHash: String) async throws -> Bool {
        try await redis.command("EXISTS", RedisKeys.ban(ipHash)).int == 1
    }

    func countReport(against ipHash: String, threshold: Int, window: Duration, banFor: Duration) async throws -> Bool {
        let key = RedisKeys.reports(ipHash)
        let now = Int(Date().timeIntervalSince1970 * 1000)
        let replies = try await check(redis.pipeline([
            ["ZADD", key, String(now), "\(now)-\(UUID().uuidString)"],
            ["ZREMRANGEBYSCORE", key, "-inf", String(now - Int(window.milliseconds))],
            ["ZCARD", key],
            ["PEXPIRE", key, String(window.milliseconds)],
        ]).get())
        guard (replies[2].int ?? 0) >= threshold else { return false }
        let set = try await redis.command("SET", RedisKeys.ban(ipHash), "1", "PX", String(banFor.milliseconds), "NX")
        return set == .status("OK")
    }

    // MARK: Health

    var isAvailable: Bool { redis.isConnected && nats.isConnected }

    var checks: [BackendCheck] {
        [
            BackendCheck(name: "redis", status: redis.isConnected ? .ok : .down, detail: redis.isConnected ? nil : redis.lastErrorDescription ?? "not connected"),
            BackendCheck(name: "nats", status: nats.isConnected ? .ok : .down, detail: nats.isConnected ? nil : nats.lastErrorDescription ?? "not connected"),
        ]
    }

    /// Throws the first error reply of a pipeline.
    func check(_ replies: [RESPValue]) throws -> [RESPValue] {
        for reply in replies {
            if case .error(let message) = reply { throw OpsError(.serverError, message, endpoint: redis.address.description) }
        }
        return replies
    }
}
