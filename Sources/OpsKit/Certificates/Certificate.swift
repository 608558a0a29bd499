import COpenSSL
import Foundation

/// What an operator needs to know about one X.509 certificate.
public struct Certificate: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    var notBefore: Date
    public var notAfter: Date
    /// DNS names from the subjectAltName extension.
    public var dnsNames: [String]
    /// IP addresses (v4 and v6) from the subjectAltName extension: names a certificate covers too.
    public var ipAddresses: [String] = []
    /// Where it came from: "path:line" of its BEGIN line.
    public var origin: String

    /// Every name it covers: DNS names, then IP addresses.
    public var names: [String] { dnsNames + ipAddresses }

    /// Whole days until expiry, rounded down; negative once expired.
    public func daysUntilExpiry(now: Date = Date()) -> Int {
        Int((notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
    }

    func isExpired(now: Date = Date()) -> Bool { notAfter <= now }
}

/// Reads PEM files (a certificate, a chain, or HAProxy's combined cert + key file) with OpenSSL.
public enum CertificateReader {
    /// Every certificate in the file, in order.
    /// - Throws: `OpsError` naming the file (and line) when it cannot be read, holds no
    ///   certificate, or holds a malformed one.
    public static func read(path: String) throws -> [Certificate] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read" : "no such file"
            throw OpsError(.io, "\(reason): \(path)")
        }
        return try parse(pem: String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses every `BEGIN CERTIFICATE` block of `pem`; `source` names it in errors.
    public static func parse(pem: String, source: String) throws -> [Certificate] {
        let blocks = PEMBlock.split(pem)
        let certificateBlocks = blocks.filter { $0.label == "CERTIFICATE" || $0.label == "TRUSTED CERTIFICATE" }
        guard !certificateBlocks.isEmpty else {
            throw OpsError(.invalidInput, "\(source): no PEM certificate found")
        }
        return try certificateBlocks.map { block in
            let origin = "\(source):\(block.line)"
            guard let certificate = decode(block.text) else {
                throw OpsError(.invalidInput, "\(origin): malformed certificate (\(opensslError()))")
            }
            defer { X509_free(certificate) }
            return try describe(certificate, origin: origin)
        }
    }

    private static func decode(_ pem: String) -> OpaquePointer? {
        ERR_clear_error()
        let bytes = Array(pem.utf8)
        return bytes.withUnsafeBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
    }

    private static func describe(_ certificate: OpaquePointer, origin: String) throws -> Certificate {
        guard let notBefore = date(X509_get0_notBefore(certificate)), let notAfter = date(X509_get0_notAfter(certificate))
        else {
            throw OpsError(.invalidInput, "\(origin): certificate has an unreadable validity period")
        }
        let (dns, ip) = alternativeNames(certificate)
        return Certificate(
            subject: name(X509_get_subject_name(certificate)), issuer: name(X509_get_issuer_name(certificate)),
            notBefore: notBefore, notAfter: notAfter, dnsNames: dns, ipAddresses: ip, origin: origin)
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    private static func name(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        X509_NAME_print_ex(bio, name, 0, UInt(wc_xn_flag_rfc2253()))
        return String(decoding: OpenSSLMemory.drain(bio), as: UTF8.self)
    }

    /// The subjectAltName's DNS names and IP addresses (as text: "127.0.0.1", "::1").
    private static func alternativeNames(_ certificate: OpaquePointer) -> (dns: [String], ip: [String]) {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return ([], []) }
        let stack = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(stack) }
        var dns: [String] = []
        var ip: [String] = []
        for index in 0..<OPENSSL_sk_num(stack) {
            guard let entry = OPENSSL_sk_value(stack, index)?.assumingMemoryBound(to: GENERAL_NAME.self) else { continue }
            switch entry.pointee.type {
            case GEN_DNS:
                guard let ia5 = entry.pointee.d.dNSName, let bytes = ASN1_STRING_get0_data(ia5) else { continue }
                dns.append(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(ia5))), as: UTF8.self))
            case GEN_IPADD:
                guard let octets = entry.pointee.d.iPAddress, let bytes = ASN1_STRING_get0_data(octets) else { continue }
                if let text = Self.address(Array(UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(octets))))) { ip.append(text) }
            default:
                continue
            }
        }
        return (dns, ip)
    }

    /// 4 or 16 bytes as an address; nil for any other length (a malformed SAN).
    static func address(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let converted = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) }
        guard converted != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func opensslError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "not valid PEM" }
        var buffer = [UInt8](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Reads OpenSSL memory BIOs.
package enum OpenSSLMemory {
    /// Everything written to a memory BIO so far.
    package static func drain(_ bio: OpaquePointer) -> [UInt8] {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = BIO_read(bio, &buffer, Int32(buffer.count))
            if count <= 0 { break }
            output += buffer[0..<Int(count)]
        }
        return output
    }
}

/// One `-----BEGIN X-----` ... `-----END X-----` block of a PEM file, with its starting line.
public struct PEMBlock: Sendable, Equatable {
    public var label: String
    public var text: String
    public var line: Int

    /// Splits PEM text into blocks; lines outside blocks are ignored, as OpenSSL does.
    public static func split(_ pem: String) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var current: (label: String, lines: [Substring], line: Int)?
        for (offset, rawLine) in pem.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if current == nil, line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                let label = line.dropFirst("-----BEGIN ".count).dropLast(5)
                current = (String(label), [line], offset + 1)
            } else if var block = current {
                block.lines.append(line)
                current = block
                if line.hasPrefix("-----END ") {
                    blocks.append(PEMBlock(label: block.label, text: block.lines.joined(separator: "\n") + "\n", line: block.line))
                    current = nil
                }
            }
        }
        return blocks
    }
}
