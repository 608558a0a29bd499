/// Drives a `SessionMachine` with an arbitrary sequence of events decoded from bytes, checking
/// what must always hold: the partner's messages are written in order and each once, and a chat's
/// own messages are numbered without gaps. The fuzz target `session-machine` and a randomised
/// test feed it; a broken invariant traps.
extension SessionMachine {
    package static func exercise(_ bytes: UnsafeRawBufferPointer) {
        var machine = SessionMachine()
        var input = bytes.makeIterator()
        var lastWritten: (chat: String, seq: Int)?
        var lastRelayed: (chat: String, seq: Int)?
        var clock: Int64 = 0
        func next() -> Int { input.next().map(Int.init) ?? 0 }
        func text() -> String { String(repeating: "x", count: next() % 8) }
        func messages() -> [StoredMessage] {
            (0..<(next() % 6)).map { _ in StoredMessage(seq: next() % 12, text: text(), sentAtMicros: 0, clientID: next() % 3 == 0 ? "c\(next() % 4)" : nil) }
        }
        while let op = input.next() {
            clock += 1
            let chatID = "chat\(next() % 3)"
            let event: Event
            switch op % 24 {
            case 0: event = .opened(Opening(session: "s", resumeToken: "t", server: "w", resumed: false))
            case 1:
                event = .opened(Opening(
                    session: "s", resumeToken: "t", server: "w", resumed: true, chat: chatID, partner: "p", lastSent: next() % 5,
                    lastDelivered: next() % 5, stored: ["c\(next() % 4)": next() % 5]))
            case 2: event = .client(.message(text: text(), clientID: next() % 2 == 0 ? "c\(next() % 4)" : nil), nowMicros: clock)
            case 3: event = .client(.find(interests: next() % 2 == 0 ? ["a"] : []), nowMicros: clock)
            case 4: event = .client(.leave, nowMicros: clock)
            case 5: event = .client(.report(reason: text()), nowMicros: clock)
            case 6: event = .client(.typing, nowMicros: clock)
            case 7: event = .peer(.matched(chat: chatID, partner: "p", commonInterests: []))
            case 8, 9, 10: event = .peer(.message(StoredMessage(seq: next() % 12, text: text(), sentAtMicros: 0, clientID: next() % 3 == 0 ? "c\(next() % 4)" : nil)))
            case 11: event = .peer(.sync(upTo: next() % 12))
            case 12: event = .peer(.partnerLeft)
            case 13: event = .peer(next() % 2 == 0 ? .partnerReconnecting : .partnerBack)
            case 14: event = .controlFinished(error: next() % 4 == 0 ? "failed" : nil)
            case 15, 16: event = .fetched(messages(), bufferFull: next() % 4 == 0)
            case 17: event = next() % 2 == 0 ? .fetchFailed : .fetchDue
            case 18: event = .queued
            case 19: event = .paired(chat: chatID, partner: "p", commonInterests: [])
            case 20: event = next() % 2 == 0 ? .busRestored : .stateLost
            case 21: event = [Event.fallbackDue, .queueTimedOut, .queueExpired(wasQueued: true)][next() % 3]
            case 22: event = next() % 2 == 0 ? .partnerUnreachable("p") : .partnerExpiryDue("p")
            default: event = .closed(resumable: next() % 2 == 0)
            }
            let chatBefore = machine.chat?.id
            for action in machine.handle(event) {
                switch action {
                case .write(let written, _):
                    for message in written {
                        if let chat = machine.chat?.id, let last = lastWritten, last.chat == chat {
                            precondition(message.seq > last.seq, "message \(message.seq) written after \(last.seq)")
                        }
                        lastWritten = (machine.chat?.id ?? "", message.seq)
                    }
                case .relay(let message, _, let chat):
                    if let last = lastRelayed, last.chat == chat, chatBefore == chat {
                        precondition(message.seq == last.seq + 1, "own message numbered \(message.seq) after \(last.seq)")
                    }
                    lastRelayed = (chat, message.seq)
                default:
                    break
                }
            }
            if machine.chat?.id != chatBefore {
                lastWritten = nil
                lastRelayed = nil
            }
            if let inbox = machine.chat?.inbox {
                precondition(inbox.held.allSatisfy { $0.seq > inbox.delivered }, "held message at or below the delivered mark")
            }
        }
    }
}
