import NIOCore
import OpsKit
@testable import WhisperServerCore
import TestSupport
import Testing

/// Session resume on one instance (the embedded state); across instances in ClusterTests.
@Suite struct ResumeTests {
    /// Two users chatting, with the first one's resume token.
    func chatting(_ server: WhisperServerProcess) async throws -> (a: ChatClient, b: ChatClient, token: String) {
        let (a, b, welcome) = try await matchedPair(server, interests: #"["resume"]"#)
        return (a, b, welcome["resume_token"]?.stringValue ?? "")
    }

    @Test func aDroppedUserResumesAndGetsWhatWasSentMeanwhileExactlyOnce() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["LOG_LEVEL": "debug"]) }) { server in
            let (a, b, token) = try await chatting(server)
            try await b.send(#"{"type":"message","text":"before"}"#)
            let before = try await a.expect("message")
            let lastID = before["id"]?.intValue ?? 0
            await a.socket.abort()
            try await b.expect("ack")
            do {
                try await b.expect("partner_reconnecting", timeout: .seconds(10))
            } catch {
                Issue.record("server log:\n\(server.process.logTail)")
                throw error
            }
            for index in 1...3 {
                try await b.send(#"{"type":"message","text":"while away \#(index)"}"#)
                try await b.expect("ack")
            }
            let back = try await ChatClient.resuming(server, token: token, lastID: lastID)
            let welcome = try await back.expect("welcome")
            #expect(welcome["resumed"] == .bool(true))
            #expect(welcome["chat"]?.stringValue?.isEmpty == false)
            for index in 1...3 {
                #expect(try await back.expect("message")["text"]?.stringValue == "while away \(index)")
            }
            try await b.expect("partner_back")
            try await back.send(#"{"type":"message","text":"I am back"}"#)
            #expect(try await b.expect("message")["text"]?.stringValue == "I am back")
            try await back.expect("ack")
            #expect(try await server.metric("whisper_sessions_resumed_total") == 1)
            // Nothing more: "before" was not replayed.
            try await back.send(#"{"type":"ping"}"#)
            try await back.expect("pong")
        }
    }

    @Test func reconnectingDoesNotResetTheRateLimit() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["MAX_MSGS_PER_10S": "6"]) }) { server in
            let (a, b, token) = try await chatting(server)
            for index in 1...5 {
                try await a.send(#"{"type":"message","text":"m\#(index)"}"#)
                try await a.expect("ack")
                try await b.expect("message")
            }
            await a.socket.abort()
            let back = try await ChatClient.resuming(server, token: token)
            #expect(try await back.expect("welcome")["resumed"] == .bool(true))
            // find + 5 messages used the 6 of this window.
            try await back.send(#"{"type":"message","text":"one more"}"#)
            #expect(try await back.expect("error")["code"] == "rate_limited")
        }
    }

    @Test func anUnknownTokenStartsAFreshSession() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let client = try await ChatClient.resuming(server, token: "no-such-token")
            let welcome = try await client.expect("welcome")
            #expect(welcome["resumed"] == .bool(false))
            #expect(welcome["chat"] == .null)
        }
    }

    @Test func aGoodbyeEndsTheChatAtOnceAndCannotBeResumed() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let (a, b, token) = try await chatting(server)
            await a.socket.close(code: 1000)
            try await b.expect("partner_left")
            let again = try await ChatClient.resuming(server, token: token)
            #expect(try await again.expect("welcome")["resumed"] == .bool(false))
        }
    }
}

@Suite struct MessageRingTests {
    @Test func keepsTheLastMessagesInOrder() {
        var ring = MessageRing(capacity: 3)
        for id in 1...5 { ring.append(StoredMessage(seq: id, text: "m\(id)", sentAtMicros: 0)) }
        #expect(ring.messages(after: 0).map(\.seq) == [3, 4, 5])
        #expect(ring.messages(after: 3).map(\.seq) == [4, 5])
        ring.append(StoredMessage(seq: 6, text: "m6", sentAtMicros: 0))
        #expect(ring.messages(after: 0).map(\.seq) == [4, 5, 6])
    }
}

@Suite struct BufferUpkeepScheduleTests {
    @Test func trimsEveryThirtyTwoWritesAndRenewsTheExpiryOncePerMinute() {
        var schedule = BufferUpkeepSchedule()
        let start = NIODeadline.now()
        let first = (0..<BufferUpkeepSchedule.trimEvery * 2).map { schedule.next(for: "p", now: start + .milliseconds(Int64($0))) }
        #expect(first[0] == .all)
        #expect(first.indices.filter { first[$0].trim } == [0, BufferUpkeepSchedule.trimEvery])
        #expect(first.dropFirst().allSatisfy { !$0.renewExpiry })
        #expect(schedule.next(for: "p", now: start + .seconds(61)) == .init(trim: true, renewExpiry: true))
        #expect(schedule.next(for: "p", now: start + .seconds(62)) == .none)
        // A new partner starts over: its buffer is trimmed and given an expiry at once.
        #expect(schedule.next(for: "q", now: start + .seconds(62)) == .all)
        #expect(schedule.next(for: "q", now: start + .seconds(62)) == .none)
    }
}

@Suite struct PartnerLocationsTests {
    @Test func looksUpNewPartnersEachRoundAndEveryoneEveryRefresh() {
        var locations = PartnerLocations()
        #expect(locations.begin(["a", "b"]) == ["a", "b"])
        locations.record(["a": "ws-1", "b": "ws-2"])
        #expect(locations.begin(["a", "b", "c"]) == ["c"])
        locations.record(["c": "ws-1"])
        // Someone no longer watched is forgotten; someone gone is looked up again next round.
        #expect(locations.begin(["a", "c"]).isEmpty)
        #expect(locations.servers == ["a": "ws-1", "c": "ws-1"])
        locations.forget(["c"])
        #expect(locations.begin(["a", "c"]) == ["c"])
        var rounds = 4
        while locations.begin(["a"]).isEmpty { rounds += 1 }
        #expect(rounds == PartnerLocations.refreshEvery)
    }
}
