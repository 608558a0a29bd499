import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Shared state for a single instance, in this process: no REDIS_ADDR and NATS_URL. Every session
/// is local, so nothing is ever published; resume, bans and the queue work as in a cluster.
///
/// All state sits behind `lock`, hence `@unchecked Sendable`.
final class EmbeddedBackend: ChatBackend, @unchecked Sendable {
    private struct Entry {
        var record: SessionRecord
        var connected = true
        var awayUntil: ContinuousClock.Instant?
    }

    private let lock = NIOLock()
    private var matchmaker: Matchmaker
    private var sessions: [String: Entry] = [:]
    private var tokens: [String: String] = [:]
    private var buffers: [String: MessageRing] = [:]
    private var bans: [String: ContinuousClock.Instant] = [:]
    private var reports: [String: [ContinuousClock.Instant]] = [:]
    private var awaySincePurge = 0
    private let bufferLimit: Int

    init(configuration: ServerConfiguration) {
        matchmaker = Matchmaker(fallback: configuration.matchFallback, timeout: configuration.matchTimeout)
        bufferLimit = configuration.resumeBuffer
    }

    func start(
        deliver: @escaping @Sendable (PeerEvent, String) -> Void, busRestored: @escaping @Sendable () -> Void,
        stateLost: @escaping @Sendable () -> Void
    ) {}

    func shutdown() async {}

    // MARK: Sessions

    func register(_ record: SessionRecord) async throws {
        lock.withLock {
            sessions[record.session] = Entry(record: record)
            tokens[record.resumeToken] = record.session
        }
    }

    func claim(resumeToken: String, connectionID: String, server: String) async throws -> ClaimedSession? {
        lock.withLock {
            guard let session = tokens[resumeToken], var entry = sessions[session] else { return nil }
            if let until = entry.awayUntil, until < .now {
                removeSession(session)
                return nil
            }
            var previous = entry.record
            var stored: [String: Int] = [:]
            if let partner = previous.partner {
                // Messages kept for the partner may be newer than what the session last saved.
                let sent = StoredMessage.sentBy(buffers[partner]?.all ?? [])
                stored = sent.stored
                previous.lastSent = max(previous.lastSent, sent.lastSent)
            }
            entry.record.connectionID = connectionID
            entry.record.server = server
            entry.connected = true
            entry.awayUntil = nil
            sessions[session] = entry
            return ClaimedSession(record: previous, stored: stored)
        }
    }

    func markAway(_ record: SessionRecord, window: Duration) async throws -> Bool {
        lock.withLock {
            guard var entry = sessions[record.session], entry.record.connectionID == record.connectionID else { return false }
            entry.record = record
            entry.connected = false
            entry.awayUntil = .now + window
            sessions[record.session] = entry
            awaySincePurge += 1
            if awaySincePurge >= 1024 { purgeExpired() }
            return true
        }
    }

    func isConnected(session: String) async throws -> Bool {
        lock.withLock { sessions[session]?.connected ?? false }
    }

    func unreachable(_ sessions: [String]) async throws -> Set<String> {
        lock.withLock { Set(sessions.filter { !(self.sessions[$0]?.connected ?? false) }) }
    }

    func forget(session: String) async {
        lock.withLock { removeSession(session) }
    }

    func stopRouting(session: String) {}

    func setChat(_ chat: String, between first: String, and second: String) async throws {
        lock.withLock {
            for (session, partner) in [(first, second), (second, first)] {
                sessions[session]?.record.chat = chat
                sessions[session]?.record.partner = partner
                sessions[session]?.record.lastSent = 0
                sessions[session]?.record.lastDelivered = 0
                // A new, empty buffer for the chat: messages are kept only for sessions in one.
                buffers[session] = MessageRing(capacity: bufferLimit)
            }
        }
    }

    func clearChat(of session: String) async throws {
        lock.withLock {
            sessions[session]?.record.chat = nil
            sessions[session]?.record.partner = nil
        }
    }

    func ipHash(of session: String) async throws -> String? {
        lock.withLock { sessions[session]?.record.ipHash }
    }

    /// Call with `lock` held.
    private func removeSession(_ session: String) {
        guard let entry = sessions.removeValue(forKey: session) else { return }
        tokens[entry.record.resumeToken] = nil
        buffers[session] = nil
        matchmaker.remove(session)
    }

    /// Call with `lock` held.
    private func purgeExpired() {
        awaySincePurge = 0
        let now = ContinuousClock.now
        for (session, entry) in sessions where entry.awayUntil.map({ $0 < now }) ?? false { removeSession(session) }
    }

    // MARK: Matching

    func findPartner(session: String, interests: Set<String>, fallback: Duration) async throws -> MatchCandidate? {
        let now = ContinuousClock.now
        return lock.withLock {
            matchmaker.find(session: session, interests: interests, now: now).map {
                MatchCandidate(session: $0.first.session, interests: $0.first.interests, waited: now - $0.first.since)
            }
        }
    }

    func fallbackPartner(session: String) async throws -> MatchCandidate? {
        let now = ContinuousClock.now
        return lock.withLock {
            matchmaker.fallbackPartner(for: session, now: now).map {
                MatchCandidate(session: $0.session, interests: $0.interests, waited: now - $0.since)
            }
        }
    }

    @discardableResult
    func dequeue(session: String) async throws -> Bool {
        lock.withLock { matchmaker.remove(session) }
    }

    var queueDepth: Int { lock.withLock { matchmaker.count } }

    // MARK: Messages

    func publish(_ event: PeerEvent, to session: String, chat: String?) {}

    func keep(_ message: StoredMessage, for session: String, upkeep: BufferUpkeep) -> EventLoopFuture<Void>? {
        // Every chat message passes here: one lookup, the ring appended in place.
        lock.withLock { buffers[session]?.append(message) }
        return nil
    }

    func kept(for session: String, after seq: Int) async throws -> [StoredMessage] {
        lock.withLock { buffers[session]?.messages(after: seq) ?? [] }
    }

    // MARK: Bans

    func isBanned(ipHash: String) async throws -> Bool {
        lock.withLock {
            guard let until = bans[ipHash] else { return false }
            if until > .now { return true }
            bans[ipHash] = nil
            return false
        }
    }

    func countReport(against ipHash: String, threshold: Int, window: Duration, banFor: Duration) async throws -> Bool {
        let now = ContinuousClock.now
        return lock.withLock {
            var recent = (reports[ipHash] ?? []).filter { now - $0 < window }
            recent.append(now)
            reports[ipHash] = recent
            guard recent.count >= threshold, bans[ipHash].map({ $0 <= now }) ?? true else { return false }
            bans[ipHash] = now + banFor
            return true
        }
    }

    // MARK: Health

    var isAvailable: Bool { true }
    var checks: [BackendCheck] { [BackendCheck(name: "state", status: .ok, detail: "embedded")] }
}
