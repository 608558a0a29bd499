import COpenSSL
import Foundation
import OpsKit

/// Makes real self-signed certificates with OpenSSL, valid for a chosen window around now.
package enum CertificateFactory {
    /// PEM text of a certificate (and its key) whose validity ends `expiresIn` from now
    /// (negative for an already expired one).
    package static func selfSigned(commonName: String, expiresIn: TimeInterval, validFor: TimeInterval = 400 * 86_400) throws -> (certificate: String, key: String) {
        guard let key = wc_ec_key_generate("P-256") else { throw SupportError("EC key generation failed") }
        defer { EVP_PKEY_free(key) }
        guard let x509 = X509_new() else { throw SupportError("X509_new failed") }
        defer { X509_free(x509) }
        X509_set_version(x509, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(x509), Int(arc4random_uniform(1_000_000)) + 1)
        X509_gmtime_adj(X509_getm_notBefore(x509), Int(expiresIn - validFor))
        X509_gmtime_adj(X509_getm_notAfter(x509), Int(expiresIn))
        X509_set_pubkey(x509, key)
        let name = X509_get_subject_name(x509)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        X509_set_issuer_name(x509, name)
        guard X509_sign(x509, key, EVP_sha256()) > 0 else { throw SupportError("X509_sign failed") }
        return (try pem { PEM_write_bio_X509($0, x509) }, try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) })
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw SupportError("BIO_new failed") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw SupportError("PEM write failed") }
        return String(decoding: OpenSSLMemory.drain(bio), as: UTF8.self)
    }
}
