import Foundation
import NIOCore
import OpsKit

/// The backend work of a session, run by `BackendJobs` off the event loop; results come back as
/// events through `post`.
extension WebSocketChatHandler {
    /// Opens a new session for this connection, or takes back the one the resume token names.
    func startSession() {
        let hub = self.hub
        let server = hub.configuration.serverName
        let ipHash = hub.hasher.hash(ip)
        hub.jobs.submit { [self, resume, connectionID] in
            do {
                if let resume, let claimed = try await hub.backend.claim(resumeToken: resume.token, connectionID: connectionID, server: server) {
                    let record = claimed.record
                    let opening = SessionMachine.Opening(
                        session: record.session, resumeToken: record.resumeToken, server: server, resumed: true, chat: record.chat,
                        partner: record.partner, lastSent: record.lastSent, lastDelivered: resume.lastID ?? record.lastDelivered,
                        stored: claimed.stored)
                    onLoop { handler in
                        if let rate = record.rate { handler.limiter.restore(rate) }
                        handler.apply(.opened(opening))
                    }
                    hub.logger.debug("session.resumed", metadata: ["session": "\(record.session)"])
                    return
                }
                let record = SessionRecord(
                    session: SessionID.make(), resumeToken: SessionID.make(length: 24), ipHash: ipHash, server: server, connectionID: connectionID)
                try await hub.backend.register(record)
                post(.opened(SessionMachine.Opening(session: record.session, resumeToken: record.resumeToken, server: server, resumed: false)))
            } catch {
                hub.logger.warning("session.start_failed", metadata: ["error": "\(error)"])
                onLoop { handler in
                    handler.send(.error(code: "unavailable", message: "the chat service is unavailable; try again shortly"))
                    handler.close(code: CloseCode.internalError, reason: "unavailable", resumable: false)
                }
            }
        }
    }

    func find(_ interests: Set<String>) {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            do {
                post(.queued)
                let started = ContinuousClock.now
                if let candidate = try await hub.backend.findPartner(session: session, interests: interests, fallback: hub.configuration.matchFallback) {
                    try await pair(session, with: candidate, common: interests.intersection(candidate.interests).sorted(), waited: ContinuousClock.now - started)
                }
                post(.controlFinished(error: nil))
            } catch {
                hub.logger.warning("match.failed", metadata: ["session": "\(session)", "error": "\(error)"])
                post(.controlFinished(error: "matching is unavailable; try again shortly"))
            }
        }
    }

    func fallback() {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            let started = ContinuousClock.now
            if let candidate = await hub.bestEffort("fallback", session: session, { try await hub.backend.fallbackPartner(session: session) }) ?? nil {
                await hub.bestEffort("pair", session: session) { try await pair(session, with: candidate, common: [], waited: ContinuousClock.now - started) }
            }
            post(.controlFinished(error: nil))
        }
    }

    /// Records the chat between `session` and the partner found, then both hear `matched`.
    private func pair(_ session: String, with candidate: MatchCandidate, common: [String], waited: Duration) async throws {
        let chat = SessionID.make()
        try await hub.backend.setChat(chat, between: session, and: candidate.session)
        // Queued to matched, for both: the partner's wait as the backend measured it, and ours.
        hub.metrics.matchDuration.observe(candidate.waited)
        hub.metrics.matchDuration.observe(waited)
        post(.paired(chat: chat, partner: candidate.session, commonInterests: common))
    }

    func leaveChat(partner: String, chat: String) {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            await hub.bestEffort("clear_chat", session: session) { try await hub.backend.clearChat(of: session) }
            await hub.bestEffort("clear_chat", session: partner) { try await hub.backend.clearChat(of: partner) }
            hub.tell(.partnerLeft, to: partner, chat: chat)
            post(.controlFinished(error: nil))
        }
    }

    func leaveQueue(expiring: Bool) {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            // If the queue cannot say, assume it still held us: the client hears no_match.
            let wasQueued = await hub.bestEffort("dequeue", session: session) { try await hub.backend.dequeue(session: session) } ?? true
            if expiring { post(.queueExpired(wasQueued: wasQueued)) }
            post(.controlFinished(error: nil))
        }
    }

    func report(_ reason: String, partner: String, chat: String) {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            // The partner's IP hash from its connection, wherever it is connected.
            let ipHash: String?
            if let local = hub.local(partner) {
                ipHash = hub.hasher.hash(local.ip)
            } else {
                ipHash = await hub.bestEffort("ip_hash", session: partner) { try await hub.backend.ipHash(of: partner) } ?? nil
            }
            guard let ipHash else {
                post(.controlFinished(error: "the report could not be stored; try again"))
                return
            }
            let report = AbuseReport(
                reportedSession: partner, reporterSession: session, reportedIPHash: ipHash, reason: reason, chatID: chat, createdAt: Date())
            do {
                let id = try await hub.reports.save(report)
                onLoop { $0.send(.ack(clientID: nil, id: id)) }
            } catch {
                hub.logger.error("report.save_failed", metadata: ["error": "\(error)"])
                post(.controlFinished(error: "the report could not be stored; try again"))
                return
            }
            post(.controlFinished(error: nil))
            do {
                let banned = try await hub.backend.countReport(
                    against: ipHash, threshold: hub.configuration.reportsToBan, window: .seconds(86_400), banFor: hub.configuration.banDuration)
                if banned {
                    hub.metrics.bans.add(1, ordering: .relaxed)
                    hub.logger.notice("ban.added", metadata: ["ip_hash": "\(ipHash.prefix(12))", "duration": "\(hub.configuration.banDuration)"])
                }
            } catch {
                hub.logger.warning("ban.count_failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads the session's resume buffer after `after`, for the inbox.
    func fetch(after: Int) {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            do {
                let messages = try await hub.backend.kept(for: session, after: after)
                post(.fetched(messages, bufferFull: messages.count >= hub.configuration.resumeBuffer))
            } catch {
                hub.logger.warning("session.fetch_failed", metadata: ["session": "\(session)", "error": "\(error)"])
                post(.fetchFailed)
            }
        }
    }

    /// The partner was away for the whole resume window: unless it came back, it has left.
    func checkPartnerGone(_ partner: String) {
        guard let session = machine.session else { return }
        let hub = self.hub
        hub.jobs.submit { [self] in
            if await hub.bestEffort("is_connected", session: partner, { try await hub.backend.isConnected(session: partner) }) == true { return }
            await hub.bestEffort("clear_chat", session: session) { try await hub.backend.clearChat(of: session) }
            post(.peer(.partnerLeft))
        }
    }

    /// The shared state was lost: this session is written again as it is now.
    func refreshRegistration() {
        guard let record = record() else { return }
        let hub = self.hub
        hub.jobs.submit { await hub.bestEffort("register", session: record.session) { try await hub.backend.register(record) } }
    }

    /// The connection is gone. Unless the client said goodbye (or resume is off), the session
    /// waits RESUME_WINDOW for it and the partner hears `partner_reconnecting`; otherwise the
    /// partner hears `partner_left` at once.
    func depart(_ departure: SessionMachine.Departure) {
        hub.unregister(departure.session, self)
        guard !quiet else { return }
        let hub = self.hub
        let window = hub.configuration.resumeWindow
        let record = record(lastSent: departure.lastSent, lastDelivered: departure.lastDelivered)
        hub.logger.debug("connection.closed", metadata: ["session": "\(departure.session)", "reason": "\(closeReason)"])
        hub.jobs.submit {
            if departure.wasQueued { _ = await hub.bestEffort("dequeue", session: departure.session) { try await hub.backend.dequeue(session: departure.session) } }
            if departure.resumable && window > .zero, let record {
                hub.backend.stopRouting(session: departure.session)
                let stillOurs = await hub.bestEffort("mark_away", session: departure.session) { try await hub.backend.markAway(record, window: window) } ?? true
                if stillOurs, let partner = departure.partner { hub.tell(.partnerReconnecting, to: partner, chat: departure.chat) }
            } else {
                if let partner = departure.partner {
                    await hub.bestEffort("clear_chat", session: partner) { try await hub.backend.clearChat(of: partner) }
                    hub.tell(.partnerLeft, to: partner, chat: departure.chat)
                }
                await hub.backend.forget(session: departure.session)
            }
        }
    }
}
