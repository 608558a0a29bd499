import COpenSSL
import Foundation

/// One X.509 certificate held by OpenSSL: what `cert` needs to order a chain, check signatures,
/// match keys and describe it. The pointer never leaves OpsKit.
public final class X509Certificate: @unchecked Sendable {
    let pointer: OpaquePointer
    /// "file:line" of its BEGIN line, or where it was read from.
    public let origin: String

    init(owning pointer: OpaquePointer, origin: String) {
        self.pointer = pointer
        self.origin = origin
    }

    deinit { X509_free(pointer) }

    /// Every certificate of a PEM text, in order.
    public static func parseAll(pem: String, source: String) throws -> [X509Certificate] {
        try PEMBlock.split(pem).filter { $0.label == "CERTIFICATE" || $0.label == "TRUSTED CERTIFICATE" }.map { block in
            ERR_clear_error()
            let bytes = Array(block.text.utf8)
            let pointer = bytes.withUnsafeBytes { raw -> OpaquePointer? in
                guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
                defer { BIO_free(bio) }
                return PEM_read_bio_X509(bio, nil, nil, nil)
            }
            guard let pointer else {
                throw OpsError(.invalidInput, "\(source):\(block.line): malformed certificate (\(CertificateReader.opensslError()))")
            }
            return X509Certificate(owning: pointer, origin: "\(source):\(block.line)")
        }
    }

    public var summary: Certificate {
        // The describe path of CertificateReader, on this certificate.
        (try? CertificateReader.parse(pem: pem, source: origin).first) ?? Certificate(
            subject: "", issuer: "", notBefore: .distantPast, notAfter: .distantPast, dnsNames: [], origin: origin)
    }

    public var subject: String { summary.subject }
    public var issuer: String { summary.issuer }
    var notBefore: Date { summary.notBefore }
    public var notAfter: Date { summary.notAfter }
    public var dnsNames: [String] { summary.dnsNames }
    public var ipAddresses: [String] { summary.ipAddresses }
    /// DNS names and IP addresses.
    public var names: [String] { summary.names }

    /// The certificate as PEM.
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        PEM_write_bio_X509(bio, pointer)
        return String(decoding: OpenSSLMemory.drain(bio), as: UTF8.self)
    }

    /// SHA-256 of the DER encoding, as `AA:BB:...` (what `openssl x509 -fingerprint -sha256` prints).
    public var fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        X509_digest(pointer, EVP_sha256(), &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// "EC P-256", "RSA 2048", ...
    public var keyDescription: String {
        guard let key = X509_get0_pubkey(pointer) else { return "unknown" }
        return PrivateKey.describe(key)
    }

    /// True when `issuer`'s name matches this one's issuer and its key verifies this signature.
    func isIssued(by issuer: X509Certificate) -> Bool {
        guard X509_check_issued(issuer.pointer, pointer) == X509_V_OK, let key = X509_get0_pubkey(issuer.pointer) else { return false }
        return X509_verify(pointer, key) == 1
    }

    /// Issued by itself: the same name, and its own key verifies the signature (a root, or a
    /// self-signed leaf whose key usage would not pass X509_check_issued).
    public var isSelfSigned: Bool {
        guard X509_NAME_cmp(X509_get_subject_name(pointer), X509_get_issuer_name(pointer)) == 0, let key = X509_get0_pubkey(pointer) else { return false }
        return X509_verify(pointer, key) == 1
    }

    /// Whether `host` is one of its names (wildcards as TLS clients apply them).
    /// Whether it is valid for `host`: a DNS name (wildcards as TLS clients match them) or an
    /// IP address, v4 or v6, against the IP SANs.
    public func covers(host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if Self.isAddress(bare) { return X509_check_ip_asc(pointer, bare, 0) == 1 }
        return X509_check_host(pointer, host, host.utf8.count, 0, nil) == 1
    }

    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// OCSP must-staple: the TLS feature extension asking for status_request (5).
    public var mustStaple: Bool {
        let index = X509_get_ext_by_NID(pointer, NID_tlsfeature, -1)
        guard index >= 0, let extensionPointer = X509_get_ext(pointer, index), let data = X509_EXTENSION_get_data(extensionPointer),
            let bytes = ASN1_STRING_get0_data(data)
        else { return false }
        // SEQUENCE OF INTEGER: look for INTEGER 5.
        let der = Array(UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(data))))
        return zip(der, der.dropFirst(2)).enumerated().contains { index, pair in
            pair.0 == 0x02 && der[index + 1] == 0x01 && pair.1 == 0x05
        }
    }

    public func matches(_ key: PrivateKey) -> Bool {
        guard let certificateKey = X509_get0_pubkey(pointer) else { return false }
        return EVP_PKEY_eq(certificateKey, key.pointer) == 1
    }
}

/// A private key held by OpenSSL.
public final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// The first private key of a PEM text.
    /// - Throws: naming the file when there is none, it is malformed, or it is encrypted and
    ///   `passphrase` is nil or wrong (never a prompt on the terminal).
    public static func parse(pem: String, source: String, passphrase: String? = nil) throws -> PrivateKey {
        guard let block = PEMBlock.split(pem).first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw OpsError(.invalidInput, "\(source): no private key (no BEGIN ... PRIVATE KEY block)")
        }
        let encrypted = block.label == "ENCRYPTED PRIVATE KEY" || block.text.contains("Proc-Type: 4,ENCRYPTED")
        if encrypted && passphrase == nil {
            throw OpsError(.invalidInput, "\(source):\(block.line): the private key is encrypted; give its passphrase with --key-passphrase-file FILE")
        }
        ERR_clear_error()
        let bytes = Array(block.text.utf8)
        let pointer = bytes.withUnsafeBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            if let passphrase {
                return passphrase.withCString { PEM_read_bio_PrivateKey(bio, nil, nil, UnsafeMutableRawPointer(mutating: $0)) }
            }
            return PEM_read_bio_PrivateKey(bio, nil, wc_no_passphrase_callback(), nil)
        }
        guard let pointer else {
            let reason = encrypted ? "the passphrase does not open the encrypted key" : "malformed private key (\(CertificateReader.opensslError()))"
            throw OpsError(.invalidInput, "\(source):\(block.line): \(reason)")
        }
        return PrivateKey(owning: pointer)
    }

    /// A new key: EC P-256 or RSA of `bits`.
    public static func generate(rsaBits: Int? = nil) throws -> PrivateKey {
        let pointer = rsaBits.map { wc_rsa_key_generate(UInt32($0)) } ?? wc_ec_key_generate("P-256")
        guard let pointer else { throw OpsError(.io, "key generation failed: \(CertificateReader.opensslError())") }
        return PrivateKey(owning: pointer)
    }

    /// Unencrypted PKCS#8 PEM: what HAProxy loads.
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil)
        return String(decoding: OpenSSLMemory.drain(bio), as: UTF8.self)
    }

    public var description: String { Self.describe(pointer) }

    static func describe(_ key: OpaquePointer) -> String {
        let bits = EVP_PKEY_get_bits(key)
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA: return "RSA \(bits)"
        case EVP_PKEY_EC: return bits == 256 ? "EC P-256" : bits == 384 ? "EC P-384" : "EC \(bits)"
        case EVP_PKEY_ED25519: return "Ed25519"
        default: return "key of \(bits) bits"
        }
    }
}
