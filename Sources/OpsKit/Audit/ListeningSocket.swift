import Foundation

/// A TCP socket in LISTEN state, as /proc/net/tcp and /proc/net/tcp6 list them.
public struct ListeningSocket: Sendable, Equatable {
    public var address: String
    public var port: Int

    public var isLoopback: Bool { Self.isLoopback(address) }
    public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// Ports that belong to the backend: published, anyone may read sessions or reports.
    public static let backendPorts: [Int: String] = [
        6379: "Redis", 4222: "NATS", 6222: "NATS routes", 8222: "NATS monitoring", 5432: "PostgreSQL", 8404: "HAProxy stats",
        8405: "HAProxy's Prometheus exporter", 9090: "Prometheus", 3000: "Grafana", 8080: "whisper-server (past HAProxy)",
    ]

    public static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address == "localhost" || address.hasPrefix("::ffff:127.")
    }

    /// The LISTEN rows of one file; rows that do not parse are skipped (the kernel writes these).
    public static func parse(_ text: String, ipv6: Bool) -> [ListeningSocket] {
        var sockets: [ListeningSocket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[3] == "0A" else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, local[1].count <= 4, let port = Int(local[1], radix: 16), (0...65535).contains(port), let address = decode(String(local[0]), ipv6: ipv6) else { continue }
            sockets.append(ListeningSocket(address: address, port: port))
        }
        return sockets
    }

    /// The kernel prints each 32-bit word of the address in host (little-endian) byte order.
    static func decode(_ hex: String, ipv6: Bool) -> String? {
        guard hex.count == (ipv6 ? 32 : 8), hex.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let word = hex[index..<hex.index(index, offsetBy: 8)]
            guard let value = UInt32(word, radix: 16) else { return nil }
            bytes += [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
            index = hex.index(index, offsetBy: 8)
        }
        if !ipv6 { return bytes.map(String.init).joined(separator: ".") }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return "::ffff:" + bytes[12...].map(String.init).joined(separator: ".")
        }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            for (offset, byte) in bytes.enumerated() { raw[offset] = byte }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Which ports this host listens on beyond loopback, from /proc/net (no netstat, no root needed).
struct PortAudit {
    var root: String
    var allowed: Set<Int>

    func findings() -> [Finding] {
        var sockets: [ListeningSocket] = []
        var read = 0
        for (name, ipv6) in [("tcp", false), ("tcp6", true)] {
            let path = (root as NSString).appendingPathComponent("proc/net/\(name)")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            read += 1
            sockets += ListeningSocket.parse(text, ipv6: ipv6)
        }
        guard read > 0 else {
            return [Finding("ports", "listening", .unknown, "cannot read the listening sockets", observed: "no \(root)/proc/net/tcp or tcp6",
                source: AuditSource.network)]
        }
        var seen = Set<String>()
        let exposed = sockets.filter { !$0.isLoopback && !allowed.contains($0.port) }.filter { seen.insert($0.description).inserted }
        let local = Set(sockets.filter(\.isLoopback).map(\.port)).count
        let open = Set(sockets.filter { !$0.isLoopback && allowed.contains($0.port) }.map(\.port)).sorted()
        guard !exposed.isEmpty else {
            return [Finding("ports", "listening", .ok, "only expected ports listen beyond loopback",
                observed: "beyond loopback: \(open.isEmpty ? "none" : open.map(String.init).joined(separator: ", ")); \(local) loopback-only ports",
                source: AuditSource.network)]
        }
        let backend = exposed.filter { ListeningSocket.backendPorts[$0.port] != nil }
        let named = exposed.sorted { $0.port < $1.port }.map { socket in
            socket.description + (ListeningSocket.backendPorts[socket.port].map { " (\($0))" } ?? "")
        }
        return [Finding(
            "ports", "listening", backend.isEmpty ? .warning : .critical,
            backend.isEmpty ? "unexpected ports listen beyond loopback" : "backend ports listen on addresses others can reach",
            observed: named.joined(separator: ", "), recommended: "only \(allowed.sorted().map(String.init).joined(separator: ", ")) beyond loopback",
            source: AuditSource.network,
            fix: "bind those services to 127.0.0.1 or the internal network (bind / listen settings), or firewall them; --allow-port N if one is meant to be public")]
    }
}
