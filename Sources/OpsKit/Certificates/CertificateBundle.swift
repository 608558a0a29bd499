import Foundation

/// HAProxy's PEM: the leaf, its intermediates in issuing order, then the key; each link checked.
public struct CertificateBundle: Sendable {
    public var chain: [X509Certificate]
    public var key: PrivateKey
    /// What was changed or noticed on the way ("reordered: ...").
    public var notes: [String]

    public var pem: String { chain.map(\.pem).joined() + key.pem }

    /// Orders `certificates` from the leaf the key belongs to, and checks every signature.
    /// - Throws: a mismatched key, a certificate that belongs to no chain, a broken link, an
    ///   expired leaf (unless `allowExpired`).
    public static func combine(certificates: [X509Certificate], key: PrivateKey, allowExpired: Bool = false, now: Date = Date()) throws -> CertificateBundle {
        guard !certificates.isEmpty else { throw OpsError(.invalidInput, "no certificate given") }
        guard let leaf = certificates.first(where: { $0.matches(key) }) else {
            throw OpsError(.invalidInput, "the key matches none of the certificates (\(certificates.map { "\($0.subject) at \($0.origin)" }.joined(separator: "; "))): it is the key of another certificate")
        }
        var notes: [String] = []
        var ordered = [leaf]
        var rest = certificates.filter { $0 !== leaf }
        while let current = ordered.last, !current.isSelfSigned, let index = rest.firstIndex(where: { current.isIssued(by: $0) }) {
            ordered.append(rest.remove(at: index))
        }
        // A root is not sent (clients have it), but keeping one the operator gave is harmless.
        if !rest.isEmpty {
            throw OpsError(.invalidInput, "not part of the chain of \(leaf.subject): " + rest.map { "\($0.subject) at \($0.origin) (issuer \($0.issuer))" }.joined(separator: "; "))
        }
        if ordered.map(\.origin) != certificates.map(\.origin) {
            notes.append("reordered the chain: " + ordered.map { "\($0.subject) (\($0.origin))" }.joined(separator: " → "))
        }
        if let last = ordered.last, !last.isSelfSigned, ordered.count == 1 {
            notes.append("no intermediate given: clients must already have \(last.issuer)'s certificate")
        }
        if leaf.notAfter <= now && !allowExpired {
            throw OpsError(.invalidInput, "the certificate \(leaf.subject) expired on \(ISO8601DateFormatter().string(from: leaf.notAfter)) (--allow-expired to combine it anyway)")
        }
        if leaf.notBefore > now { notes.append("not valid before \(ISO8601DateFormatter().string(from: leaf.notBefore))") }
        return CertificateBundle(chain: ordered, key: key, notes: notes)
    }
}

/// A key and a self-signed certificate for testing: `cert self-signed`.
public enum SelfSignedCertificate {
    public static func make(commonName: String, alternativeNames: [String], days: Int, key: PrivateKey) throws -> X509Certificate {
        try OpenSSLCertificateBuilder.selfSigned(commonName: commonName, alternativeNames: alternativeNames, days: days, key: key)
    }
}
