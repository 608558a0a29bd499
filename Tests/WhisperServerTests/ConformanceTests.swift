import Foundation
import OpsKit
import TestSupport
import Testing

/// RFC 6455 conformance of the real binary, in raw bytes, grouped as Autobahn|Testsuite's cases
/// 1-7 are. The server's deliberate deviations: binary messages close 1003 (the protocol is
/// text), and a message over 4,096 bytes closes 1009 (docs/protocol.md).
@Suite struct ConformanceTests {
    /// Runs each case on a fresh connection (past its welcome) to one server.
    func eachCase(_ cases: [(String, @Sendable (RawWebSocket) async throws -> Void)]) async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            for (name, body) in cases {
                let socket = try await RawWebSocket.connect(port: server.port)
                #expect(try await socket.nextType() == "welcome", "\(name)")
                do {
                    try await body(socket)
                } catch {
                    Issue.record("\(name): \(error)")
                }
            }
        }
    }

    static let ping = #"{"type":"ping"}"#

    /// A valid message of `size` bytes: a JSON ping padded with a field the server ignores.
    static func paddedPing(size: Int) -> String {
        let shell = #"{"type":"ping","pad":""}"#
        return #"{"type":"ping","pad":"\#(String(repeating: "x", count: max(0, size - shell.utf8.count)))"}"#
    }

    @Test func group1Framing() async throws {
        try await eachCase([
            ("1.1.1 text of 125 bytes", { ws in
                try await ws.send(RawWebSocket.text(Self.paddedPing(size: 125)))
                #expect(try await ws.nextType() == "pong")
            }),
            ("1.1.2 text of 126 bytes (16-bit length)", { ws in
                try await ws.send(RawWebSocket.text(Self.paddedPing(size: 126)))
                #expect(try await ws.nextType() == "pong")
            }),
            ("1.1.3 text of 4,096 bytes, the limit", { ws in
                try await ws.send(RawWebSocket.text(Self.paddedPing(size: 4096)))
                #expect(try await ws.nextType() == "pong")
            }),
            ("1.1.4 text of 4,097 bytes: 1009", { ws in
                try await ws.send(RawWebSocket.text(Self.paddedPing(size: 4097)))
                try await ws.expectClose(1009)
            }),
            ("1.1.5 a 64-bit length announcing 1 MiB fails at the header, before any payload", { ws in
                try await ws.send(Array(RawWebSocket.frame(0x1, [], declaredLength: 1 << 20).prefix(14)))
                try await ws.expectClose(1009)
            }),
            ("1.1.6 an empty text message is not JSON: error, connection open", { ws in
                try await ws.send(RawWebSocket.text(""))
                #expect(try await ws.nextType() == "error")
                try await ws.send(RawWebSocket.text(Self.ping))
                #expect(try await ws.nextType() == "pong")
            }),
            ("1.2.1 binary message: 1003 (deviation: the protocol is text)", { ws in
                try await ws.send(RawWebSocket.frame(0x2, [1, 2, 3]))
                try await ws.expectClose(1003)
            }),
            ("1.3.1 unmasked client frame: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x1, Array(Self.ping.utf8), masked: false))
                try await ws.expectClose(1002)
            }),
            ("1.3.2 64-bit length with the top bit set: 1002", { ws in
                try await ws.send(Array(RawWebSocket.frame(0x1, [], declaredLength: 1 << 63).prefix(14)))
                try await ws.expectClose(1002)
            }),
        ])
    }

    @Test func group2PingsAndPongs() async throws {
        try await eachCase([
            ("2.1 ping without payload: pong without payload", { ws in
                try await ws.send(RawWebSocket.frame(0x9))
                #expect(try await ws.next() == .init(fin: true, opcode: 0xA, payload: []))
            }),
            ("2.2 ping with 125 bytes of text: the same in the pong", { ws in
                let payload = Array(String(repeating: "*", count: 125).utf8)
                try await ws.send(RawWebSocket.frame(0x9, payload))
                #expect(try await ws.next() == .init(fin: true, opcode: 0xA, payload: payload))
            }),
            ("2.3 ping with binary payload: echoed", { ws in
                let payload: [UInt8] = [0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF]
                try await ws.send(RawWebSocket.frame(0x9, payload))
                #expect(try await ws.next() == .init(fin: true, opcode: 0xA, payload: payload))
            }),
            ("2.4 ping with 126 bytes: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x9, [UInt8](repeating: 0x2A, count: 126)))
                try await ws.expectClose(1002)
            }),
            ("2.5 unsolicited pong is ignored", { ws in
                try await ws.send(RawWebSocket.frame(0xA, Array("unsolicited".utf8)))
                try await ws.send(RawWebSocket.text(Self.ping))
                #expect(try await ws.nextType() == "pong")
            }),
            ("2.6 ten pings: ten pongs, in order", { ws in
                for index in 0..<10 { try await ws.send(RawWebSocket.frame(0x9, [UInt8(index)])) }
                for index in 0..<10 { #expect(try await ws.next()?.payload == [UInt8(index)]) }
            }),
        ])
    }

    @Test func group3ReservedBits() async throws {
        var cases: [(String, @Sendable (RawWebSocket) async throws -> Void)] = []
        for rsv: UInt8 in 1...7 {
            cases.append(("3.\(rsv) text with RSV=\(rsv): 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x1, Array(Self.ping.utf8), rsv: rsv))
                try await ws.expectClose(1002)
            }))
        }
        cases.append(("3.8 a valid message, then a ping with RSV set: answered, then 1002", { ws in
            try await ws.send(RawWebSocket.text(Self.ping) + RawWebSocket.frame(0x9, [], rsv: 4))
            try await ws.expectClose(1002)
        }))
        try await eachCase(cases)
    }

    @Test func group4ReservedOpcodes() async throws {
        let opcodes: [UInt8] = [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]
        try await eachCase(opcodes.map { opcode in
            ("4.\(opcode) reserved opcode \(opcode): 1002", { ws in
                try await ws.send(RawWebSocket.frame(opcode, Array("reserved".utf8)))
                try await ws.expectClose(1002)
            })
        })
    }

    @Test func group5Fragmentation() async throws {
        try await eachCase([
            ("5.1 fragmented ping: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x9, [1], fin: false) + RawWebSocket.frame(0x0, [2]))
                try await ws.expectClose(1002)
            }),
            ("5.2 fragmented pong: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0xA, [1], fin: false) + RawWebSocket.frame(0x0, [2]))
                try await ws.expectClose(1002)
            }),
            ("5.3 text in two fragments", { ws in
                try await ws.send(RawWebSocket.text(#"{"type":"#, fin: false) + RawWebSocket.frame(0x0, Array(#""ping"}"#.utf8)))
                #expect(try await ws.nextType() == "pong")
            }),
            ("5.4 text in one-byte fragments, sent one write each", { ws in
                let bytes = Array(Self.ping.utf8)
                for (index, byte) in bytes.enumerated() {
                    try await ws.send(RawWebSocket.frame(index == 0 ? 0x1 : 0x0, [byte], fin: index == bytes.count - 1))
                }
                #expect(try await ws.nextType() == "pong")
            }),
            ("5.5 a ping between fragments is answered at once, the message after it", { ws in
                try await ws.send(
                    RawWebSocket.text(#"{"type":"#, fin: false) + RawWebSocket.frame(0x9, [7]) + RawWebSocket.frame(0x0, [], fin: false)
                        + RawWebSocket.frame(0x0, Array(#""ping"}"#.utf8)))
                #expect(try await ws.next() == .init(fin: true, opcode: 0xA, payload: [7]))
                #expect(try await ws.nextType() == "pong")
            }),
            ("5.6 continuation with no message to continue: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x0, Array(Self.ping.utf8)))
                try await ws.expectClose(1002)
            }),
            ("5.7 unfinished continuation with no message to continue: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x0, Array(Self.ping.utf8), fin: false))
                try await ws.expectClose(1002)
            }),
            ("5.8 a new text message before the fragmented one finished: 1002", { ws in
                try await ws.send(RawWebSocket.text(#"{"type":"#, fin: false) + RawWebSocket.text(Self.ping))
                try await ws.expectClose(1002)
            }),
            ("5.9 fragments adding up past 4,096 bytes: 1009", { ws in
                let piece = [UInt8](repeating: 0x20, count: 2000)
                try await ws.send(
                    RawWebSocket.frame(0x1, piece, fin: false) + RawWebSocket.frame(0x0, piece, fin: false) + RawWebSocket.frame(0x0, piece))
                try await ws.expectClose(1009)
            }),
            ("5.10 a message in more than 64 fragments: 1009", { ws in
                var bytes = RawWebSocket.frame(0x1, [0x20], fin: false)
                for _ in 0..<70 { bytes += RawWebSocket.frame(0x0, [], fin: false) }
                try await ws.send(bytes)
                try await ws.expectClose(1009)
            }),
        ])
    }

    @Test func group6UTF8() async throws {
        let valid = ["κόσμε", "\u{10FFFF}\u{1F600}", "ascii only", "\u{0080}\u{07FF}\u{0800}\u{FFFF}"]
        let invalid: [(String, [UInt8])] = [
            ("a lone continuation byte", [0x80]),
            ("an overlong slash", [0xC0, 0xAF]),
            ("an overlong NUL in three bytes", [0xE0, 0x80, 0x80]),
            ("a UTF-16 surrogate", [0xED, 0xA0, 0x80]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("0xFE", [0xFE]),
            ("0xFF", [0xFF]),
        ]
        var cases: [(String, @Sendable (RawWebSocket) async throws -> Void)] = valid.map { text in
            ("6.1 valid UTF-8 \(text.unicodeScalars.map { String($0.value, radix: 16) })", { ws in
                try await ws.send(RawWebSocket.text(#"{"type":"ping","pad":"\#(text)"}"#))
                #expect(try await ws.nextType() == "pong")
            })
        }
        for (name, bytes) in invalid {
            cases.append(("6.2 invalid UTF-8, \(name): 1007", { ws in
                try await ws.send(RawWebSocket.frame(0x1, Array(#"{"type":"ping","pad":""#.utf8) + bytes + Array(#""}"#.utf8)))
                try await ws.expectClose(1007)
            }))
            cases.append(("6.3 invalid UTF-8 in the first fragment, \(name): 1007 before the message ends", { ws in
                try await ws.send(RawWebSocket.frame(0x1, Array(#"{"type":"ping","pad":""#.utf8) + bytes, fin: false))
                try await ws.expectClose(1007)
            }))
        }
        let more: [(String, @Sendable (RawWebSocket) async throws -> Void)] = [
            ("6.4 a valid scalar cut between fragments", { ws in
                let euro: [UInt8] = [0xE2, 0x82, 0xAC]
                try await ws.send(
                    RawWebSocket.frame(0x1, Array(#"{"type":"ping","pad":""#.utf8) + euro.prefix(1), fin: false)
                        + RawWebSocket.frame(0x0, Array(euro.suffix(2)) + Array(#""}"#.utf8)))
                #expect(try await ws.nextType() == "pong")
            }),
            ("6.5 a scalar cut between fragments that turns out invalid: 1007", { ws in
                try await ws.send(
                    RawWebSocket.frame(0x1, Array(#"{"type":"ping","pad":""#.utf8) + [0xE2], fin: false)
                        + RawWebSocket.frame(0x0, [0x28, 0xA1] + Array(#""}"#.utf8)))
                try await ws.expectClose(1007)
            }),
            ("6.6 a message that ends inside a scalar: 1007", { ws in
                try await ws.send(RawWebSocket.frame(0x1, Array(#"{"type":"ping"}"#.utf8) + [0xF0, 0x9F]))
                try await ws.expectClose(1007)
            }),
        ]
        try await eachCase(cases + more)
    }

    @Test func group7Close() async throws {
        var cases: [(String, @Sendable (RawWebSocket) async throws -> Void)] = [
            ("7.1.1 close without payload: echoed, then the connection ends", { ws in
                try await ws.send(RawWebSocket.close(nil))
                try await ws.expectClose(1000)
            }),
            ("7.1.2 close 1000 with a reason: 1000", { ws in
                try await ws.send(RawWebSocket.close(1000, reason: Array("bye".utf8)))
                try await ws.expectClose(1000)
            }),
            ("7.1.3 frames after the close are ignored", { ws in
                try await ws.send(RawWebSocket.close(1000) + RawWebSocket.text(Self.ping) + RawWebSocket.frame(0x9, [1]))
                try await ws.expectClose(1000)
            }),
            ("7.1.4 a 123-byte reason, the most that fits", { ws in
                try await ws.send(RawWebSocket.close(1000, reason: [UInt8](repeating: 0x2A, count: 123)))
                try await ws.expectClose(1000)
            }),
            ("7.3.1 close with a 1-byte payload: 1002", { ws in
                try await ws.send(RawWebSocket.frame(0x8, [0x03]))
                try await ws.expectClose(1002)
            }),
            ("7.5.1 close reason that is not UTF-8: 1007", { ws in
                try await ws.send(RawWebSocket.close(1000, reason: [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80]))
                try await ws.expectClose(1007)
            }),
        ]
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
            cases.append(("7.7 valid close code \(code): echoed", { ws in
                try await ws.send(RawWebSocket.close(code))
                try await ws.expectClose(code)
            }))
        }
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            cases.append(("7.9 invalid close code \(code): 1002", { ws in
                try await ws.send(RawWebSocket.close(code))
                try await ws.expectClose(1002)
            }))
        }
        try await eachCase(cases)
    }

    @Test func violationsAreCountedByReason() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            for (frame, code) in [(RawWebSocket.frame(0x1, [0x20], masked: false), UInt16(1002)), (RawWebSocket.frame(0x1, [0xFF]), 1007)] {
                let ws = try await RawWebSocket.connect(port: server.port)
                #expect(try await ws.nextType() == "welcome")
                try await ws.send(frame)
                try await ws.expectClose(code)
            }
            try await eventually(timeout: .seconds(3), "violations counted") {
                let protocolErrors = try? await server.metric(#"whisper_disconnections_total{reason="protocol_error"}"#)
                let invalidUTF8 = try? await server.metric(#"whisper_disconnections_total{reason="invalid_utf8"}"#)
                return protocolErrors == 1 && invalidUTF8 == 1
            }
        }
    }

    @Test func badHandshakesAreRefusedWithTheRFCsStatus() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            func status(_ headers: [(String, String)]) async throws -> (Int, [String: String]) {
                let response = try await HTTPClient().execute(HTTPRequest(url: server.baseURL + "/ws", headers: headers, timeout: .seconds(2)))
                return (response.status, response.headers)
            }
            let upgrade = [("Connection", "Upgrade"), ("Upgrade", "websocket")]
            #expect(try await status(upgrade + [("Sec-WebSocket-Version", "13")]).0 == 400)
            #expect(try await status(upgrade + [("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "short")]).0 == 400)
            let (code, headers) = try await status(upgrade + [("Sec-WebSocket-Version", "8"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
            #expect(code == 426)
            #expect(headers["sec-websocket-version"] == "13")
            #expect(try await server.metric(#"whisper_connections_rejected_total{reason="bad_handshake"}"#) == 3)
        }
    }
}

/// What a hostile client sends inside valid frames: JSON and query strings built to trap a
/// parser. Each gets an answer, and the server and the connection live on.
@Suite struct HostileClientTests {
    @Test func theFrameThatKilledTheServerAndItsSiblingsGetAnswers() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let ws = try await RawWebSocket.connect(port: server.port)
            #expect(try await ws.nextType() == "welcome")
            let frames: [(String, String)] = [
                (#"{"type":"message","text":"\ud800\u0041"}"#, "error"),  // the 40-byte crash
                (#"{"type":"message","text":"\udc00\ud800"}"#, "error"),
                (#"{"type":"\ud800"}"#, "error"),
                (#"{"type":"ping","n":1e999}"#, "error"),
                (#"{"type":"ping","n":-9223372036854775809}"#, "pong"),
                (#"{"type":"ping","n":1e308}"#, "pong"),
                (String(repeating: "[", count: 2000), "error"),
                (#"{"type":"find","interests":["\u0000"]}"#, "queued"),
                (#"{"type":"report","reason":"\ud83d"}"#, "error"),
                (#"{"type":"ping"}"#, "pong"),
            ]
            for (frame, type) in frames {
                try await ws.send(RawWebSocket.text(frame))
                #expect(try await ws.nextType() == type, "\(frame.prefix(60))")
            }
            #expect(try await HTTPClient().get(server.baseURL + "/live").status == 200)
        }
    }

    @Test func hostileResumeQueriesStartAFreshSession() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            for query in ["resume=%ZZ&last_id=99999999999999999999", "resume=&last_id=-1", "resume=a%00b", "last_id=1&resume=" + String(repeating: "x", count: 2000)] {
                let ws = try await RawWebSocket.connect(port: server.port, path: "/ws?" + query)
                guard let frame = try await ws.nextIgnoringPings() else { throw SupportError("no welcome for \(query)") }
                let welcome = try JSONValue.parse(frame.payload)
                #expect(welcome["type"] == .string("welcome"))
                #expect(welcome["resumed"] == .bool(false))
            }
        }
    }
}
