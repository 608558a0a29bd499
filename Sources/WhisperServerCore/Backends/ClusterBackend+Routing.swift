import NIOCore
import OpsKit

/// Messages and events between instances: NATS subjects per session, and the resume buffers in
/// Redis that every message passes through.
extension ClusterBackend {
    /// Subscribes this instance to everything addressed to `session`.
    func route(_ session: String) {
        guard lock.withLock({ routes[session] == nil }) else { return }
        let handler: @Sendable (NATSMessage) -> Void = { [weak self] message in
            guard let self, let deliver = self.lock.withLock({ self.deliver }) else { return }
            let bytes = Array(message.payload.readableBytesView)
            guard let value = try? JSONValue.parse(bytes), let event = PeerEvent(json: value) else {
                self.logger.warning("nats.bad_event", metadata: ["subject": "\(message.subject)"])
                return
            }
            deliver(event, session)
        }
        let subscriptions = ["match.found.\(session)", "session.\(session)", "chat.*.\(session)"].compactMap { subject in
            do {
                return try nats.subscribe(to: subject, handler: handler)
            } catch {
                // The session would not hear its partner through NATS; the resume buffer still
                // holds every message, read back when the bus reconnects.
                logger.error("nats.subscribe_failed", metadata: ["subject": "\(subject)", "error": "\(error)"])
                return nil
            }
        }
        lock.withLock { routes[session] = subscriptions }
    }

    func publish(_ event: PeerEvent, to session: String, chat: String?) {
        let subject: String
        switch event {
        case .matched: subject = "match.found.\(session)"
        case .message: subject = "chat.\(chat ?? "none").\(session)"
        default: subject = "session.\(session)"
        }
        do {
            try nats.publish(event.json.serialized(), to: subject)
        } catch {
            logger.warning("nats.publish_failed", metadata: ["subject": "\(subject)", "error": "\(error)"])
        }
    }

    /// One RPUSH per message; the trim and the expiry ride along only when the sender's schedule
    /// says they are due, so a message costs about one Redis command (docs/cluster.md).
    func keep(_ message: StoredMessage, for session: String, upkeep: BufferUpkeep) -> EventLoopFuture<Void>? {
        let key = RedisKeys.buffer(session)
        var commands = [["RPUSH", key, message.bufferEntry]]
        if upkeep.trim { commands.append(["LTRIM", key, String(-configuration.resumeBuffer), "-1"]) }
        if upkeep.renewExpiry { commands.append(["PEXPIRE", key, String(Self.bufferTTL.milliseconds)]) }
        return redis.pipeline(commands).flatMapThrowing { [self] replies in _ = try check(replies) }
    }

    func kept(for session: String, after seq: Int) async throws -> [StoredMessage] {
        let items = try await redis.command("LRANGE", RedisKeys.buffer(session), String(-configuration.resumeBuffer), "-1").array ?? []
        return items.compactMap { $0.string.flatMap(StoredMessage.init(bufferEntry:)) }.filter { $0.seq > seq }.sorted { $0.seq < $1.seq }
    }

}
