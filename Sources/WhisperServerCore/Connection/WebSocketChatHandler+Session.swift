import NIOCore
import OpsKit

/// The session side of a connection: events into the `SessionMachine`, its actions performed.
extension WebSocketChatHandler {
    /// Hands `event` to this session from any thread; it is applied on the session's event loop,
    /// after what was posted before it.
    func post(_ event: SessionMachine.Event) {
        // From this loop, and not inside another event of ours, there is no need to queue.
        if eventLoop.inEventLoop && !applying {
            apply(event)
        } else {
            eventLoop.execute { self.apply(event) }
        }
    }

    func apply(_ event: SessionMachine.Event) {
        eventLoop.preconditionInEventLoop()
        if case .opened(let opening) = event { registerOpened(opening) }
        // Until its actions are done too: an event this one causes for us waits its turn.
        applying = true
        let actions = machine.handle(event)
        for action in actions { perform(action) }
        applying = false
        if case .opened = event, isOpen { handleEarlyMessages() }
    }

    /// The session is known: it becomes reachable here, and an older connection of it here ends.
    private func registerOpened(_ opening: SessionMachine.Opening) {
        guard machine.phase == .opening else { return }
        if let replaced = hub.register(self, as: opening.session) { replaced.takeOver(ifConnection: replaced.connectionID) }
        if opening.resumed { hub.metrics.resumed.add(1, ordering: .relaxed) }
    }

    /// The session resumed on a newer connection: this one closes without telling anyone.
    func takeOver(ifConnection id: String) {
        onLoop { handler in
            guard handler.connectionID == id else { return }
            handler.quiet = true
            handler.close(code: CloseCode.normal, reason: "taken_over", resumable: false)
        }
    }

    /// A resume elsewhere waits for this connection: it ends now, resumable, and its departure
    /// records the last message sent and delivered, which the resume then starts from.
    func handOver(ifConnection id: String) {
        onLoop { handler in
            guard handler.connectionID == id, !handler.isClosed.load(ordering: .acquiring) else { return }
            handler.closeReason = "taken_over"
            handler.resumable = true
            handler.fail(code: CloseCode.normal)
        }
    }

    func perform(_ action: SessionMachine.Action) {
        switch action {
        case .send(let message):
            send(message)
        case .write(let messages, let live):
            for message in messages { write(message, live: live) }
        case .relay(let message, let partner, let chat):
            relay(message, to: partner, chat: chat)
        case .tell(let event, let partner, let chat):
            hub.tell(event, to: partner, chat: chat)
        case .fetch(let after, let later):
            guard later else { return fetch(after: after) }
            timers.fetch = eventLoop.scheduleTask(in: Inbox.retryDelay.timeAmount) { [self] in apply(.fetchDue) }
        case .find(let interests): find(interests)
        case .fallback: fallback()
        case .leaveChat(let partner, let chat): leaveChat(partner: partner, chat: chat)
        case .leaveQueue: leaveQueue(expiring: false)
        case .expireQueue: leaveQueue(expiring: true)
        case .report(let reason, let partner, let chat): report(reason, partner: partner, chat: chat)
        case .watchQueue(let on): watchQueue(on)
        case .watchPartner(let partner):
            timers.partnerExpiry?.cancel()
            let delay = hub.configuration.resumeWindow + .milliseconds(500)
            timers.partnerExpiry = eventLoop.scheduleTask(in: delay.timeAmount) { [self] in apply(.partnerExpiryDue(partner)) }
        case .checkPartnerGone(let partner): checkPartnerGone(partner)
        case .partnerChanged(let partner):
            partnerHandler = nil
            if let session = machine.session {
                hub.chatChanged(for: session, partner: partner, chat: machine.chat?.id)
            }
        case .register: refreshRegistration()
        case .countSkipped(let count):
            hub.metrics.messagesLost.add(count, ordering: .relaxed)
            hub.logger.warning("chat.gap_skipped", metadata: ["session": "\(machine.session ?? "")", "messages": "\(count)"])
        case .depart(let departure): depart(departure)
        }
    }

    /// A message from the partner, to the client.
    private func write(_ message: StoredMessage, live: Bool) {
        guard !closeSent else { return }
        send(.message(id: message.seq, text: message.text, sentAt: message.sentAtMillis))
        hub.metrics.messagesSent.add(1, ordering: .relaxed)
        if live {
            hub.metrics.messageLatency.observe(.microseconds(max(0, WallClock.micros() - message.sentAtMicros)))
        }
    }

    /// Our client's message: to the partner at once, and into the partner's resume buffer; the
    /// client's ack waits until it is kept there, so an acked message is never lost.
    private func relay(_ message: StoredMessage, to partner: String, chat: String) {
        if let local = partnerHandler, !local.isClosed.load(ordering: .acquiring) {
            local.post(.peer(.message(message)))
        } else {
            partnerHandler = hub.local(partner)
            hub.tell(.message(message), to: partner, chat: chat)
        }
        keep(message, for: partner, chat: chat, thenAck: ServerMessage.ack(clientID: message.clientID, id: message.seq), since: .now(), attempt: 0)
    }

    /// Acks once the message is in the partner's resume buffer. A write that failed (the Redis
    /// connection dropped or timed out) is written again: the live copy may have been lost with a
    /// bus outage at the same moment, and an acked message must be in one place or the other.
    /// A write that succeeds only on a retry may land after the partner's instance already read
    /// the buffer to catch up (the bus came back meanwhile), so the partner is told how far the
    /// messages go, and reads the rest. The retries give up after RESUME_WINDOW (at least 10 s):
    /// that message is acked, counted unbuffered and logged, so a long Redis outage slows chats
    /// down without stopping them.
    private func keep(_ message: StoredMessage, for partner: String, chat: String, thenAck ack: ServerMessage, since start: NIODeadline, attempt: Int) {
        // A retry carries the whole upkeep: the failed write may have been the one that had it.
        let upkeep = attempt == 0 ? bufferUpkeep.next(for: partner) : .all
        guard let kept = hub.backend.keep(message, for: partner, upkeep: upkeep) else { return send(ack) }
        kept.whenComplete { [self] result in
            onLoop { handler in
                guard case .failure(let error) = result else {
                    if attempt > 0 { handler.hub.tell(.sync(upTo: message.seq), to: partner, chat: chat) }
                    return handler.send(ack)
                }
                guard !handler.isClosed.load(ordering: .acquiring) else { return }
                if NIODeadline.now() - start >= max(handler.hub.configuration.resumeWindow, .seconds(10)).timeAmount {
                    handler.hub.metrics.messagesUnbuffered.add(1, ordering: .relaxed)
                    handler.hub.logger.warning("chat.buffer_write_failed", metadata: ["session": "\(partner)", "error": "\(error)"])
                    return handler.send(ack)
                }
                let delay = TimeAmount.milliseconds(min(1000, 50 << min(attempt, 5)))
                handler.eventLoop.scheduleTask(in: delay) {
                    handler.keep(message, for: partner, chat: chat, thenAck: ack, since: start, attempt: attempt + 1)
                }
            }
        }
    }

    private func watchQueue(_ on: Bool) {
        timers.fallback?.cancel()
        timers.matchTimeout?.cancel()
        timers.fallback = nil
        timers.matchTimeout = nil
        guard on else { return }
        let configuration = hub.configuration
        timers.fallback = eventLoop.scheduleRepeatedTask(initialDelay: configuration.matchFallback.timeAmount, delay: .milliseconds(250)) {
            [self] _ in apply(.fallbackDue)
        }
        timers.matchTimeout = eventLoop.scheduleTask(in: configuration.matchTimeout.timeAmount) { [self] in apply(.queueTimedOut) }
    }

    /// What outlives this connection in the backend, as of now.
    func record(lastSent: Int? = nil, lastDelivered: Int? = nil) -> SessionRecord? {
        guard let session = machine.session, let token = machine.resumeToken else { return nil }
        return SessionRecord(
            session: session, resumeToken: token, ipHash: hub.hasher.hash(ip), server: hub.configuration.serverName,
            connectionID: connectionID, chat: machine.chat?.id, partner: machine.chat?.partner,
            lastSent: lastSent ?? ((machine.chat?.nextSeq ?? 1) - 1), lastDelivered: lastDelivered ?? (machine.chat?.inbox.delivered ?? 0),
            rate: limiter.counters())
    }
}
