import COpenSSL
import Foundation

/// Builds and signs X.509 certificates with OpenSSL.
enum OpenSSLCertificateBuilder {
    static func selfSigned(commonName: String, alternativeNames: [String], days: Int, key: PrivateKey) throws -> X509Certificate {
        guard let certificate = X509_new() else { throw OpsError(.io, "X509_new failed") }
        // Owned from here: freed on any throw below.
        let owned = X509Certificate(owning: certificate, origin: "self-signed")
        X509_set_version(certificate, 2)
        var serial = [UInt8](repeating: 0, count: 16)
        _ = SecRandom.fill(&serial)
        serial[0] &= 0x7F
        let number = BN_bin2bn(serial, Int32(serial.count), nil)
        defer { BN_free(number) }
        BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate))
        X509_gmtime_adj(X509_getm_notBefore(certificate), -300)
        X509_gmtime_adj(X509_getm_notAfter(certificate), days * 86_400)
        guard let name = X509_NAME_new() else { throw OpsError(.io, "X509_NAME_new failed") }
        defer { X509_NAME_free(name) }
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0)
        X509_set_subject_name(certificate, name)
        X509_set_issuer_name(certificate, name)
        X509_set_pubkey(certificate, key.pointer)
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        let names = ([commonName] + alternativeNames).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let san = names.map { name in name.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? "IP:\(name)" : "DNS:\(name)" }.joined(separator: ",")
        for (nid, value) in [(NID_subject_alt_name, san), (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,keyEncipherment"), (NID_ext_key_usage, "serverAuth")] {
            guard let extensionPointer = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw OpsError(.invalidInput, "cannot add \(value): \(CertificateReader.opensslError())")
            }
            X509_add_ext(certificate, extensionPointer, -1)
            X509_EXTENSION_free(extensionPointer)
        }
        guard X509_sign(certificate, key.pointer, EVP_sha256()) > 0 else {
            throw OpsError(.io, "signing failed: \(CertificateReader.opensslError())")
        }
        return owned
    }
}

/// Random bytes from OpenSSL's CSPRNG.
enum SecRandom {
    static func fill(_ bytes: inout [UInt8]) -> Bool {
        RAND_bytes(&bytes, Int32(bytes.count)) == 1
    }
}
