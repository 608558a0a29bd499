import Foundation
import NIOCore
import OpsKit

/// An IP address or CIDR block, IPv4 or IPv6, as TRUSTED_PROXIES lists them.
struct IPNetwork: Sendable, Equatable {
    var bytes: [UInt8]
    var prefixLength: Int

    init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let bytes = IPNetwork.bytes(of: String(first)) else { return nil }
        let maximum = bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        self.bytes = bytes
    }

    func contains(_ address: String) -> Bool {
        guard let other = IPNetwork.bytes(of: address), other.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The address' bytes; IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4.
    static func bytes(of text: String) -> [UInt8]? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.lowercased().hasPrefix("::ffff:"), text.contains(".") { text = String(text.dropFirst(7)) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// Which address a request comes from. Behind HAProxy the socket's peer is the proxy, so the
/// client is taken from X-Forwarded-For, but only when the peer is a trusted proxy: anyone else
/// could write that header.
enum ClientAddress {
    /// - Returns: the rightmost X-Forwarded-For address that is not itself a trusted proxy, when the
    ///   peer is trusted; otherwise the peer.
    static func resolve(peer: String, forwardedFor: [String], trusted: [IPNetwork]) -> String {
        guard trusted.contains(where: { $0.contains(peer) }) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard IPNetwork.bytes(of: hop) != nil else { return peer }
            if !trusted.contains(where: { $0.contains(hop) }) { return hop }
        }
        return hops.first ?? peer
    }
}

/// IP addresses are kept only as salted hashes anywhere they outlive the connection.
struct IPHasher: Sendable {
    let salt: String

    func hash(_ ip: String) -> String {
        Digest.sha256Hex(salt + "|" + ip)
    }
}
