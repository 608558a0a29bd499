import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import OpsKit

/// The sessions connected to this instance, and the chat logic between them. What other
/// instances must see (sessions for resume, the match queue, bans, messages to sessions connected
/// elsewhere) goes through the `ChatBackend`.
///
/// The hot path (a chat message) never waits: it delivers to a local partner directly or
/// publishes for a remote one, keeps a copy for resume, and acks. Control messages (find, leave,
/// report) run one after another per session in a task, since they wait on the backend.
///
/// Local state sits behind `lock`; frames are written after it is released, so a write never
/// re-enters the hub while it holds the lock. Hence `@unchecked Sendable`.
final class ChatHub: @unchecked Sendable {
    enum Rejection: String {
        case draining, maxConnections = "max_connections", perIP = "max_conns_per_ip", banned, unavailable
    }

    /// A session whose connection is on this instance. Its fields are read and written only under
    /// the hub's lock, hence `@unchecked Sendable`.
    final class LocalSession: @unchecked Sendable {
        var record: SessionRecord
        let connection: ChatConnection
        var queuedSince: ContinuousClock.Instant?
        var fallbackPending = false
        var routed = false
        /// While missed messages are replayed after a resume, live ones wait here.
        var replaying = false
        var held: [BufferedMessage] = []
        /// Taken over by a newer connection: leaves without telling anyone.
        var quiet = false
        /// The partner is known to be away (told `partner_reconnecting`, not yet back).
        var partnerAway = false
        var control: Task<Void, Never>?

        init(record: SessionRecord, connection: ChatConnection) {
            self.record = record
            self.connection = connection
        }
    }

    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let moderation: Moderation
    let reports: ReportStore
    let backend: ChatBackend
    let hasher: IPHasher
    let logger: Logger

    private let lock = NIOLock()
    private var connectionTotal = 0
    private var perIP: [String: Int] = [:]
    private var sessions: [String: LocalSession] = [:]
    private var sessionOf: [ObjectIdentifier: String] = [:]
    private var isDraining = false
    private var unfinished = 0

    init(configuration: ServerConfiguration, metrics: ServerMetrics, moderation: Moderation, reports: ReportStore, backend: ChatBackend, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.moderation = moderation
        self.reports = reports
        self.backend = backend
        self.hasher = IPHasher(salt: configuration.ipHashSalt)
        self.logger = logger
        backend.start(
            deliver: { [weak self] event, session in self?.receive(event, for: session) },
            restored: { [weak self] in
                guard let self else { return }
                Task { await self.catchUp() }
            })
    }

    // MARK: Admission

    /// Why a new connection from `ip` must be refused, if it must (bans are checked apart, since
    /// that asks the backend).
    func admission(ip: String) -> Rejection? {
        if !backend.isAvailable { return .unavailable }
        return lock.withLock {
            if isDraining { return .draining }
            if connectionTotal >= configuration.maxConnections { return .maxConnections }
            if perIP[ip, default: 0] >= configuration.maxConnectionsPerIP { return .perIP }
            return nil
        }
    }

    func isBanned(ip: String) async -> Bool {
        (try? await backend.isBanned(ipHash: hasher.hash(ip))) ?? false
    }

    var draining: Bool {
        get { lock.withLock { isDraining } }
        set { lock.withLock { isDraining = newValue } }
    }

    var connectionCount: Int { lock.withLock { connectionTotal } }
    /// Departures whose backend work (mark away, tell the partner) is still running: a draining
    /// server waits for them before it exits.
    var unfinishedDepartures: Int { lock.withLock { unfinished } }
    var queueSize: Int { backend.queueDepth }
    /// Chats with at least one side on this instance.
    var activeChats: Int { lock.withLock { Set(sessions.values.compactMap(\.record.chat)).count } }
    var allConnections: [ChatConnection] { lock.withLock { sessions.values.map(\.connection) } }

    /// Whether the server should accept new users: /ready's answer.
    var isReady: Bool {
        backend.isAvailable && lock.withLock { !isDraining && connectionTotal < configuration.maxConnections }
    }

    // MARK: Lifecycle of a connection

    /// Starts a session for a new connection, or resumes the one `resume` names.
    /// - Returns: a future on the connection's event loop, done once the client has its welcome,
    ///   with the rate-limit window a resumed session had.
    func open(_ connection: ChatConnection, resume: ResumeRequest?) -> EventLoopFuture<RateCounters?> {
        lock.withLock {
            connectionTotal += 1
            perIP[connection.ip, default: 0] += 1
        }
        metrics.connections.add(1, ordering: .relaxed)
        let promise = connection.channel.eventLoop.makePromise(of: RateCounters?.self)
        promise.completeWithTask { await self.start(connection, resume: resume) }
        return promise.futureResult
    }

    private func start(_ connection: ChatConnection, resume: ResumeRequest?) async -> RateCounters? {
        do {
            if let resume, let previous = try await backend.claim(resumeToken: resume.token, connectionID: connection.id) {
                await resumeSession(previous, on: connection, lastID: resume.lastID)
                return previous.rate
            }
            let record = SessionRecord(
                session: SessionID.make(), resumeToken: SessionID.make(bytes: 24), ipHash: connection.ipHash,
                server: configuration.serverName, connectionID: connection.id)
            try await backend.register(record)
            let local = LocalSession(record: record, connection: connection)
            guard adopt(local) else { return nil }
            logger.debug("session.started", metadata: ["session": "\(record.session)"])
            connection.send(.welcome(session: record.session, resumeToken: record.resumeToken, server: configuration.serverName, resumed: false, chat: nil))
        } catch {
            logger.warning("session.start_failed", metadata: ["error": "\(error)"])
            connection.send(.error(code: "unavailable", message: "the chat service is unavailable; try again shortly"))
            connection.close(code: CloseCode.internalError)
        }
        return nil
    }

    /// Makes `local` this connection's session; false if the connection already closed.
    private func adopt(_ local: LocalSession) -> Bool {
        let replaced: LocalSession? = lock.withLock {
            guard local.connection.channel.isActive else { return nil }
            let old = sessions[local.record.session]
            old?.quiet = true
            if let old { sessionOf[ObjectIdentifier(old.connection)] = nil }
            sessions[local.record.session] = local
            sessionOf[ObjectIdentifier(local.connection)] = local.record.session
            return old
        }
        // The same session on an older connection here: it closes without telling anyone.
        replaced?.connection.close(code: CloseCode.normal)
        return local.connection.channel.isActive
    }

    private func resumeSession(_ previous: SessionRecord, on connection: ChatConnection, lastID: Int?) async {
        var record = previous
        record.connectionID = connection.id
        record.server = configuration.serverName
        let local = LocalSession(record: record, connection: connection)
        local.replaying = true
        local.routed = true
        guard adopt(local) else { return }
        connection.send(.welcome(session: record.session, resumeToken: record.resumeToken, server: configuration.serverName, resumed: true, chat: record.chat))
        metrics.resumed.add(1, ordering: .relaxed)
        logger.debug("session.resumed", metadata: ["session": "\(record.session)"])
        if let lastID { lock.withLock { local.record.lastDeliveredID = lastID } }
        await replay(local)
        let (partner, chat) = lock.withLock { (local.record.partner, local.record.chat) }
        if let partner, let chat { send(.partnerBack, to: partner, chat: chat) }
    }

    /// Delivers what `local` missed from its resume buffer, then what arrived live meanwhile (held
    /// while `replaying`). Routing first, then the buffer: a message is either in what is read or
    /// arrives live after it, and ids drop whatever is both.
    private func replay(_ local: LocalSession) async {
        let (session, after) = lock.withLock {
            local.replaying = true
            return (local.record.session, local.record.lastDeliveredID)
        }
        var missed: [BufferedMessage] = []
        do {
            try await backend.awaitRouting()
            missed = try await backend.kept(for: session, after: after)
        } catch {
            logger.warning("session.replay_failed", metadata: ["session": "\(session)", "error": "\(error)"])
        }
        let held: [BufferedMessage] = lock.withLock {
            defer { local.held = []; local.replaying = false }
            return local.held
        }
        for message in missed + held { deliver(message, to: local, wallMicros: nil) }
    }

    /// The message bus is back after an outage: what was published while this instance could not
    /// hear it is in the resume buffers, so every local session in a chat catches up from there.
    func catchUp() async {
        let chatting = lock.withLock { sessions.values.filter { $0.record.chat != nil && !$0.replaying } }
        guard !chatting.isEmpty else { return }
        logger.info("bus.catch_up", metadata: ["sessions": "\(chatting.count)"])
        for local in chatting { await replay(local) }
    }

    /// The connection is gone. Unless the client said goodbye (or resume is off), its session
    /// waits RESUME_WINDOW for it and the partner hears `partner_reconnecting`; otherwise the
    /// partner hears `partner_left` at once.
    func disconnect(_ connection: ChatConnection, reason: String, resumable: Bool, rate: RateCounters? = nil) {
        let local: LocalSession? = lock.withLock {
            connectionTotal -= 1
            perIP[connection.ip, default: 1] -= 1
            if perIP[connection.ip] == 0 { perIP[connection.ip] = nil }
            guard let session = sessionOf.removeValue(forKey: ObjectIdentifier(connection)), let local = sessions[session], local.connection === connection else { return nil }
            sessions[session] = nil
            return local
        }
        metrics.connections.subtract(1, ordering: .relaxed)
        metrics.disconnected(reason: reason)
        guard let local, !local.quiet else { return }
        var (record, wasQueued) = lock.withLock { (local.record, local.queuedSince != nil) }
        record.rate = rate
        logger.debug("connection.closed", metadata: ["session": "\(record.session)", "reason": "\(reason)"])
        let window = configuration.resumeWindow
        lock.withLock { unfinished += 1 }
        Task {
            defer { lock.withLock { unfinished -= 1 } }
            await local.control?.value
            if wasQueued { _ = try? await backend.dequeue(session: record.session) }
            if resumable && window > .zero {
                backend.stopRouting(session: record.session)
                let stillOurs = (try? await backend.markAway(record, window: window)) ?? true
                if stillOurs, let partner = record.partner { send(.partnerReconnecting, to: partner, chat: record.chat) }
            } else {
                if let partner = record.partner {
                    try? await backend.clearChat(of: partner)
                    send(.partnerLeft, to: partner, chat: record.chat)
                }
                await backend.forget(session: record.session)
            }
        }
    }

    // MARK: Frames from clients

    /// Handles one decoded frame from `connection`.
    func handle(_ message: ClientMessage, from connection: ChatConnection) {
        guard let local = lock.withLock({ sessionOf[ObjectIdentifier(connection)].flatMap { sessions[$0] } }) else { return }
        switch message {
        case .ping:
            connection.send(.pong)
        case .message(let text, let clientID):
            relay(text, clientID: clientID, from: local)
        case .typing:
            let (partner, chat) = lock.withLock { (local.record.partner, local.record.chat) }
            if let partner { send(.typing, to: partner, chat: chat) }
        case .find(let interests):
            control(local) { await self.find(local, interests: Set(interests)) }
        case .leave:
            control(local) { await self.leave(local) }
        case .report(let reason):
            control(local) { await self.report(reason, from: local) }
        }
    }

    /// Runs `work` after the session's earlier control messages.
    private func control(_ local: LocalSession, _ work: @escaping @Sendable () async -> Void) {
        lock.withLock {
            let previous = local.control
            local.control = Task {
                await previous?.value
                await work()
            }
        }
    }

    private func relay(_ text: String, clientID: String?, from local: LocalSession) {
        metrics.messagesReceived.add(1, ordering: .relaxed)
        let connection = local.connection
        if moderation.blocks(text) {
            metrics.messagesBlocked.add(1, ordering: .relaxed)
            connection.send(.blocked)
            return
        }
        let now = Date().timeIntervalSince1970
        let wallMicros = Int(now * 1_000_000)
        // Ids grow per sender and survive resumes: the last one plus one, or the clock in µs.
        let routed: (partner: String, chat: String?, id: Int, local: LocalSession?)? = lock.withLock {
            guard let partner = local.record.partner else { return nil }
            let id = max(local.record.lastSentID &+ 1, wallMicros)
            local.record.lastSentID = id
            return (partner, local.record.chat, id, sessions[partner])
        }
        guard let routed else {
            connection.send(.error(code: "not_in_chat", message: "find a partner before sending messages"))
            return
        }
        let message = BufferedMessage(id: routed.id, text: text, sentAt: Int64(now * 1000))
        backend.keep(message, for: routed.partner)
        if let partner = routed.local {
            deliver(message, to: partner, wallMicros: wallMicros)
        } else {
            backend.publish(.message(message), to: routed.partner, chat: routed.chat)
        }
        connection.send(.ack(clientID: clientID, id: routed.id))
    }

    /// Writes a chat message to a local session once: ids at or below the last delivered are
    /// duplicates (a replay overlapping live delivery).
    private func deliver(_ message: BufferedMessage, to local: LocalSession, wallMicros: Int?) {
        let fresh: Bool = lock.withLock {
            if local.replaying {
                local.held.append(message)
                return false
            }
            guard message.id > local.record.lastDeliveredID else { return false }
            local.record.lastDeliveredID = message.id
            return true
        }
        guard fresh else { return }
        let metrics = self.metrics
        local.connection.send(.message(id: message.id, text: message.text, sentAt: message.sentAt)) {
            metrics.messagesSent.add(1, ordering: .relaxed)
            if let wallMicros {
                let micros = Int(Date().timeIntervalSince1970 * 1_000_000) - wallMicros
                metrics.messageLatency.observe(.microseconds(max(0, micros)))
            }
        }
    }

    // MARK: Events between sessions

    /// Tells `session` about `event`: directly when it is here, through the backend otherwise.
    private func send(_ event: PeerEvent, to session: String, chat: String?) {
        if let local = lock.withLock({ sessions[session] }) {
            apply(event, to: local)
        } else {
            backend.publish(event, to: session, chat: chat)
        }
    }

    /// An event for `session` arrived from another instance.
    private func receive(_ event: PeerEvent, for session: String) {
        guard let local = lock.withLock({ sessions[session] }) else { return }
        apply(event, to: local)
    }

    private func apply(_ event: PeerEvent, to local: LocalSession) {
        let connection = local.connection
        switch event {
        case .message(let message):
            deliver(message, to: local, wallMicros: nil)
        case .matched(let chat, let partner, let common):
            lock.withLock {
                local.queuedSince = nil
                local.record.chat = chat
                local.record.partner = partner
            }
            connection.send(.matched(chat: chat, commonInterests: common))
        case .typing:
            if lock.withLock({ local.record.chat != nil }) { connection.send(.typing) }
        case .partnerLeft:
            let hadChat: Bool = lock.withLock {
                defer { local.record.chat = nil; local.record.partner = nil }
                return local.record.chat != nil
            }
            if hadChat { connection.send(.partnerLeft) }
        case .partnerReconnecting:
            let partner: String? = lock.withLock {
                guard let partner = local.record.partner, !local.partnerAway else { return nil }
                local.partnerAway = true
                return partner
            }
            guard let partner else { return }
            connection.send(.partnerReconnecting)
            expireIfGone(partner: partner, of: local)
        case .partnerBack:
            let chatting: Bool = lock.withLock {
                local.partnerAway = false
                return local.record.chat != nil
            }
            if chatting { connection.send(.partnerBack) }
        case .takeover(let connectionID):
            guard connectionID == connection.id else { return }
            lock.withLock {
                local.quiet = true
                if sessions[local.record.session] === local { sessions[local.record.session] = nil }
                sessionOf[ObjectIdentifier(connection)] = nil
            }
            connection.close(code: CloseCode.normal)
        }
    }

    /// After the resume window, a partner that has not come back has left.
    private func expireIfGone(partner: String, of local: LocalSession) {
        let window = configuration.resumeWindow
        Task {
            try? await Task.sleep(for: window + .milliseconds(500))
            guard lock.withLock({ local.record.partner == partner && sessions[local.record.session] === local }) else { return }
            if (try? await backend.isConnected(session: partner)) == true { return }
            try? await backend.clearChat(of: local.record.session)
            apply(.partnerLeft, to: local)
        }
    }

    // MARK: Control messages

    private func find(_ local: LocalSession, interests: Set<String>) async {
        let connection = local.connection
        let session: String? = lock.withLock { local.record.chat == nil ? local.record.session : nil }
        guard let session else {
            connection.send(.error(code: "bad_request", message: "leave the current chat before finding another"))
            return
        }
        do {
            if !lock.withLock({ local.routed }) {
                // A partner on another instance may pick us the moment we are queued.
                try await backend.awaitRouting()
                lock.withLock { local.routed = true }
            }
            connection.send(.queued)
            lock.withLock { local.queuedSince = .now }
            guard let candidate = try await backend.findPartner(session: session, interests: interests, fallback: configuration.matchFallback) else { return }
            try await pair(local, with: candidate, interests: interests)
        } catch {
            lock.withLock { local.queuedSince = nil }
            logger.warning("match.failed", metadata: ["session": "\(session)", "error": "\(error)"])
            connection.send(.error(code: "unavailable", message: "matching is unavailable; try again shortly"))
        }
    }

    private func pair(_ local: LocalSession, with candidate: MatchCandidate, interests: Set<String>) async throws {
        let chat = UUID().uuidString.lowercased()
        let session = lock.withLock { local.record.session }
        try await backend.setChat(chat, between: session, and: candidate.session)
        let common = interests.intersection(candidate.interests).sorted()
        // Queued to matched, for both: the partner's wait as the backend measured it, and ours.
        metrics.matchDuration.observe(candidate.waited)
        metrics.matchDuration.observe(lock.withLock { local.queuedSince.map { ContinuousClock.now - $0 } } ?? .zero)
        // The partner first: by the time we may send, it knows the chat.
        send(.matched(chat: chat, partner: session, commonInterests: common), to: candidate.session, chat: chat)
        apply(.matched(chat: chat, partner: candidate.session, commonInterests: common), to: local)
    }

    private func leave(_ local: LocalSession) async {
        let (session, partner, chat, queued): (String, String?, String?, Bool) = lock.withLock {
            defer {
                local.record.chat = nil
                local.record.partner = nil
                local.queuedSince = nil
            }
            return (local.record.session, local.record.partner, local.record.chat, local.queuedSince != nil)
        }
        if let partner {
            try? await backend.clearChat(of: session)
            try? await backend.clearChat(of: partner)
            send(.partnerLeft, to: partner, chat: chat)
        } else if queued {
            _ = try? await backend.dequeue(session: session)
        } else {
            local.connection.send(.error(code: "not_in_chat", message: "there is no chat to leave"))
        }
    }

    private func report(_ reason: String, from local: LocalSession) async {
        let connection = local.connection
        let (session, partner, chat) = lock.withLock { (local.record.session, local.record.partner, local.record.chat) }
        guard let partner else {
            connection.send(.error(code: "not_in_chat", message: "reports concern your current partner"))
            return
        }
        // The partner's IP hash comes from its session, wherever it is connected.
        let partnerHash = lock.withLock { sessions[partner]?.connection.ipHash }
        let ipHash: String
        if let partnerHash {
            ipHash = partnerHash
        } else if let stored = try? await backend.ipHash(of: partner) {
            ipHash = stored
        } else {
            connection.send(.error(code: "unavailable", message: "the report could not be stored; try again"))
            return
        }
        let report = AbuseReport(
            reportedSession: partner, reporterSession: session, reportedIPHash: ipHash, reason: reason, chatID: chat, createdAt: Date())
        do {
            let id = try await reports.save(report)
            connection.send(.ack(clientID: nil, id: id))
        } catch {
            logger.error("report.save_failed", metadata: ["error": "\(error)"])
            connection.send(.error(code: "unavailable", message: "the report could not be stored; try again"))
            return
        }
        do {
            let banned = try await backend.countReport(
                against: ipHash, threshold: configuration.reportsToBan, window: .seconds(86_400), banFor: configuration.banDuration)
            if banned {
                metrics.bans.add(1, ordering: .relaxed)
                logger.notice("ban.added", metadata: ["ip_hash": "\(ipHash.prefix(12))", "duration": "\(configuration.banDuration)"])
            }
        } catch {
            logger.warning("ban.count_failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Periodic work

    /// Partners on other instances that vanished without a word (their instance crashed) are
    /// treated as reconnecting: the user hears `partner_reconnecting`, then `partner_left` unless
    /// the partner resumes within the window.
    func checkRemotePartners() async {
        let watched: [(LocalSession, String)] = lock.withLock {
            sessions.values.compactMap { local in
                guard let partner = local.record.partner, !local.partnerAway, sessions[partner] == nil else { return nil }
                return (local, partner)
            }
        }
        guard !watched.isEmpty, let gone = try? await backend.unreachable(watched.map(\.1)) else { return }
        for (local, partner) in watched where gone.contains(partner) {
            if lock.withLock({ local.record.partner == partner }) { apply(.partnerReconnecting, to: local) }
        }
    }

    /// Gives up on users queued past MATCH_TIMEOUT and pairs those past MATCH_FALLBACK with anyone.
    func sweepQueue(now: ContinuousClock.Instant = .now) {
        let (expired, due): ([LocalSession], [LocalSession]) = lock.withLock {
            var expired: [LocalSession] = []
            var due: [LocalSession] = []
            for local in sessions.values {
                guard let since = local.queuedSince else { continue }
                if now - since >= configuration.matchTimeout {
                    local.queuedSince = nil
                    expired.append(local)
                } else if now - since >= configuration.matchFallback && !local.fallbackPending {
                    local.fallbackPending = true
                    due.append(local)
                }
            }
            return (expired, due)
        }
        for local in expired {
            control(local) {
                let session = self.lock.withLock { local.record.session }
                if (try? await self.backend.dequeue(session: session)) ?? true { local.connection.send(.noMatch) }
            }
        }
        for local in due {
            control(local) {
                defer { self.lock.withLock { local.fallbackPending = false } }
                let (session, waiting) = self.lock.withLock { (local.record.session, local.queuedSince != nil) }
                guard waiting, let candidate = try? await self.backend.fallbackPartner(session: session) else { return }
                try? await self.pair(local, with: candidate, interests: [])
            }
        }
    }
}

/// `/ws?resume=TOKEN&last_id=N`: the session to take back and the last message id the client has.
struct ResumeRequest: Sendable, Equatable {
    var token: String
    var lastID: Int?

    init?(uri: String) {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        var token: String?
        var lastID: Int?
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = String(parts[1]).removingPercentEncoding ?? String(parts[1])
            if parts[0] == "resume" { token = value }
            if parts[0] == "last_id" { lastID = Int(value) }
        }
        guard let token, !token.isEmpty else { return nil }
        self.token = token
        self.lastID = lastID
    }
}

/// Opaque identifiers for sessions, connections and resume tokens.
enum SessionID {
    static func make(bytes count: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
