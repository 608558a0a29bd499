import Foundation
import COpenSSL

/// Digests through OpenSSL: SHA-256 for salted hashes of IP addresses and checksums, SHA-1 only
/// because Redis names scripts by it and the WebSocket handshake is built on it.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256()) }

    public static func sha256Hex(_ text: String) -> String { hex(sha256(Array(text.utf8))) }

    static func sha1Hex(_ text: String) -> String { hex(sha1(Array(text.utf8))) }

    /// SHA-1 for the WebSocket handshake and Redis script names, never for anything secret.
    static func sha1(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha1()) }

    /// A SHA-256 fed piece by piece: a file checksummed while it streams.
    public final class SHA256Stream {
        private let context: OpaquePointer

        public init() {
            context = EVP_MD_CTX_new()
            EVP_DigestInit_ex(context, EVP_sha256(), nil)
        }

        deinit { EVP_MD_CTX_free(context) }

        func update(_ bytes: UnsafeRawBufferPointer) {
            EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
        }

        /// The digest in hex; the stream is finished.
        public func finish() -> String {
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &output, &length)
            return Digest.hex(Array(output.prefix(Int(length))))
        }
    }

    /// The SHA-256 of a file, read in 1 MiB pieces.
    /// - Throws: `OpsError(.io)` naming the file.
    public static func sha256Hex(file path: String) throws -> (digest: String, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpsError(.io, "cannot read: \(String(cString: strerror(errno)))", endpoint: path) }
        defer { close(fd) }
        let stream = SHA256Stream()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw OpsError(.io, "read failed: \(String(cString: strerror(errno)))", endpoint: path) }
            if count == 0 { break }
            buffer.withUnsafeBytes { stream.update(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            size += count
        }
        return (stream.finish(), size)
    }

    private static func digest(_ bytes: [UInt8], _ type: OpaquePointer?) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &output, &length, type, nil)
        }
        return Array(output.prefix(Int(length)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
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
