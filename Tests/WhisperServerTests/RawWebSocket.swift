import Foundation
import OpsKit
import TestSupport

/// A WebSocket client on a plain socket for the conformance suite: it sends frames no library
/// would build (unmasked, reserved bits, bad lengths) and reads the server's frames with its own
/// few lines of parsing, independent of the parser under test.
final class RawWebSocket: @unchecked Sendable {
    struct Frame: Equatable, CustomStringConvertible {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
        var closeCode: UInt16? { payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
        var description: String { "opcode \(opcode) fin \(fin) \(opcode == 8 ? "code \(closeCode.map(String.init) ?? "none")" : text.prefix(80).description)" }
    }

    // Only the test that owns it uses it, one call at a time.
    private let fd: Int32
    private var received: [UInt8] = []

    private init(fd: Int32) { self.fd = fd }

    deinit { Glibc.close(fd) }

    /// Connects and performs the opening handshake, checking the 101 and its accept value.
    static func connect(port: Int, path: String = "/ws") async throws -> RawWebSocket {
        let socket = try await Offload.run { () throws -> RawWebSocket in
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(fd)
                throw SupportError("cannot connect to 127.0.0.1:\(port)")
            }
            return RawWebSocket(fd: fd)
        }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await socket.send(Array(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        let head = try await socket.readHead()
        guard head.hasPrefix("HTTP/1.1 101"),
            head.lowercased().contains("sec-websocket-accept: \(WebSocketHandshake.acceptValue(forKey: key).lowercased())")
        else { throw SupportError("upgrade refused: \(head)") }
        return socket
    }

    /// A client frame: masked unless told otherwise, with any header bits a test wants.
    static func frame(
        _ opcode: UInt8, _ payload: [UInt8] = [], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true, declaredLength: UInt64? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 7) << 4 | (opcode & 0x0F)]
        let length = declaredLength ?? UInt64(payload.count)
        let maskBit: UInt8 = masked ? 0x80 : 0
        if length < 126 {
            bytes.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            bytes.append(maskBit | 126)
            bytes += [UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((length >> (8 * UInt64($0))) & 0xFF) }
        }
        guard masked else { return bytes + payload }
        let key = (0..<4).map { _ in UInt8.random(in: 0...255) }
        return bytes + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    static func text(_ text: String, fin: Bool = true) -> [UInt8] { frame(0x1, Array(text.utf8), fin: fin) }

    static func close(_ code: UInt16?, reason: [UInt8] = []) -> [UInt8] {
        frame(0x8, (code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []) + reason)
    }

    func send(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        try await Offload.run {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw SupportError("send failed: errno \(errno)") }
                offset += sent
            }
        }
    }

    /// The next frame from the server, or nil once it closed the TCP connection.
    func next(timeout: Duration = .seconds(5)) async throws -> Frame? {
        while true {
            if let frame = takeFrame() { return frame }
            guard try await fill(timeout: timeout) else { return nil }
        }
    }

    /// The next frame that is not a ping or a welcome-style server text, skipping nothing else.
    func nextIgnoringPings(timeout: Duration = .seconds(5)) async throws -> Frame? {
        while let frame = try await next(timeout: timeout) {
            if frame.opcode != 0x9 { return frame }
        }
        return nil
    }

    /// Expects the server's close frame with `code`, then the end of the TCP connection.
    func expectClose(_ code: UInt16, timeout: Duration = .seconds(5)) async throws {
        var frame = try await nextIgnoringPings(timeout: timeout)
        // Text the server wrote before it saw the offending frame may come first.
        while let text = frame, text.opcode == 0x1 { frame = try await nextIgnoringPings(timeout: timeout) }
        guard let close = frame, close.opcode == 0x8 else { throw SupportError("expected close \(code), got \(frame?.description ?? "end of connection")") }
        guard close.closeCode == code else { throw SupportError("expected close \(code), got close \(close.closeCode.map(String.init) ?? "without a code")") }
        try await expectEnd(timeout: timeout)
    }

    /// Expects the TCP connection to end with no further frame.
    func expectEnd(timeout: Duration = .seconds(5)) async throws {
        if let extra = try await next(timeout: timeout) { throw SupportError("expected the connection to end, got \(extra)") }
    }

    /// The next text frame's JSON `type`.
    func nextType(timeout: Duration = .seconds(5)) async throws -> String? {
        guard let frame = try await nextIgnoringPings(timeout: timeout) else { throw SupportError("connection ended") }
        guard frame.opcode == 0x1 else { throw SupportError("expected a text frame, got \(frame)") }
        return try JSONValue.parse(frame.payload)["type"]?.stringValue
    }

    private func takeFrame() -> Frame? {
        guard received.count >= 2 else { return nil }
        var length = Int(received[1] & 0x7F)
        var header = 2
        if length == 126 {
            guard received.count >= 4 else { return nil }
            length = Int(received[2]) << 8 | Int(received[3])
            header = 4
        } else if length == 127 {
            guard received.count >= 10 else { return nil }
            length = received[2..<10].reduce(0) { $0 << 8 | Int($1) }
            header = 10
        }
        guard received.count >= header + length else { return nil }
        let frame = Frame(fin: received[0] & 0x80 != 0, opcode: received[0] & 0x0F, payload: Array(received[header..<header + length]))
        received.removeFirst(header + length)
        return frame
    }

    private func readHead() async throws -> String {
        while true {
            if let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: received[..<end.upperBound], as: UTF8.self)
                received.removeFirst(end.upperBound)
                return head
            }
            guard try await fill(timeout: .seconds(5)) else { throw SupportError("connection ended during the handshake") }
        }
    }

    /// Reads what is available; false at the end of the connection (or a reset).
    private func fill(timeout: Duration) async throws -> Bool {
        let fd = self.fd
        let chunk = try await Offload.run { () throws -> [UInt8]? in
            var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw SupportError("no frame within \(timeout)") }
            return count > 0 ? Array(buffer.prefix(count)) : nil
        }
        guard let chunk else { return false }
        received += chunk
        return true
    }
}
