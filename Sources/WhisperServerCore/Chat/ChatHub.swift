import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import OpsKit

/// The sessions connected to this instance and the ways between them: admission (limits,
/// draining), who is here, and routing an event to a session wherever it is connected: onto a
/// local session's event loop, or through the backend to another instance.
///
/// Each session's own state lives on its connection's event loop (`WebSocketChatHandler` and its
/// `SessionMachine`); the hub only holds these tables, behind `lock`. Hence `@unchecked Sendable`.
final class ChatHub: @unchecked Sendable {
    enum Rejection: String, Sendable {
        case draining, maxConnections = "max_connections", perIP = "max_conns_per_ip", banned, unavailable
    }

    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let moderation: Moderation
    let reports: ReportStore
    let backend: ChatBackend
    let jobs: BackendJobs
    let hasher: IPHasher
    let logger: Logger

    private let lock = NIOLock()
    private var connectionTotal = 0
    private var perIP: [String: Int] = [:]
    private var sessions: [String: WebSocketChatHandler] = [:]
    /// Session to (partner, chat), for sessions in a chat: crash detection and the active chats gauge.
    private var chats: [String: (partner: String, chat: String)] = [:]
    private var isDraining = false

    init(
        configuration: ServerConfiguration, metrics: ServerMetrics, moderation: Moderation, reports: ReportStore, backend: ChatBackend,
        jobs: BackendJobs, logger: Logger
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.moderation = moderation
        self.reports = reports
        self.backend = backend
        self.jobs = jobs
        self.hasher = IPHasher(salt: configuration.ipHashSalt)
        self.logger = logger
        backend.start(
            deliver: { [weak self] event, session in self?.deliver(event, to: session) },
            busRestored: { [weak self] in self?.broadcast(.busRestored) },
            stateLost: { [weak self] in self?.broadcast(.stateLost) })
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

    /// Whether the address is banned. A check that cannot be made lets the connection in (the
    /// store is down, and /ready already turns new users away) but says so in the log.
    func isBanned(ip: String) async -> Bool {
        await bestEffort("ban_check", session: nil) { try await backend.isBanned(ipHash: hasher.hash(ip)) } ?? false
    }

    /// A backend call whose failure cannot change what the user is told now: logged, and nil.
    /// What it leaves behind is repaired by a later write (sessions are written again after a
    /// reconnection) or expires with its key.
    func bestEffort<T>(_ what: String, session: String?, _ body: () async throws -> T) async -> T? {
        do {
            return try await body()
        } catch {
            var metadata: Logger.Metadata = ["error": "\(error)"]
            if let session { metadata["session"] = "\(session)" }
            logger.warning("backend.\(what)_failed", metadata: metadata)
            return nil
        }
    }

    func connectionOpened(ip: String) {
        lock.withLock {
            connectionTotal += 1
            perIP[ip, default: 0] += 1
        }
        metrics.connections.add(1, ordering: .relaxed)
    }

    func connectionClosed(ip: String, reason: String) {
        lock.withLock {
            connectionTotal -= 1
            perIP[ip, default: 1] -= 1
            if perIP[ip] == 0 { perIP[ip] = nil }
        }
        metrics.connections.subtract(1, ordering: .relaxed)
        metrics.disconnected(reason: reason)
    }

    var draining: Bool {
        get { lock.withLock { isDraining } }
        set { lock.withLock { isDraining = newValue } }
    }

    var connectionCount: Int { lock.withLock { connectionTotal } }
    var queueSize: Int { backend.queueDepth }
    /// Chats with at least one side on this instance.
    var activeChats: Int { lock.withLock { Set(chats.values.map(\.chat)).count } }
    var allSessions: [WebSocketChatHandler] { lock.withLock { Array(sessions.values) } }

    /// Whether the server should accept new users: /ready's answer.
    var isReady: Bool {
        backend.isAvailable && lock.withLock { !isDraining && connectionTotal < configuration.maxConnections }
    }

    // MARK: Who is here

    /// Makes `handler` the local connection of `session`.
    /// - Returns: the connection it replaces (the same session on an older connection here).
    func register(_ handler: WebSocketChatHandler, as session: String) -> WebSocketChatHandler? {
        lock.withLock {
            let old = sessions[session]
            sessions[session] = handler
            return old === handler ? nil : old
        }
    }

    /// Forgets `session` here, if `handler` is still its connection.
    func unregister(_ session: String, _ handler: WebSocketChatHandler) {
        lock.withLock {
            guard sessions[session] === handler else { return }
            sessions[session] = nil
            chats[session] = nil
        }
    }

    func chatChanged(for session: String, partner: String?, chat: String?) {
        lock.withLock {
            if let partner, let chat { chats[session] = (partner, chat) } else { chats[session] = nil }
        }
    }

    func local(_ session: String) -> WebSocketChatHandler? { lock.withLock { sessions[session] } }

    // MARK: Routing

    /// Tells `session` about `event`: onto its event loop when it is here, through the backend
    /// otherwise.
    func tell(_ event: PeerEvent, to session: String, chat: String?) {
        if let handler = lock.withLock({ sessions[session] }) {
            handler.post(.peer(event))
        } else {
            backend.publish(event, to: session, chat: chat)
        }
    }

    /// An event for `session` arrived from another instance.
    private func deliver(_ event: PeerEvent, to session: String) {
        guard let handler = lock.withLock({ sessions[session] }) else { return }
        if case .takeover(let connectionID, let handOver) = event {
            if handOver {
                handler.handOver(ifConnection: connectionID)
            } else {
                handler.takeOver(ifConnection: connectionID)
            }
        } else {
            handler.post(.peer(event))
        }
    }

    private func broadcast(_ event: SessionMachine.Event) {
        let everyone = allSessions
        if !everyone.isEmpty { logger.info("hub.broadcast", metadata: ["event": "\(event)", "sessions": "\(everyone.count)"]) }
        for handler in everyone { handler.post(event) }
    }

    // MARK: Periodic work

    /// Partners on other instances that vanished without a word (their instance crashed) are
    /// treated as reconnecting: the user hears `partner_reconnecting`, then `partner_left` unless
    /// the partner resumes within the window.
    func checkRemotePartners() async {
        let watched: [(session: String, partner: String)] = lock.withLock {
            chats.compactMap { session, chat in sessions[chat.partner] == nil ? (session, chat.partner) : nil }
        }
        guard !watched.isEmpty, let gone = try? await backend.unreachable(watched.map(\.partner)) else { return }
        for (session, partner) in watched where gone.contains(partner) {
            local(session)?.post(.partnerUnreachable(partner))
        }
    }
}

/// Opaque identifiers for sessions, connections, chats and resume tokens. The default of 15
/// characters (77 bits) fits Swift's inline small strings, so an id costs no allocation.
enum SessionID {
    static func make(length: Int = 15) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(decoding: (0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }, as: UTF8.self)
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
            if parts[0] == "last_id" { lastID = Int(value).flatMap { $0 >= 0 ? $0 : nil } }
        }
        guard let token, !token.isEmpty, token.utf8.count <= 64 else { return nil }
        self.token = token
        self.lastID = lastID
    }
}
