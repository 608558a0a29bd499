/// Everything one session decides, as a value: an event in, actions out. Its connection's
/// `WebSocketChatHandler` owns it, feeds it events on its event loop and performs the actions;
/// the tests drive it with no socket and no backend.
///
/// What it keeps: whether the session is open, the chat it is in (the partner, the numbering of
/// its own messages, the `Inbox` of the partner's), its place in the queue, and the control
/// messages (find, leave, report) waiting for the backend, which run one at a time in order.
package struct SessionMachine: Sendable {
    enum Phase: Equatable, Sendable { case opening, open, closed }

    struct Chat: Equatable, Sendable {
        var id: String
        var partner: String
        /// The sequence number our next message gets.
        var nextSeq: Int
        var inbox: Inbox
        /// Told `partner_reconnecting`, not yet `partner_back`.
        var partnerAway = false
    }

    /// Control messages waiting for the one in progress; more than this is abuse.
    static let maxWaitingControl = 16

    private(set) var phase = Phase.opening
    private(set) var session: String?
    private(set) var resumeToken: String?
    var chat: Chat?
    /// In the match queue (its interests, to queue again if the shared state is lost).
    var queuedInterests: Set<String>?
    var controlBusy = false
    var waitingControl: [Control] = []
    /// Set when the connection ended while a control message was still in progress: the
    /// departure waits for it.
    var departureWaiting: Bool?
    /// Client ids of this session's messages already kept, after a resume (see `Opening.stored`).
    private var stored: [String: Int] = [:]
    /// The connection closed before `opened`, and whether that close left the session resumable.
    private var closedWhileOpening: Bool?

    var isQueued: Bool { queuedInterests != nil }

    enum Control: Sendable {
        case find(Set<String>), leave, report(String), fallback, expire
    }

    mutating func handle(_ event: Event) -> SmallList<Action> {
        var actions = SmallList<Action>()
        switch event {
        case .opened(let opening): open(opening, &actions)
        case .client(let message, let now): client(message, now: now, &actions)
        case .peer(let event): peer(event, &actions)
        case .queued:
            guard phase == .open else { break }
            actions.append(.send(.queued))
            actions.append(.watchQueue(true))
        case .paired(let id, let partner, let common):
            guard phase == .open, chat == nil else { break }
            startChat(id, partner: partner, &actions)
            // The partner first: by the time our client may send, the partner knows the chat.
            actions.append(.tell(.matched(chat: id, partner: session ?? "", commonInterests: common), partner: partner, chat: id))
            actions.append(.send(.matched(chat: id, commonInterests: common)))
        case .queueExpired(let wasQueued):
            if wasQueued && phase == .open { actions.append(.send(.noMatch)) }
        case .fallbackDue:
            if isQueued { request(.fallback, &actions) }
        case .queueTimedOut:
            if isQueued { request(.expire, &actions) }
        case .controlFinished(let error):
            controlFinished(error: error, &actions)
        case .fetched(let messages, let bufferFull):
            guard var current = chat else { break }
            let (deliver, step, skipped) = current.inbox.fetched(messages, bufferFull: bufferFull)
            chat = current
            if !deliver.isEmpty { actions.append(.write(deliver, live: false)) }
            if skipped > 0 { actions.append(.countSkipped(skipped)) }
            fetchStep(step, &actions)
        case .fetchFailed:
            guard var current = chat else { break }
            let step = current.inbox.fetchFailed()
            chat = current
            fetchStep(step, &actions)
        case .fetchDue:
            if let chat { actions.append(.fetch(after: chat.inbox.delivered, later: false)) }
        case .busRestored:
            guard phase == .open, var current = chat else { break }
            let step = current.inbox.catchUp()
            chat = current
            fetchStep(step, &actions)
            // Ours that the partner's server may not have heard about while the bus was away.
            if current.nextSeq > 1 { actions.append(.tell(.sync(upTo: current.nextSeq - 1), partner: current.partner, chat: current.id)) }
        case .stateLost:
            guard phase == .open else { break }
            actions.append(.register)
            if let interests = queuedInterests, !controlBusy { request(.find(interests), &actions) }
        case .partnerUnreachable(let partner):
            peer(.partnerReconnecting, from: partner, &actions)
        case .partnerExpiryDue(let partner):
            if let chat, chat.partner == partner, chat.partnerAway { actions.append(.checkPartnerGone(partner)) }
        case .closed(let resumable):
            close(resumable: resumable, &actions)
        }
        return actions
    }

    // MARK: Lifecycle

    private mutating func open(_ opening: Opening, _ actions: inout SmallList<Action>) {
        session = opening.session
        resumeToken = opening.resumeToken
        guard phase == .opening else {
            // The connection closed before the session was ready. A new session goes: nobody
            // holds its token. A resumed one stays resumable as it was (its client still holds the
            // token and comes back), so it departs with what the claim found, not as forgotten.
            guard opening.resumed, closedWhileOpening == true else {
                actions.append(.depart(departure(resumable: false)))
                return
            }
            actions.append(.depart(Departure(
                session: opening.session, partner: opening.partner, chat: opening.chat, wasQueued: false, lastSent: opening.lastSent,
                lastDelivered: opening.lastDelivered, resumable: true)))
            return
        }
        phase = .open
        actions.append(
            .send(.welcome(session: opening.session, resumeToken: opening.resumeToken, server: opening.server, resumed: opening.resumed, chat: opening.chat)))
        guard let id = opening.chat, let partner = opening.partner else { return }
        chat = Chat(id: id, partner: partner, nextSeq: opening.lastSent + 1, inbox: Inbox(delivered: opening.lastDelivered))
        stored = opening.stored
        actions.append(.partnerChanged(partner))
        // What arrived while away, then live messages; the partner hears we are back, and up to
        // where our messages go in case some were kept but never reached it.
        let step = chat?.inbox.catchUp() ?? .none
        fetchStep(step, &actions)
        actions.append(.tell(.partnerBack, partner: partner, chat: id))
        if opening.lastSent > 0 { actions.append(.tell(.sync(upTo: opening.lastSent), partner: partner, chat: id)) }
    }

    private mutating func close(resumable: Bool, _ actions: inout SmallList<Action>) {
        guard phase != .closed else { return }
        let wasOpening = phase == .opening
        phase = .closed
        // Not yet open: the departure follows `opened`, once the session's name is known.
        guard !wasOpening else {
            closedWhileOpening = resumable
            return
        }
        if controlBusy {
            departureWaiting = resumable
            return
        }
        actions.append(.depart(departure(resumable: resumable)))
    }

    func departure(resumable: Bool) -> Departure {
        Departure(
            session: session ?? "", partner: chat?.partner, chat: chat?.id, wasQueued: isQueued, lastSent: (chat?.nextSeq ?? 1) - 1,
            lastDelivered: chat?.inbox.delivered ?? 0, resumable: resumable)
    }

    private mutating func startChat(_ id: String, partner: String, _ actions: inout SmallList<Action>) {
        if isQueued { actions.append(.watchQueue(false)) }
        queuedInterests = nil
        chat = Chat(id: id, partner: partner, nextSeq: 1, inbox: Inbox())
        actions.append(.partnerChanged(partner))
    }

    mutating func endChat(_ actions: inout SmallList<Action>) {
        chat = nil
        stored = [:]
        actions.append(.partnerChanged(nil))
    }

    // MARK: From the client

    private mutating func client(_ message: ClientMessage, now: Int64, _ actions: inout SmallList<Action>) {
        guard phase == .open else { return }
        switch message {
        case .message(let text, let clientID):
            relay(text, clientID: clientID, now: now, &actions)
        case .typing:
            if let chat { actions.append(.tell(.typing, partner: chat.partner, chat: chat.id)) }
        case .ping:
            actions.append(.send(.pong))
        case .find(let interests):
            guard chat == nil else {
                actions.append(.send(.error(code: "bad_request", message: "leave the current chat before finding another")))
                return
            }
            request(.find(Set(interests)), &actions)
        case .leave:
            guard chat != nil || isQueued || controlBusy else {
                actions.append(.send(.error(code: "not_in_chat", message: "there is no chat to leave")))
                return
            }
            request(.leave, &actions)
        case .report(let reason):
            guard chat != nil else {
                actions.append(.send(.error(code: "not_in_chat", message: "reports concern your current partner")))
                return
            }
            request(.report(reason), &actions)
        }
    }

    private mutating func relay(_ text: String, clientID: String?, now: Int64, _ actions: inout SmallList<Action>) {
        guard var current = chat else {
            actions.append(.send(.error(code: "not_in_chat", message: "find a partner before sending messages")))
            return
        }
        if !stored.isEmpty {
            // A resend after a resume of a message already kept: ack it again, and make sure the
            // partner's server knows it exists. The first new message ends the resends.
            if let clientID, let seq = stored[clientID] {
                stored[clientID] = nil
                actions.append(.send(.ack(clientID: clientID, id: seq)))
                actions.append(.tell(.sync(upTo: current.nextSeq - 1), partner: current.partner, chat: current.id))
                return
            }
            stored = [:]
        }
        let message = StoredMessage(seq: current.nextSeq, text: text, sentAtMicros: now, clientID: clientID)
        current.nextSeq += 1
        chat = current
        actions.append(.relay(message, partner: current.partner, chat: current.id))
    }

    // MARK: From the partner

    private mutating func peer(_ event: PeerEvent, _ actions: inout SmallList<Action>) {
        guard phase == .open else { return }
        switch event {
        case .matched(let id, let partner, let common):
            guard chat == nil else { return }
            startChat(id, partner: partner, &actions)
            actions.append(.send(.matched(chat: id, commonInterests: common)))
        case .message(let message):
            guard var current = chat else { return }
            let (deliver, step) = current.inbox.receive(message)
            chat = current
            if !deliver.isEmpty { actions.append(.write(deliver, live: true)) }
            fetchStep(step, &actions)
        case .sync(let seq):
            guard var current = chat else { return }
            let step = current.inbox.sync(upTo: seq)
            chat = current
            fetchStep(step, &actions)
        case .typing:
            if chat != nil { actions.append(.send(.typing)) }
        case .partnerLeft:
            guard chat != nil else { return }
            endChat(&actions)
            actions.append(.send(.partnerLeft))
        case .partnerReconnecting:
            if let partner = chat?.partner { peer(.partnerReconnecting, from: partner, &actions) }
        case .partnerBack:
            guard chat != nil else { return }
            chat?.partnerAway = false
            actions.append(.send(.partnerBack))
        case .takeover:
            break  // the handler compares connection ids and closes quietly
        }
    }

    private mutating func peer(_ event: PeerEvent, from partner: String, _ actions: inout SmallList<Action>) {
        guard phase == .open, var current = chat, current.partner == partner, !current.partnerAway else { return }
        current.partnerAway = true
        chat = current
        actions.append(.send(.partnerReconnecting))
        actions.append(.watchPartner(partner))
    }

    private func fetchStep(_ step: Inbox.Step, _ actions: inout SmallList<Action>) {
        guard let chat else { return }
        switch step {
        case .none: break
        case .fetch: actions.append(.fetch(after: chat.inbox.delivered, later: false))
        case .fetchLater: actions.append(.fetch(after: chat.inbox.delivered, later: true))
        }
    }
}
