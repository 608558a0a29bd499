import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import OpsKit

/// The embedded state of a single instance: who is connected, who waits, who chats with whom.
///
/// Every method takes `lock` briefly and returns what to send; frames are written after the lock
/// is released, so a write can never re-enter the hub while it holds the lock. Hence
/// `@unchecked Sendable`.
final class ChatHub: @unchecked Sendable {
    struct Pairing {
        var partner: ChatConnection
        var chat: String
    }

    enum Rejection: String {
        case draining, maxConnections = "max_connections", perIP = "max_conns_per_ip"
    }

    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let moderation: Moderation
    let reports: ReportStore
    let logger: Logger

    private let lock = NIOLock()
    private var connections: [String: ChatConnection] = [:]
    private var perIP: [String: Int] = [:]
    private var matchmaker: Matchmaker
    private var pairings: [String: Pairing] = [:]
    private var nextMessageID = 0
    private var isDraining = false

    init(configuration: ServerConfiguration, metrics: ServerMetrics, moderation: Moderation, reports: ReportStore, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.moderation = moderation
        self.reports = reports
        self.logger = logger
        matchmaker = Matchmaker(fallback: configuration.matchFallback, timeout: configuration.matchTimeout)
    }

    // MARK: Admission

    /// Why a new connection from `ip` must be refused, if it must.
    func admission(ip: String) -> Rejection? {
        lock.withLock {
            if isDraining { return .draining }
            if connections.count >= configuration.maxConnections { return .maxConnections }
            if perIP[ip, default: 0] >= configuration.maxConnectionsPerIP { return .perIP }
            return nil
        }
    }

    var draining: Bool {
        get { lock.withLock { isDraining } }
        set { lock.withLock { isDraining = newValue } }
    }

    var connectionCount: Int { lock.withLock { connections.count } }
    var queueSize: Int { lock.withLock { matchmaker.count } }
    var activeChats: Int { lock.withLock { pairings.count / 2 } }
    var allConnections: [ChatConnection] { lock.withLock { Array(connections.values) } }

    /// Whether the server should accept new users: /ready's answer.
    var isReady: Bool {
        lock.withLock { !isDraining && connections.count < configuration.maxConnections }
    }

    // MARK: Lifecycle of a connection

    func register(_ connection: ChatConnection) {
        logger.debug("connection.opened", metadata: ["session": "\(connection.session)"])
        lock.withLock {
            connections[connection.session] = connection
            perIP[connection.ip, default: 0] += 1
        }
        metrics.connections.add(1, ordering: .relaxed)
        connection.send(.welcome(session: connection.session, resumeToken: connection.resumeToken, server: configuration.serverName))
    }

    /// The connection is gone: its partner is told at once, its place in the queue dropped.
    func disconnect(_ connection: ChatConnection, reason: String) {
        let partner: ChatConnection? = lock.withLock {
            guard connections.removeValue(forKey: connection.session) != nil else { return nil }
            perIP[connection.ip, default: 1] -= 1
            if perIP[connection.ip] == 0 { perIP[connection.ip] = nil }
            matchmaker.remove(connection.session)
            return endChat(of: connection)
        }
        metrics.connections.subtract(1, ordering: .relaxed)
        metrics.disconnected(reason: reason)
        logger.debug("connection.closed", metadata: ["session": "\(connection.session)", "reason": "\(reason)", "partner_told": "\(partner != nil)"])
        partner?.send(.partnerLeft)
    }

    /// Removes the chat `connection` is in; returns the partner to tell. Call with `lock` held.
    private func endChat(of connection: ChatConnection) -> ChatConnection? {
        guard let pairing = pairings.removeValue(forKey: connection.session) else { return nil }
        pairings[pairing.partner.session] = nil
        return pairing.partner
    }

    // MARK: Messages

    /// Handles one decoded frame from `connection`, received at `receivedAt`.
    func handle(_ message: ClientMessage, from connection: ChatConnection, receivedAt: ContinuousClock.Instant) {
        switch message {
        case .ping:
            connection.send(.pong)
        case .find(let interests):
            find(connection, interests: Set(interests))
        case .message(let text, let clientID):
            relay(text, clientID: clientID, from: connection, receivedAt: receivedAt)
        case .typing:
            if let partner = lock.withLock({ pairings[connection.session]?.partner }) { partner.send(.typing) }
        case .leave:
            let (partner, wasQueued) = lock.withLock { (endChat(of: connection), matchmaker.remove(connection.session)) }
            if let partner {
                partner.send(.partnerLeft)
            } else if !wasQueued {
                connection.send(.error(code: "not_in_chat", message: "there is no chat to leave"))
            }
        case .report(let reason):
            report(reason, from: connection)
        }
    }

    private func find(_ connection: ChatConnection, interests: Set<String>) {
        let now = ContinuousClock.now
        let outcome: Result<Matchmaker.Match?, ClientMessage.Rejection> = lock.withLock {
            if pairings[connection.session] != nil {
                return .failure(.init(code: "bad_request", message: "leave the current chat before finding another"))
            }
            return .success(matchmaker.find(session: connection.session, interests: interests, now: now))
        }
        switch outcome {
        case .failure(let rejection):
            connection.send(.error(code: rejection.code, message: rejection.message))
        case .success(nil):
            connection.send(.queued)
        case .success(let match?):
            connection.send(.queued)
            pair(match, now: now)
        }
    }

    /// Records a match and tells both sides; a side that left meanwhile is skipped.
    private func pair(_ match: Matchmaker.Match, now: ContinuousClock.Instant) {
        let chat = UUID().uuidString.lowercased()
        let pair: (ChatConnection, ChatConnection)? = lock.withLock {
            guard let first = connections[match.first.session], let second = connections[match.second.session] else { return nil }
            pairings[first.session] = Pairing(partner: second, chat: chat)
            pairings[second.session] = Pairing(partner: first, chat: chat)
            return (first, second)
        }
        guard let (first, second) = pair else { return }
        metrics.matchDuration.observe(now - match.first.since)
        metrics.matchDuration.observe(now - match.second.since)
        first.send(.matched(chat: chat, commonInterests: match.commonInterests))
        second.send(.matched(chat: chat, commonInterests: match.commonInterests))
    }

    private func relay(_ text: String, clientID: String?, from connection: ChatConnection, receivedAt: ContinuousClock.Instant) {
        metrics.messagesReceived.add(1, ordering: .relaxed)
        if moderation.blocks(text) {
            metrics.messagesBlocked.add(1, ordering: .relaxed)
            connection.send(.blocked)
            return
        }
        // One lock for the hot path: the partner and the message id together.
        let routed: (partner: ChatConnection, id: Int)? = lock.withLock {
            guard let partner = pairings[connection.session]?.partner else { return nil }
            nextMessageID += 1
            return (partner, nextMessageID)
        }
        guard let (partner, id) = routed else {
            connection.send(.error(code: "not_in_chat", message: "find a partner before sending messages"))
            return
        }
        let sentAt = Int64(Date().timeIntervalSince1970 * 1000)
        let metrics = self.metrics
        partner.send(.message(id: id, text: text, sentAt: sentAt)) {
            metrics.messagesSent.add(1, ordering: .relaxed)
            metrics.messageLatency.observe(ContinuousClock.now - receivedAt)
        }
        connection.send(.ack(clientID: clientID, id: id))
    }

    private func report(_ reason: String, from connection: ChatConnection) {
        guard let pairing = lock.withLock({ pairings[connection.session] }) else {
            connection.send(.error(code: "not_in_chat", message: "reports concern your current partner"))
            return
        }
        let report = AbuseReport(
            reportedSession: pairing.partner.session, reporterSession: connection.session,
            reportedIPHash: IPHash.hash(pairing.partner.ip), reason: reason, chatID: pairing.chat, createdAt: Date())
        let reports = self.reports
        let logger = self.logger
        Task {
            do {
                let id = try await reports.save(report)
                connection.send(.ack(clientID: nil, id: id))
            } catch {
                logger.error("report.save_failed", metadata: ["error": "\(error)"])
                connection.send(.error(code: "unavailable", message: "the report could not be stored; try again"))
            }
        }
    }

    // MARK: Periodic work

    /// Pairs users past the fallback wait and tells those past the timeout there is no match.
    func sweepQueue(now: ContinuousClock.Instant = .now) {
        let (matches, expired) = lock.withLock { matchmaker.sweep(now: now) }
        for match in matches { pair(match, now: now) }
        let expiredConnections = lock.withLock { expired.compactMap { connections[$0.session] } }
        for connection in expiredConnections { connection.send(.noMatch) }
    }
}

/// IP addresses are kept only as salted hashes anywhere they outlive the connection.
enum IPHash {
    static let salt = ProcessInfo.processInfo.environment["IP_HASH_SALT"] ?? "whisper"

    static func hash(_ ip: String) -> String {
        Digest.sha256Hex(salt + "|" + ip)
    }
}
