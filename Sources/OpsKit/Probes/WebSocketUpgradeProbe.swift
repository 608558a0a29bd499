import COpenSSL
import Foundation
import NIOPosix

/// The guide's WebSocket check through HAProxy, as `curl -k -i -H "Upgrade: websocket" ...
/// https://host/ws` does it: one upgrade request over TCP (TLS for wss://, the certificate not
/// verified, as `-k`), the status line and whether `Sec-WebSocket-Accept` answers the key. The
/// connection is closed right after the response headers: no frame is sent.
public enum WebSocketUpgradeProbe {
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var reason: String
        /// `Sec-WebSocket-Accept` is the hash of the key sent (RFC 6455 4.2.2).
        public var acceptValid: Bool
        public var upgraded: Bool { status == 101 && acceptValid }

        public var summary: String {
            "HTTP \(status) \(reason)" + (status == 101 && !acceptValid ? " (Sec-WebSocket-Accept does not answer the key)" : "")
        }
    }

    /// - Throws: `OpsError` naming the endpoint when it cannot connect, the TLS handshake fails
    ///   or the answer is not HTTP.
    public static func probe(_ url: String, timeout: Duration = .seconds(5), pool: NIOThreadPool = .singleton) async throws -> Answer {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["ws", "wss"].contains(scheme), let host = components.host else {
            throw OpsError(.invalidInput, "a WebSocket URL is ws:// or wss://HOST[:PORT]/PATH, got '\(Redactor.redactURL(url))'")
        }
        let tls = scheme == "wss"
        let port = components.port ?? (tls ? 443 : 80)
        let path = (components.path.isEmpty ? "/" : components.path) + (components.query.map { "?\($0)" } ?? "")
        let endpoint = "\(host):\(port)"
        return try await pool.run(.abandon) {
            try exchange(host: host, port: port, path: path, tls: tls, timeout: timeout, endpoint: endpoint)
        }
    }

    static func exchange(host: String, port: Int, path: String, tls: Bool, timeout: Duration, endpoint: String) throws -> Answer {
        let fd = try BlockingSocket.connect(host: host, port: port, timeout: timeout, endpoint: endpoint)
        defer { close(fd) }
        var nonce = [UInt8](repeating: 0, count: 16)
        for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255) }
        let key = Data(nonce).base64EncodedString()
        let hostHeader = (port == (tls ? 443 : 80)) ? host : "\(host):\(port)"
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(key)\r\n\r\n".utf8)

        var send: ([UInt8]) throws -> Void
        var receive: (inout [UInt8]) -> Int
        var context: OpaquePointer?
        var ssl: OpaquePointer?
        defer {
            if let ssl { SSL_shutdown(ssl); SSL_free(ssl) }
            if let context { SSL_CTX_free(context) }
        }
        if tls {
            context = SSL_CTX_new(TLS_client_method())
            guard let context else { throw OpsError(.tls, "SSL_CTX_new failed", endpoint: endpoint) }
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            ssl = SSL_new(context)
            guard let ssl else { throw OpsError(.tls, "SSL_new failed", endpoint: endpoint) }
            SSL_set_fd(ssl, fd)
            if host.first?.isLetter == true { _ = wc_ssl_set_server_name(ssl, host) }
            ERR_clear_error()
            guard SSL_connect(ssl) == 1 else { throw OpsError(.tls, "TLS handshake failed: \(CertificateReader.opensslError())", endpoint: endpoint) }
            send = { bytes in
                guard bytes.withUnsafeBytes({ SSL_write(ssl, $0.baseAddress, Int32($0.count)) }) == Int32(bytes.count) else {
                    throw OpsError(.io, "cannot send the upgrade request", endpoint: endpoint)
                }
            }
            receive = { buffer in Int(buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }) }
        } else {
            send = { bytes in
                guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
                    throw OpsError(.io, "cannot send the upgrade request", endpoint: endpoint)
                }
            }
            receive = { buffer in buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        }
        try send(request)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while !response.ends(containing: end) {
            let count = receive(&buffer)
            guard count > 0 else {
                throw OpsError(response.isEmpty ? .unreachable : .protocolError, response.isEmpty ? "no answer to the upgrade request" : "the answer ended before its headers did", endpoint: endpoint)
            }
            response += buffer[0..<count]
            guard response.count < 64 << 10 else { throw OpsError(.protocolError, "response headers over 64 KiB", endpoint: endpoint) }
        }
        return try parse(String(decoding: response, as: UTF8.self), key: key, endpoint: endpoint)
    }

    /// The answer's status line and `Sec-WebSocket-Accept`, from its header text.
    public static func parse(_ text: String, key: String, endpoint: String) throws -> Answer {
        let lines = text.components(separatedBy: "\r\n")
        let words = lines[0].split(separator: " ", maxSplits: 2)
        guard words.count >= 2, words[0].hasPrefix("HTTP/"), let status = Int(words[1]) else {
            throw OpsError(.protocolError, "not an HTTP answer: '\(lines[0].prefix(80))'", endpoint: endpoint)
        }
        let accept = lines.dropFirst().first { $0.lowercased().hasPrefix("sec-websocket-accept:") }
            .map { $0.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces) }
        let expected = Data(Digest.sha1(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
        return Answer(status: status, reason: words.count > 2 ? String(words[2]) : "", acceptValid: accept == expected)
    }
}

private extension Array where Element == UInt8 {
    func ends(containing marker: [UInt8]) -> Bool {
        guard count >= marker.count else { return false }
        // The headers end at the first blank line; a frame may follow it in the same read.
        return (0...(count - marker.count)).contains { Array(self[$0..<($0 + marker.count)]) == marker }
    }
}

/// A blocking TCP connection with send and receive timeouts, for probes that speak a little of a
/// protocol themselves (a TLS handshake, an upgrade request).
enum BlockingSocket {
    /// - Returns: the connected descriptor; the caller closes it.
    static func connect(host: String, port: Int, timeout: Duration, endpoint: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw OpsError(.unreachable, "cannot resolve \(host)", endpoint: endpoint)
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw OpsError(.io, "socket: \(String(cString: strerror(errno)))", endpoint: endpoint) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
            throw OpsError(code == ECONNREFUSED ? .connectionRefused : .unreachable, "cannot connect: \(String(cString: strerror(code)))", endpoint: endpoint)
        }
        return fd
    }
}
