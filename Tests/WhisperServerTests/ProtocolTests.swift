import Foundation
import OpsKit
import TestSupport
import Testing

/// The chat protocol end to end: the real whisper-server binary and real WebSocket connections.
@Suite struct ProtocolTests {
    /// Two users matched on a shared interest.
    @Test func welcomeMatchChatTypingAndLeave() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let a = try await ChatClient(server)
            let welcome = try await a.expect("welcome")
            #expect(welcome["session"]?.stringValue?.count == 15)
            #expect(welcome["resume_token"]?.stringValue?.isEmpty == false)
            #expect(welcome["server"] == .string("test-\(server.port)"))
            let b = try await ChatClient(server)
            try await b.expect("welcome")
            try await a.send(#"{"type":"find","interests":["Music","chess"]}"#)
            try await a.expect("queued")
            try await b.send(#"{"type":"find","interests":["music"]}"#)
            try await b.expect("queued")
            let matchedA = try await a.expect("matched")
            let matchedB = try await b.expect("matched")
            #expect(matchedA["chat"] == matchedB["chat"])
            #expect(matchedA["common_interests"] == .array([.string("music")]))

            try await a.send(#"{"type":"message","text":"hello there","client_id":"c-1"}"#)
            let ack = try await a.expect("ack")
            #expect(ack["client_id"] == .string("c-1"))
            let delivered = try await b.expect("message")
            #expect(delivered["text"] == .string("hello there"))
            #expect(delivered["id"] == ack["id"])
            #expect(abs(Double(delivered["sent_at"]?.intValue ?? 0) / 1000 - Date().timeIntervalSince1970) < 60)

            try await b.send(#"{"type":"typing"}"#)
            try await a.expect("typing")
            try await a.send(#"{"type":"ping"}"#)
            try await a.expect("pong")
            try await a.send(#"{"type":"leave"}"#)
            try await b.expect("partner_left")
            try await a.send(#"{"type":"message","text":"anyone?"}"#)
            #expect(try await a.expect("error")["code"] == .string("not_in_chat"))

            // Both may find again.
            try await a.send(#"{"type":"find"}"#)
            try await a.expect("queued")
            try await b.send(#"{"type":"find"}"#)
            try await b.expect("queued")
            try await a.expect("matched")

            #expect(try await server.metric(#"whisper_messages_total{type="sent"}"#) == 1)
            #expect(try await server.metric(#"whisper_messages_total{type="received"}"#) == 2)
            #expect(try await server.metric("whisper_connections_total") == 2)
            #expect(try await server.metric("whisper_active_chats") == 1)
            #expect(try await server.metric("whisper_match_duration_seconds_count") == 4)
            #expect(try await server.metric("whisper_message_latency_seconds_count") == 1)
        }
    }

    @Test func matchingPrefersTheSameSetThenASharedInterest() async throws {
        // No fallback within the test, however loaded the machine: only interests decide.
        try await withService({ try await WhisperServerProcess.start(environment: ["MATCH_FALLBACK": "60s", "MATCH_TIMEOUT": "90s"]) }) { server in
            var clients: [ChatClient] = []
            for interests in [#"["a","b"]"#, #"["c"]"#, #"["b","a"]"#, #"["c","x"]"#] {
                let client = try await ChatClient(server)
                try await client.expect("welcome")
                try await client.send(#"{"type":"find","interests":\#(interests)}"#)
                try await client.expect("queued")
                clients.append(client)
            }
            let first = try await clients[0].expect("matched")
            #expect(try await clients[2].expect("matched")["chat"] == first["chat"])
            #expect(first["common_interests"] == .array([.string("a"), .string("b")]))
            let second = try await clients[1].expect("matched")
            #expect(try await clients[3].expect("matched")["chat"] == second["chat"])
            #expect(second["common_interests"] == .array([.string("c")]))
        }
    }

    @Test func fallbackMatchesAnyoneAndTheTimeoutSaysNoMatch() async throws {
        // A timeout well past the fallback, so a loaded machine cannot reach it before b arrives.
        let environment = ["MATCH_FALLBACK": "300ms", "MATCH_TIMEOUT": "3s"]
        try await withService({ try await WhisperServerProcess.start(environment: environment) }) { server in
            let a = try await ChatClient(server)
            let b = try await ChatClient(server)
            try await a.expect("welcome")
            try await b.expect("welcome")
            try await a.send(#"{"type":"find","interests":["x"]}"#)
            try await a.expect("queued")
            try await b.send(#"{"type":"find","interests":["y"]}"#)
            try await b.expect("queued")
            #expect(try await a.expect("matched")["common_interests"] == .array([]))
            try await b.expect("matched")

            let lonely = try await ChatClient(server)
            try await lonely.expect("welcome")
            try await lonely.send(#"{"type":"find","interests":["z"]}"#)
            try await lonely.expect("queued")
            try await lonely.expect("no_match", timeout: .seconds(8))
            #expect(try await server.metric("whisper_match_queue_size") == 0)
        }
    }

    @Test func badInputGetsAnErrorAndTheConnectionStaysOpen() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let client = try await ChatClient(server)
            try await client.expect("welcome")
            let cases: [(String, String)] = [
                ("{not json", "bad_request"),
                (#"{"type":"dance"}"#, "bad_request"),
                (#"{"text":"no type"}"#, "bad_request"),
                (#"{"type":"find","interests":"music"}"#, "bad_request"),
                (#"{"type":"find","interests":[1,2]}"#, "bad_request"),
                (#"{"type":"find","interests":["1","2","3","4","5","6","7","8","9","10","11"]}"#, "bad_request"),
                (#"{"type":"message","text":42}"#, "bad_request"),
                (#"{"type":"message","text":"\#(String(repeating: "x", count: 2001))"}"#, "too_long"),
                (#"{"type":"message","text":"hi"}"#, "not_in_chat"),
                ("[1,2,3]", "bad_request"),
            ]
            for (frame, code) in cases {
                try await client.send(frame)
                let error = try await client.expect("error")
                #expect(error["code"] == .string(code), "\(frame)")
                #expect(error["message"]?.stringValue?.isEmpty == false)
            }
            try await client.send(#"{"type":"ping"}"#)
            try await client.expect("pong")
        }
    }

    @Test(arguments: [
        ("binary frame", 1003), ("invalid UTF-8", 1007), ("frame over 4096 bytes", 1009),
    ])
    func protocolViolationsCloseWithTheRightCode(violation: String, code: Int) async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let client = try await ChatClient(server)
            try await client.expect("welcome")
            switch violation {
            case "binary frame": try await client.socket.send(opcode: .binary, bytes: [1, 2, 3])
            case "invalid UTF-8": try await client.socket.send(opcode: .text, bytes: [0x7B, 0xFF, 0xFE, 0x7D])
            default: try await client.socket.send(opcode: .text, bytes: Array(repeating: 0x61, count: 5000))
            }
            #expect(try await client.closeCode() == UInt16(code))
        }
    }

    @Test func blockedWordsAreNotDelivered() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let words = try directory.write("blocked.txt", "# moderation list\nbadword\nvery bad phrase\n")
        try await withService({ try await WhisperServerProcess.start(environment: ["BLOCKED_WORDS_FILE": words]) }) { server in
            let (a, b, _) = try await matchedPair(server)
            try await a.send(#"{"type":"message","text":"this has a BadWord in it"}"#)
            try await a.expect("blocked")
            try await a.send(#"{"type":"message","text":"a very bad phrase here"}"#)
            try await a.expect("blocked")
            try await a.send(#"{"type":"message","text":"clean text"}"#)
            try await a.expect("ack")
            #expect(try await b.expect("message")["text"] == .string("clean text"))
            #expect(try await server.metric(#"whisper_messages_total{type="blocked"}"#) == 2)
        }
    }

    @Test func rateLimitWarnsThenCloses() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["MAX_MSGS_PER_10S": "5"]) }) { server in
            let client = try await ChatClient(server)
            try await client.expect("welcome")
            for _ in 0..<5 {
                try await client.send(#"{"type":"ping"}"#)
                try await client.expect("pong")
            }
            try await client.send(#"{"type":"ping"}"#)
            #expect(try await client.expect("error")["code"] == .string("rate_limited"))
            for _ in 0..<15 { try? await client.send(#"{"type":"ping"}"#) }
            #expect(try await closeCodeSkippingErrors(client) == 1008)
            // The client may read the close before the server has counted it.
            try await eventually("the close counted") {
                (try? await server.metric(#"whisper_disconnections_total{reason="rate_limited"}"#)) == 1
            }
        }
    }

    func closeCodeSkippingErrors(_ client: ChatClient) async throws -> UInt16? {
        try await client.closeCode()
    }

    @Test func aVanishedPartnerIsReconnectingAtOnceAndGoneAfterTheResumeWindow() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["LOG_LEVEL": "debug", "RESUME_WINDOW": "1s"]) }) { server in
            let (a, b, _) = try await matchedPair(server)
            await a.socket.abort()
            do {
                try await b.expect("partner_reconnecting", timeout: .seconds(5))
                try await b.expect("partner_left", timeout: .seconds(5))
            } catch {
                Issue.record("server log:\n\(server.process.logTail)")
                throw error
            }
        }
    }

    @Test func aSilentPeerIsClosedByTheHeartbeat() async throws {
        // A window wide enough that a loaded test machine does not close the silent peer before
        // it has even queued.
        let environment = ["HEARTBEAT_INTERVAL": "2s", "HEARTBEAT_GRACE": "2s", "RESUME_WINDOW": "0s"]
        try await withService({ try await WhisperServerProcess.start(environment: environment) }) { server in
            let silent = try await ChatClient(server, answerPings: false)
            let alive = try await ChatClient(server)
            try await silent.expect("welcome")
            try await alive.expect("welcome")
            try await silent.send(#"{"type":"find"}"#)
            try await silent.expect("queued")
            try await alive.send(#"{"type":"find"}"#)
            try await alive.expect("queued")
            try await alive.expect("matched")
            try await alive.expect("partner_left", timeout: .seconds(15))
            try await eventually("the close counted") {
                (try? await server.metric(#"whisper_disconnections_total{reason="heartbeat_timeout"}"#)) == 1
            }
            // The peer that answers pings is still there.
            try await alive.send(#"{"type":"ping"}"#)
            try await alive.expect("pong")
        }
    }
}
