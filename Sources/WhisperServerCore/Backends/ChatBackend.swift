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
    /// The sequence number of the last message this session sent in its chat.
    var lastSent: Int = 0
    /// The sequence number of the last partner message written to this session's socket.
    var lastDelivered: Int = 0
    /// The rate-limit window when the connection ended, so a reconnection does not reset it.
    var rate: RateCounters?
}

/// A session taken back with its resume token.
struct ClaimedSession: Sendable {
    var record: SessionRecord
    /// This session's messages already kept for its partner, by client id, so resends after the
    /// resume are recognised.
    var stored: [String: Int]
}

/// A user waiting in the queue who was picked as a partner.
struct MatchCandidate: Sendable, Equatable {
    var session: String
    var interests: Set<String>
    /// How long the partner waited, for the match-duration histogram.
    var waited: Duration
}

/// Something one session tells another, wherever each is connected.
package enum PeerEvent: Sendable, Equatable {
    case matched(chat: String, partner: String, commonInterests: [String])
    case message(StoredMessage)
    /// The partner's messages up to this sequence number exist: fetch any not received.
    case sync(upTo: Int)
    case typing
    case partnerLeft
    case partnerReconnecting
    case partnerBack
    /// The session resumed on another connection. With `handOver`, the resume waits: this
    /// connection records where it stopped (as any departure does) and closes; without, the
    /// session was taken already and this connection closes without telling anybody.
    case takeover(connectionID: String, handOver: Bool)

    package var json: JSONValue {
        switch self {
        case .matched(let chat, let partner, let common):
            return .object([("t", "matched"), ("chat", .string(chat)), ("partner", .string(partner)), ("common", .array(common.map(JSONValue.string)))])
        case .message(let message):
            return .object([
                ("t", "message"), ("id", .int(message.seq)), ("text", .string(message.text)), ("us", .int(Int(message.sentAtMicros))),
                ("cid", message.clientID.map(JSONValue.string) ?? .null),
            ])
        case .sync(let seq): return .object([("t", "sync"), ("upto", .int(seq))])
        case .typing: return .object([("t", "typing")])
        case .partnerLeft: return .object([("t", "partner_left")])
        case .partnerReconnecting: return .object([("t", "partner_reconnecting")])
        case .partnerBack: return .object([("t", "partner_back")])
        case .takeover(let id, let handOver): return .object([("t", "takeover"), ("connection", .string(id)), ("handover", .bool(handOver))])
        }
    }

    package init?(json value: JSONValue) {
        switch value["t"]?.stringValue {
        case "matched":
            guard let chat = value["chat"]?.stringValue, let partner = value["partner"]?.stringValue else { return nil }
            let common = value["common"]?.arrayValue?.compactMap(\.stringValue) ?? []
            self = .matched(chat: chat, partner: partner, commonInterests: common)
        case "message":
            guard let seq = value["id"]?.intValue, seq > 0, let text = value["text"]?.stringValue, let sentAt = value["us"]?.intValue else {
                return nil
            }
            self = .message(StoredMessage(seq: seq, text: text, sentAtMicros: Int64(sentAt), clientID: value["cid"]?.stringValue))
        case "sync":
            guard let seq = value["upto"]?.intValue, seq >= 0 else { return nil }
            self = .sync(upTo: seq)
        case "typing": self = .typing
        case "partner_left": self = .partnerLeft
        case "partner_reconnecting": self = .partnerReconnecting
        case "partner_back": self = .partnerBack
        case "takeover":
            guard let id = value["connection"]?.stringValue else { return nil }
            self = .takeover(connectionID: id, handOver: value["handover"] == .bool(true))
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
    /// Starts connecting. Events for local sessions go to `deliver(event, session)`;
    /// `busRestored` runs when routing comes back after an outage (messages may have been
    /// missed), `stateLost` when the shared state came back empty (a store restarted).
    func start(
        deliver: @escaping @Sendable (PeerEvent, String) -> Void, busRestored: @escaping @Sendable () -> Void,
        stateLost: @escaping @Sendable () -> Void)
    func shutdown() async

    // MARK: Sessions
    /// Stores a session (new, or again after the store lost it) and routes its events here;
    /// returns once events published from now on reach this instance.
    func register(_ record: SessionRecord) async throws
    /// Takes over the session `resumeToken` names for `connectionID` on `server`, if it is still
    /// within the resume window; routes its events here.
    func claim(resumeToken: String, connectionID: String, server: String) async throws -> ClaimedSession?
    /// The connection closed: keep the session for `window` unless a newer connection owns it.
    /// - Returns: whether the session was still this connection's.
    func markAway(_ record: SessionRecord, window: Duration) async throws -> Bool
    /// Whether the session is connected somewhere (not away, not expired, its instance alive).
    func isConnected(session: String) async throws -> Bool
    /// Which of `sessions` are not connected anywhere: away, expired, or on an instance that
    /// stopped without saying so (a crash). Called every 2 s with every remote partner: it may
    /// rely on where it last saw them, since an ordinary departure is announced over the bus;
    /// an instance that died is noticed within the call.
    func unreachable(_ sessions: [String]) async throws -> Set<String>
    /// Forgets the session and stops routing it here.
    func forget(session: String) async
    func stopRouting(session: String)
    /// Records the chat between two sessions; their resume buffers start empty.
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

    // MARK: Messages
    /// Sends `event` to a session connected elsewhere (nothing in the embedded backend).
    func publish(_ event: PeerEvent, to session: String, chat: String?)
    /// Keeps `message` in `session`'s resume buffer (in order, capped), with the upkeep the
    /// sender decided is due (a store that caps and expires by itself ignores it).
    /// - Returns: nil when it is kept already, else a future done once it is (failed if the
    ///   store is unreachable).
    func keep(_ message: StoredMessage, for session: String, upkeep: BufferUpkeep) -> EventLoopFuture<Void>?
    /// The newest RESUME_BUFFER messages of `session`'s resume buffer after sequence number
    /// `seq`, in order.
    func kept(for session: String, after seq: Int) async throws -> [StoredMessage]

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

extension StoredMessage {
    /// What a buffer of a session's partner says about that session's own messages: their client
    /// ids, and the highest number kept (it outlives a crash of the instance that sent them).
    static func sentBy(_ partnerBuffer: [StoredMessage]) -> (stored: [String: Int], lastSent: Int) {
        var stored: [String: Int] = [:]
        for message in partnerBuffer { if let id = message.clientID { stored[id] = message.seq } }
        return (stored, partnerBuffer.map(\.seq).max() ?? 0)
    }
}
