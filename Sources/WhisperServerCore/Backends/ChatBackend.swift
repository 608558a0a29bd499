import Foundation
import NIOCore
import OpsKit

/// What outlives a connection: enough to resume the session on any instance.
struct SessionRecord: Sendable, Equatable {
    var session: String
    var resumeToken: String
    var ipHash: String
    var server: String
    /// Changes on every (re)connection, so a late disconnect of an old connection cannot
    /// overwrite the state of a newer one.
    var connectionID: String
    var chat: String?
    var partner: String?
    /// The last message id this session sent, so ids keep growing after a resume.
    var lastSentID: Int = 0
    /// The last message id written to this session's socket.
    var lastDeliveredID: Int = 0
    /// The rate-limit window when the connection ended, so a reconnection does not reset it.
    var rate: RateCounters?
}

/// A user waiting in the queue who was picked as a partner.
struct MatchCandidate: Sendable, Equatable {
    var session: String
    var interests: Set<String>
    /// How long the partner waited, for the match-duration histogram.
    var waited: Duration
}

/// A chat message kept for resume.
package struct BufferedMessage: Sendable, Equatable {
    var id: Int
    var text: String
    var sentAt: Int64

    init(id: Int, text: String, sentAt: Int64) {
        self.id = id
        self.text = text
        self.sentAt = sentAt
    }

    /// How a resume buffer in Redis holds it: `id|sent_at|text`.
    package var bufferEntry: String { "\(id)|\(sentAt)|\(text)" }

    package init?(bufferEntry entry: String) {
        let parts = entry.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let id = Int(parts[0]), let sentAt = Int64(parts[1]) else { return nil }
        self.init(id: id, text: String(parts[2]), sentAt: sentAt)
    }
}

/// Something one session tells another, wherever each is connected.
package enum PeerEvent: Sendable, Equatable {
    case matched(chat: String, partner: String, commonInterests: [String])
    case message(BufferedMessage)
    case typing
    case partnerLeft
    case partnerReconnecting
    case partnerBack
    /// The session resumed on another connection: close this one without telling anybody.
    case takeover(connectionID: String)

    package var json: JSONValue {
        switch self {
        case .matched(let chat, let partner, let common):
            return .object([("t", "matched"), ("chat", .string(chat)), ("partner", .string(partner)), ("common", .array(common.map(JSONValue.string)))])
        case .message(let message):
            return .object([("t", "message"), ("id", .int(message.id)), ("text", .string(message.text)), ("sent_at", .int(Int(message.sentAt)))])
        case .typing: return .object([("t", "typing")])
        case .partnerLeft: return .object([("t", "partner_left")])
        case .partnerReconnecting: return .object([("t", "partner_reconnecting")])
        case .partnerBack: return .object([("t", "partner_back")])
        case .takeover(let id): return .object([("t", "takeover"), ("connection", .string(id))])
        }
    }

    package init?(json value: JSONValue) {
        switch value["t"]?.stringValue {
        case "matched":
            guard let chat = value["chat"]?.stringValue, let partner = value["partner"]?.stringValue else { return nil }
            let common = value["common"]?.arrayValue?.compactMap(\.stringValue) ?? []
            self = .matched(chat: chat, partner: partner, commonInterests: common)
        case "message":
            guard let id = value["id"]?.intValue, let text = value["text"]?.stringValue, let sentAt = value["sent_at"]?.intValue else { return nil }
            self = .message(BufferedMessage(id: id, text: text, sentAt: Int64(sentAt)))
        case "typing": self = .typing
        case "partner_left": self = .partnerLeft
        case "partner_reconnecting": self = .partnerReconnecting
        case "partner_back": self = .partnerBack
        case "takeover":
            guard let id = value["connection"]?.stringValue else { return nil }
            self = .takeover(connectionID: id)
        default: return nil
        }
    }
}

/// One named health check, as /health shows it.
struct BackendCheck: Sendable, Equatable {
    enum Status: String, Sendable { case ok, degraded, down }
    var name: String
    var status: Status
    var detail: String?
}

/// Where shared state lives and how sessions reach each other: in this process (`EmbeddedBackend`)
/// or in Redis and NATS (`ClusterBackend`). The hub keeps the connections of this instance and
/// asks the backend for everything that other instances must see.
protocol ChatBackend: AnyObject, Sendable {
    /// Starts connecting; events for local sessions go to `deliver(event, session)`, and
    /// `restored` runs whenever routing comes back after an outage.
    func start(deliver: @escaping @Sendable (PeerEvent, String) -> Void, restored: @escaping @Sendable () -> Void)
    func shutdown() async

    // MARK: Sessions
    /// Stores a new session and starts routing its events here.
    func register(_ record: SessionRecord) async throws
    /// Takes over the session `resumeToken` names for `connectionID` on this server, if it is
    /// still within the resume window; starts routing its events here.
    func claim(resumeToken: String, connectionID: String) async throws -> SessionRecord?
    /// Waits until events published from now on reach this instance.
    func awaitRouting() async throws
    /// The connection closed: keep the session for `window` unless a newer connection owns it.
    /// - Returns: whether the session was still this connection's.
    func markAway(_ record: SessionRecord, window: Duration) async throws -> Bool
    /// Whether the session is connected somewhere (not away, not expired, its instance alive).
    func isConnected(session: String) async throws -> Bool
    /// Which of `sessions` are not connected anywhere: away, expired, or on an instance that
    /// stopped without saying so (a crash).
    func unreachable(_ sessions: [String]) async throws -> Set<String>
    /// Forgets the session and stops routing it here.
    func forget(session: String) async
    func stopRouting(session: String)
    func setChat(_ chat: String, between first: String, and second: String) async throws
    func clearChat(of session: String) async throws
    /// The salted IP hash of a session, wherever it is connected.
    func ipHash(of session: String) async throws -> String?

    // MARK: Matching
    /// Matches `session` with a waiting user (the same interests first, then any shared one,
    /// then anyone who waited past the fallback), or queues it. Atomic across instances.
    func findPartner(session: String, interests: Set<String>, fallback: Duration) async throws -> MatchCandidate?
    /// Pairs a session that waited past the fallback with anyone, if it is still queued.
    func fallbackPartner(session: String) async throws -> MatchCandidate?
    /// - Returns: whether the session was queued.
    @discardableResult func dequeue(session: String) async throws -> Bool
    /// The match queue's depth, as last measured.
    var queueDepth: Int { get }

    // MARK: Routing
    /// Sends `event` to a session connected elsewhere (nothing in the embedded backend).
    func publish(_ event: PeerEvent, to session: String, chat: String?)
    /// Keeps `message` for `session` in case it resumes; in order, capped.
    func keep(_ message: BufferedMessage, for session: String)
    func kept(for session: String, after id: Int) async throws -> [BufferedMessage]

    // MARK: Bans
    func isBanned(ipHash: String) async throws -> Bool
    /// Counts a report against `ipHash`; bans it once `threshold` arrive within `window`.
    /// - Returns: whether this report banned it.
    func countReport(against ipHash: String, threshold: Int, window: Duration, banFor: Duration) async throws -> Bool

    // MARK: Health
    /// Whether shared state and routing work; /ready is 503 otherwise.
    var isAvailable: Bool { get }
    var checks: [BackendCheck] { get }
}
