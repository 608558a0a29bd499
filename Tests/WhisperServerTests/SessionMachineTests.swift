import TestSupport
import Testing

@testable import WhisperServerCore

private func message(_ seq: Int, _ text: String? = nil) -> StoredMessage {
    StoredMessage(seq: seq, text: text ?? "m\(seq)", sentAtMicros: Int64(seq))
}

/// Ordering and exactly-once delivery of a partner's messages, without sockets.
@Suite struct InboxTests {
    @Test func inOrderMessagesGoStraightThroughAndDuplicatesAreDropped() {
        var inbox = Inbox()
        #expect(inbox.receive(message(1)).deliver.map(\.seq) == [1])
        #expect(inbox.receive(message(2)).deliver.map(\.seq) == [2])
        let again = inbox.receive(message(2))
        #expect(again.deliver.isEmpty && again.step == .none)
        #expect(inbox.delivered == 2)
    }

    @Test func aGapHoldsLaterMessagesUntilTheBufferFillsIt() {
        var inbox = Inbox()
        _ = inbox.receive(message(1))
        let ahead = inbox.receive(message(4))
        #expect(ahead.deliver.isEmpty)
        #expect(ahead.step == .fetch)
        // More live messages while fetching wait too, in order.
        #expect(inbox.receive(message(5)).deliver.isEmpty)
        let filled = inbox.fetched([message(2), message(3), message(4)])
        #expect(filled.deliver.map(\.seq) == [2, 3, 4, 5])
        #expect(filled.step == .none)
        #expect(inbox.delivered == 5 && inbox.held.isEmpty && !inbox.fetching)
    }

    @Test func theBusBackAfterAnOutageCatchesUpBeforeLiveMessages() {
        // The live message arriving first must not move the mark past what the outage dropped.
        var inbox = Inbox(delivered: 10)
        #expect(inbox.catchUp() == .fetch)
        #expect(inbox.receive(message(14)).deliver.isEmpty)
        let caught = inbox.fetched([message(11), message(12), message(13), message(14)])
        #expect(caught.deliver.map(\.seq) == [11, 12, 13, 14])
    }

    @Test func aGapNotYetInTheBufferIsFetchedAgainThenGivenUp() {
        var inbox = Inbox()
        _ = inbox.receive(message(2))
        var skipped = 0
        var rounds = 0
        while rounds < 1000 {
            rounds += 1
            let result = inbox.fetched([])
            skipped += result.skipped
            if result.step == .none {
                #expect(result.deliver.map(\.seq) == [2])
                break
            }
            #expect(result.step == .fetchLater)
        }
        #expect(rounds == Inbox.maxFruitlessFetches + 1)
        #expect(skipped == 1)
        #expect(inbox.delivered == 2)
    }

    @Test func aGapTrimmedFromAFullBufferIsGivenUpAtOnce() {
        var inbox = Inbox(delivered: 1)
        #expect(inbox.sync(upTo: 20) == .fetch)
        let result = inbox.fetched((16...20).map { message($0) }, bufferFull: true)
        #expect(result.deliver.map(\.seq) == Array(16...20))
        #expect(result.skipped == 14 && result.step == .none)
        #expect(inbox.delivered == 20)
    }

    @Test func aGapAfterTheOldestKeptMessageIsWaitedForEvenWhenTheBufferIsFull() {
        // 3 is missing between kept messages: its write may still be on the way (a retry).
        var inbox = Inbox(delivered: 1)
        _ = inbox.sync(upTo: 5)
        let result = inbox.fetched([message(2), message(4), message(5)], bufferFull: true)
        #expect(result.deliver.map(\.seq) == [2])
        #expect(result.skipped == 0 && result.step == .fetchLater)
    }

    @Test func aSyncFromThePartnersServerFetchesWhatNeverArrived() {
        var inbox = Inbox(delivered: 3)
        #expect(inbox.sync(upTo: 3) == .none)
        #expect(inbox.sync(upTo: 5) == .fetch)
        #expect(inbox.fetched([message(4), message(5)]).deliver.map(\.seq) == [4, 5])
    }

    @Test func fetchedDuplicatesAndOlderMessagesAreIgnored() {
        var inbox = Inbox(delivered: 5)
        _ = inbox.catchUp()
        let result = inbox.fetched([message(3), message(5), message(6), message(6)])
        #expect(result.deliver.map(\.seq) == [6])
    }
}

/// The session's decisions, event by event, without sockets or a backend.
@Suite struct SessionMachineTests {
    func opened(_ opening: SessionMachine.Opening? = nil) -> SessionMachine {
        var machine = SessionMachine()
        _ = machine.handle(.opened(opening ?? .init(session: "s1", resumeToken: "t", server: "ws1", resumed: false)))
        return machine
    }

    func inChat(_ machine: inout SessionMachine, partner: String = "p1") {
        _ = machine.handle(.client(.find(interests: ["x"]), nowMicros: 0))
        _ = machine.handle(.queued)
        _ = machine.handle(.peer(.matched(chat: "c1", partner: partner, commonInterests: ["x"])))
        _ = machine.handle(.controlFinished(error: nil))
    }

    @Test func messagesAreNumberedPerChatAndNeedAChat() {
        var machine = opened()
        #expect(Array(machine.handle(.client(.message(text: "hi", clientID: nil), nowMicros: 1))) == [
            .send(.error(code: "not_in_chat", message: "find a partner before sending messages"))
        ])
        inChat(&machine)
        let first = Array(machine.handle(.client(.message(text: "a", clientID: "c-1"), nowMicros: 7)))
        #expect(first == [.relay(StoredMessage(seq: 1, text: "a", sentAtMicros: 7, clientID: "c-1"), partner: "p1", chat: "c1")])
        let second = Array(machine.handle(.client(.message(text: "b", clientID: "c-2"), nowMicros: 8)))
        #expect(second == [.relay(StoredMessage(seq: 2, text: "b", sentAtMicros: 8, clientID: "c-2"), partner: "p1", chat: "c1")])
    }

    @Test func controlMessagesRunOneAtATimeInOrder() {
        var machine = opened()
        #expect(Array(machine.handle(.client(.find(interests: ["x"]), nowMicros: 0))) == [.find(interests: ["x"])])
        // Leave waits for the find.
        #expect(Array(machine.handle(.client(.leave, nowMicros: 0))).isEmpty)
        _ = machine.handle(.queued)
        let after = Array(machine.handle(.controlFinished(error: nil)))
        #expect(after == [.watchQueue(false), .leaveQueue])
        #expect(!machine.isQueued)
    }

    @Test func theDepartureWaitsForTheControlMessageInProgress() {
        var machine = opened()
        _ = machine.handle(.client(.find(interests: []), nowMicros: 0))
        #expect(Array(machine.handle(.closed(resumable: true))).isEmpty)
        let departure = Array(machine.handle(.controlFinished(error: nil)))
        guard case .depart(let info)? = departure.first else {
            Issue.record("expected a departure, got \(departure)")
            return
        }
        #expect(info.wasQueued && info.resumable && info.session == "s1")
    }

    @Test func aSessionClosedBeforeItOpenedEndsWhenItsNameIsKnown() {
        var machine = SessionMachine()
        #expect(Array(machine.handle(.closed(resumable: true))).isEmpty)
        let actions = Array(machine.handle(.opened(.init(session: "s9", resumeToken: "t", server: "ws1", resumed: false))))
        guard case .depart(let info)? = actions.first else {
            Issue.record("expected a departure, got \(actions)")
            return
        }
        #expect(info.session == "s9" && !info.resumable)
    }

    /// A slow server finishes a resume after the client gave up on that connection: the session
    /// was the client's before and still is, so it departs resumable, with the chat the claim found.
    @Test func aResumedSessionClosedBeforeItOpenedStaysResumable() {
        var machine = SessionMachine()
        #expect(Array(machine.handle(.closed(resumable: true))).isEmpty)
        let opening = SessionMachine.Opening(
            session: "s1", resumeToken: "t", server: "ws2", resumed: true, chat: "c1", partner: "p1", lastSent: 5, lastDelivered: 3)
        let actions = Array(machine.handle(.opened(opening)))
        guard case .depart(let info)? = actions.first, actions.count == 1 else {
            Issue.record("expected one departure, got \(actions)")
            return
        }
        #expect(info.resumable && info.session == "s1" && info.partner == "p1" && info.chat == "c1")
        #expect(info.lastSent == 5 && info.lastDelivered == 3)
        // A resumed session whose connection ended for good (a goodbye) goes.
        var goodbye = SessionMachine()
        _ = goodbye.handle(.closed(resumable: false))
        guard case .depart(let gone)? = Array(goodbye.handle(.opened(opening))).first else {
            Issue.record("no departure")
            return
        }
        #expect(!gone.resumable)
    }

    @Test func aResumeCatchesUpTellsThePartnerAndRecognisesResends() {
        let opening = SessionMachine.Opening(
            session: "s1", resumeToken: "t", server: "ws2", resumed: true, chat: "c1", partner: "p1", lastSent: 5, lastDelivered: 3,
            stored: ["c-5": 5])
        var machine = SessionMachine()
        let actions = Array(machine.handle(.opened(opening)))
        #expect(actions.contains(.fetch(after: 3, later: false)))
        #expect(actions.contains(.tell(.partnerBack, partner: "p1", chat: "c1")))
        #expect(actions.contains(.tell(.sync(upTo: 5), partner: "p1", chat: "c1")))
        // The client resends message c-5, kept before the crash: acked again, not sent twice.
        let resend = Array(machine.handle(.client(.message(text: "five", clientID: "c-5"), nowMicros: 9)))
        #expect(resend == [.send(.ack(clientID: "c-5", id: 5)), .tell(.sync(upTo: 5), partner: "p1", chat: "c1")])
        let next = Array(machine.handle(.client(.message(text: "six", clientID: "c-6"), nowMicros: 10)))
        #expect(next == [.relay(StoredMessage(seq: 6, text: "six", sentAtMicros: 10, clientID: "c-6"), partner: "p1", chat: "c1")])
    }

    @Test func theBusBackAfterAnOutageCatchesUpAndSyncsThePartner() {
        var machine = opened()
        inChat(&machine)
        _ = machine.handle(.client(.message(text: "a", clientID: nil), nowMicros: 1))
        let actions = Array(machine.handle(.busRestored))
        #expect(actions == [.fetch(after: 0, later: false), .tell(.sync(upTo: 1), partner: "p1", chat: "c1")])
    }

    @Test func aPartnerWhoVanishesIsWatchedOnceAndLeavesAfterTheWindow() {
        var machine = opened()
        inChat(&machine)
        #expect(Array(machine.handle(.partnerUnreachable("p1"))) == [.send(.partnerReconnecting), .watchPartner("p1")])
        #expect(Array(machine.handle(.peer(.partnerReconnecting))).isEmpty)
        #expect(Array(machine.handle(.partnerExpiryDue("p1"))) == [.checkPartnerGone("p1")])
        #expect(Array(machine.handle(.peer(.partnerLeft))) == [.partnerChanged(nil), .send(.partnerLeft)])
        #expect(machine.chat == nil)
    }

    @Test func tooManyWaitingControlMessagesAreRefused() {
        var machine = opened()
        _ = machine.handle(.client(.find(interests: []), nowMicros: 0))
        for _ in 0..<SessionMachine.maxWaitingControl { _ = machine.handle(.client(.leave, nowMicros: 0)) }
        let refused = Array(machine.handle(.client(.leave, nowMicros: 0)))
        #expect(refused == [.send(.error(code: "rate_limited", message: "too many find, leave or report requests in flight"))])
    }
}

@Suite struct InboxResendTests {
    @Test func aResentMessageIsRecognisedByItsClientIDAndNotWrittenTwice() {
        var inbox = Inbox()
        let original = StoredMessage(seq: 1, text: "hi", sentAtMicros: 1, clientID: "c-1")
        let resent = StoredMessage(seq: 2, text: "hi", sentAtMicros: 2, clientID: "c-1")
        #expect(inbox.receive(original).deliver.map(\.seq) == [1])
        #expect(inbox.receive(resent).deliver.isEmpty)
        #expect(inbox.delivered == 2)
        #expect(inbox.receive(StoredMessage(seq: 3, text: "next", sentAtMicros: 3, clientID: "c-2")).deliver.map(\.seq) == [3])
        // Both copies in one fetch (a resume): written once.
        var fresh = Inbox()
        _ = fresh.catchUp()
        #expect(fresh.fetched([original, resent]).deliver.map(\.seq) == [1])
    }
}

@Suite struct SessionMachinePropertyTests {
    /// Random event sequences: messages always written in order and once, own messages numbered
    /// without gaps (the checks trap inside `exercise`).
    /// Seconds of CPU: run off the cooperative threads so the timing of the tests beside it holds.
    @Test func randomEventSequencesKeepTheInvariants() async throws {
        try await Offload.run {
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<3000 {
                let bytes = (0..<Int.random(in: 0...400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes.withUnsafeBytes { SessionMachine.exercise($0) }
            }
        }
    }
}
