import Foundation
import NIOCore
@testable import OpsKit
import Testing

/// Input a hostile peer controls: each parser refuses it with an error, never a trap.
@Suite struct HostileJSONTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func loneAndMismatchedSurrogatesBecomeReplacementCharacters() throws {
        // The 40-byte frame that used to kill the server: a high surrogate followed by a non-surrogate.
        #expect(try parse(#"{"type":"message","text":"\ud800\u0041"}"#)["text"] == .string("\u{FFFD}A"))
        #expect(try parse(#""\udc00""#) == .string("\u{FFFD}"))
        #expect(try parse(#""\ud800""#) == .string("\u{FFFD}"))
        #expect(try parse(#""\ud800\ud800""#) == .string("\u{FFFD}\u{FFFD}"))
        #expect(try parse(#""\ud800\n""#) == .string("\u{FFFD}\n"))
        #expect(try parse(#""\ud83d\ude00 ok""#) == .string("😀 ok"))
        #expect(try parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
    }

    @Test func malformedDocumentsThrow() {
        let refused = [
            #""\u12"#, #""\u12G4""#, #""\"#, #""abc"#, #"{"a""#, #"{"a":}"#, "[1,", "[1 2]", "{", "}", "", " ",
            "01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "1e400", "-1e400", "tru", "nul", "nulll",
            "\"a\u{01}b\"", "[1]x", "{\"a\":1,}", "[,]",
        ]
        for text in refused {
            #expect(throws: (any Error).self, "\(text.debugDescription)") { try parse(text) }
        }
        #expect(throws: (any Error).self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: (any Error).self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func numbersStayInRange() throws {
        #expect(try parse("-0") == .int(0))
        #expect(try parse("9223372036854775807") == .int(Int.max))
        #expect(try parse("-9223372036854775808") == .double(-9.223372036854775808e18))
        #expect(try parse("9223372036854775808") == .double(9.223372036854775808e18))
        #expect(try parse("1e300").intValue == nil)
        #expect(try parse("-1e300").intValue == nil)
        #expect(try parse("2.9").intValue == 2)
    }

    @Test func nestingIsBounded() throws {
        let limit = JSONParser.maxDepth
        #expect(try parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) != .null)
        #expect(throws: (any Error).self) { try parse(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)) }
        #expect(throws: (any Error).self) { try parse(String(repeating: "[", count: 100_000)) }
    }

    @Test func agreesWithFoundationOnValidDocuments() throws {
        let documents = [
            #"{"type":"message","text":"hi \"there\"\t\u00e9","client_id":null}"#, #"[1,-2,3.5,1e3,true,false,null,{}]"#,
            #"{"nested":{"deep":[[[]]]},"e":"\/\b\f\n\r"}"#, #"  {"a" : [ 1 , 2 ] }  "#,
        ]
        for text in documents {
            let ours = try parse(text)
            let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
            let back = try JSONSerialization.jsonObject(with: Data(ours.serialized().utf8), options: .fragmentsAllowed)
            #expect(NSDictionary(dictionary: ["v": theirs]).isEqual(to: ["v": back]), "\(text)")
        }
    }
}

@Suite struct UTF8ValidatorTests {
    @Test func agreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...12, using: &generator)
            // Bias towards the interesting bytes: lead bytes, continuations and ASCII.
            let pool: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F]
            let bytes = (0..<count).map { _ in pool.randomElement(using: &generator) ?? 0 }
            var whole = UTF8Validator()
            let wholeValid = bytes.withUnsafeBytes { whole.validate($0) }
            let wholeOK = wholeValid && whole.isComplete
            #expect(wholeOK == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
            // Cut anywhere, the verdict is the same.
            let cut = Int.random(in: 0...count, using: &generator)
            var split = UTF8Validator()
            let firstPart = split.validate(bytes[..<cut])
            let secondPart = firstPart && split.validate(bytes[cut...])
            let splitOK = secondPart && split.isComplete
            #expect(splitOK == wholeOK, "\(bytes) cut at \(cut)")
        }
    }

    @Test func fastPathSkipsASCIIButNotWhatFollows() {
        var validator = UTF8Validator()
        let bytes = Array("0123456789abcdef".utf8) + [0xC3]
        let first = bytes.withUnsafeBytes { validator.validate($0) }
        #expect(first)
        #expect(!validator.isComplete)
        let second = validator.validate([0xA9])
        #expect(second)
        #expect(validator.isComplete)
        var bad = UTF8Validator()
        let third = (Array("01234567".utf8) + [0xFF] + Array("01234567".utf8)).withUnsafeBytes { bad.validate($0) }
        #expect(!third)
    }
}

@Suite struct WebSocketFrameParserTests {
    func masked(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, first: UInt8? = nil) -> ByteBuffer {
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var bytes: [UInt8] = [first ?? ((fin ? 0x80 : 0) | opcode)]
        if payload.count < 126 {
            bytes.append(0x80 | UInt8(payload.count))
        } else {
            bytes += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        bytes += key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        return ByteBuffer(bytes: bytes)
    }

    func messages(_ input: [ByteBuffer], max: Int = 4096) throws -> [WebSocketFrameParser.Message] {
        var parser = WebSocketFrameParser(role: .server, maxMessageSize: max)
        var out: [WebSocketFrameParser.Message] = []
        for buffer in input {
            parser.append(buffer)
            while let message = try parser.next() { out.append(message) }
        }
        return out
    }

    func violation(_ input: [ByteBuffer], max: Int = 4096) -> UInt16? {
        do {
            _ = try messages(input, max: max)
            return nil
        } catch {
            return (error as? WebSocketFrameParser.Violation)?.code
        }
    }

    @Test func assemblesFragmentsFedOneByteAtATime() throws {
        var all = masked(0x1, Array("hel".utf8), fin: false)
        var ping = masked(0x9, [1, 2])
        var rest = masked(0x0, Array("lo".utf8))
        all.writeBuffer(&ping)
        all.writeBuffer(&rest)
        let bytes = all.readableBytesView.map { ByteBuffer(bytes: [$0]) }
        #expect(try messages(bytes) == [.ping(ByteBuffer(bytes: [1, 2])), .text(ByteBuffer(string: "hello"))])
    }

    @Test func unmasksLongPayloadsWordWise() throws {
        let text = String(repeating: "abcdefghij", count: 40) + "xyz"
        #expect(try messages([masked(0x1, Array(text.utf8))]) == [.text(ByteBuffer(string: text))])
    }

    @Test func everyRuleBrokenHasItsCode() {
        #expect(violation([ByteBuffer(bytes: [0x81, 0x01, 0x41])]) == 1002)  // unmasked
        #expect(violation([masked(0x1, [0x41], first: 0xC1)]) == 1002)  // RSV1
        for opcode: UInt8 in [3, 7, 0xB, 0xF] { #expect(violation([masked(opcode, [])]) == 1002) }
        #expect(violation([masked(0x0, [0x41])]) == 1002)
        #expect(violation([masked(0x1, [0x41], fin: false), masked(0x1, [0x41])]) == 1002)
        #expect(violation([masked(0x9, [], fin: false)]) == 1002)
        #expect(violation([masked(0x9, [UInt8](repeating: 0, count: 126))]) == 1002)
        #expect(violation([masked(0x1, [UInt8](repeating: 0x41, count: 200))], max: 100) == 1009)
        #expect(violation([masked(0x1, [UInt8](repeating: 0x41, count: 60), fin: false), masked(0x0, [UInt8](repeating: 0x41, count: 60))], max: 100) == 1009)
        #expect(violation([masked(0x1, [0xC3, 0x28])]) == 1007)
        #expect(violation([masked(0x1, [0xC3], fin: false), masked(0x0, [0x28])]) == 1007)
        #expect(violation([masked(0x1, [0xE2, 0x82])]) == 1007)
        #expect(violation([masked(0x8, [0x03])]) == 1002)
        #expect(violation([masked(0x8, [0x03, 0xED])]) == 1002)  // 1005
        #expect(violation([masked(0x8, [0x03, 0xE8, 0xFF])]) == 1007)
        // A 64-bit length with the top bit set, and an oversized one, fail at the header.
        #expect(violation([ByteBuffer(bytes: [0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0])]) == 1002)
        #expect(violation([ByteBuffer(bytes: [0x81, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0])]) == 1009)
    }

    @Test func aViolationIsFinal() throws {
        var parser = WebSocketFrameParser(role: .server, maxMessageSize: 4096)
        parser.append(ByteBuffer(bytes: [0x81, 0x01, 0x41]))
        #expect(throws: WebSocketFrameParser.Violation.self) { try parser.next() }
        parser.append(masked(0x1, Array("ok".utf8)))
        #expect(throws: WebSocketFrameParser.Violation.self) { try parser.next() }
    }

    @Test func closeFramesCarryTheirCodeAndReason() throws {
        #expect(try messages([masked(0x8, [])]) == [.close(code: nil, reason: "")])
        #expect(try messages([masked(0x8, [0x0F, 0xA0] + Array("bye".utf8))]) == [.close(code: 4000, reason: "bye")])
    }

    @Test func serverFramesAreWrittenWithTheirHeaderInFront() {
        for size in [0, 125, 126, 65535, 65536] {
            var frame = ByteBuffer.webSocketFrame(allocator: ByteBufferAllocator(), payloadCapacity: size)
            frame.writeRepeatingByte(0x41, count: size)
            frame.prependWebSocketHeader(opcode: 0x1)
            var parser = WebSocketFrameParser(role: .client, maxMessageSize: 1 << 20)
            parser.append(frame)
            #expect((try? parser.next()) == .text(ByteBuffer(repeating: 0x41, count: size)), "\(size)")
        }
    }
}

@Suite struct WebSocketClientHandshakeTests {
    @Test func theServersAcceptValueMustMatchTheKey() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        #expect(WebSocketHandshakeHandler.problem(withResponse: good, key: key) == nil)
        let wrong = good.replacingOccurrences(of: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", with: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        #expect(WebSocketHandshakeHandler.problem(withResponse: wrong, key: key)?.contains("Sec-WebSocket-Accept") == true)
        let missing = good.replacingOccurrences(of: "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", with: "")
        #expect(WebSocketHandshakeHandler.problem(withResponse: missing, key: key) != nil)
        let noUpgrade = good.replacingOccurrences(of: "Upgrade: websocket\r\n", with: "")
        #expect(WebSocketHandshakeHandler.problem(withResponse: noUpgrade, key: key) != nil)
        #expect(WebSocketHandshakeHandler.problem(withResponse: "HTTP/1.1 429 Too Many Requests\r\n\r\n", key: key) == "HTTP 429")
        #expect(WebSocketHandshakeHandler.problem(withResponse: "garbage", key: key) != nil)
    }
}
