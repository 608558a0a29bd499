import Foundation
import COpenSSL

/// Digests through OpenSSL: SHA-256 for salted hashes of IP addresses and checksums, SHA-1 only
/// because Redis names scripts by it and the WebSocket handshake is built on it.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256()) }

    public static func sha256Hex(_ text: String) -> String { hex(sha256(Array(text.utf8))) }

    public static func sha1Hex(_ text: String) -> String { hex(sha1(Array(text.utf8))) }

    /// SHA-1 for the WebSocket handshake and Redis script names, never for anything secret.
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha1()) }

    private static func digest(_ bytes: [UInt8], _ type: OpaquePointer?) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &output, &length, type, nil)
        }
        return Array(output.prefix(Int(length)))
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
