import Foundation

/// `cert check` on one PEM file or one live endpoint: the leaf described, the chain's order and
/// links, the key (when the PEM holds one), and a verdict by days left.
public struct CertificateInspection: Sendable {
    public var source: String
    public var chain: [X509Certificate]
    /// nil: the PEM holds no key (or it is a live endpoint).
    public var keyMatches: Bool?
    public var host: String?
    public var warnDays: Int
    public var criticalDays: Int
    public var now: Date

    public init(source: String, chain: [X509Certificate], keyMatches: Bool?, host: String?, warnDays: Int = 30, criticalDays: Int = 7, now: Date = Date()) {
        self.source = source
        self.chain = chain
        self.keyMatches = keyMatches
        self.host = host
        self.warnDays = warnDays
        self.criticalDays = criticalDays
        self.now = now
    }

    /// Reads a PEM file: certificates, and its key if it holds one.
    public static func file(_ path: String, host: String?, warnDays: Int, criticalDays: Int, now: Date = Date()) throws -> CertificateInspection {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OpsError(.io, FileManager.default.fileExists(atPath: path) ? "cannot read: \(path)" : "no such file: \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let chain = try X509Certificate.parseAll(pem: text, source: path)
        guard !chain.isEmpty else { throw OpsError(.invalidInput, "\(path): no PEM certificate found") }
        var matches: Bool?
        if PEMBlock.split(text).contains(where: { $0.label.hasSuffix("PRIVATE KEY") }) {
            matches = (try? PrivateKey.parse(pem: text, source: path)).map { chain[0].matches($0) } ?? false
        }
        return CertificateInspection(source: path, chain: chain, keyMatches: matches, host: host, warnDays: warnDays, criticalDays: criticalDays, now: now)
    }

    public var leaf: X509Certificate { chain[0] }
    var daysLeft: Int { Int((leaf.notAfter.timeIntervalSince(now) / 86_400).rounded(.down)) }

    /// Each link: "ok", or what is wrong.
    var chainProblems: [String] {
        var problems: [String] = []
        for (index, certificate) in chain.enumerated().dropLast() where !certificate.isIssued(by: chain[index + 1]) {
            problems.append("#\(index) (\(certificate.subject)) is not issued by #\(index + 1) (\(chain[index + 1].subject)): out of order or not its issuer")
        }
        return problems
    }

    public var problems: [(HealthStatus, String)] {
        var out: [(HealthStatus, String)] = []
        if leaf.notAfter <= now {
            out.append((.critical, "expired \(-daysLeft) days ago"))
        } else if daysLeft < criticalDays {
            out.append((.critical, "expires in \(daysLeft) days (under \(criticalDays))"))
        } else if daysLeft < warnDays {
            out.append((.warning, "expires in \(daysLeft) days (under \(warnDays))"))
        }
        if leaf.notBefore > now { out.append((.critical, "not valid before \(ISO8601DateFormatter().string(from: leaf.notBefore))")) }
        if keyMatches == false { out.append((.critical, "the key in the file does not match the certificate")) }
        for problem in chainProblems { out.append((.critical, problem)) }
        if let host, !leaf.covers(host: host) { out.append((.critical, "does not cover \(host) (names: \(leaf.names.joined(separator: ", ")))")) }
        return out
    }

    public var status: HealthStatus { HealthStatus.worst([.ok] + problems.map(\.0)) }

    public var json: JSONValue {
        let formatter = ISO8601DateFormatter()
        return .object([
            ("source", .string(source)), ("status", .string(status.rawValue)),
            ("subject", .string(leaf.subject)), ("issuer", .string(leaf.issuer)), ("dns_names", .array(leaf.dnsNames.map(JSONValue.string))),
            ("ip_addresses", .array(leaf.ipAddresses.map(JSONValue.string))), ("names", .array(leaf.names.map(JSONValue.string))),
            ("not_before", .string(formatter.string(from: leaf.notBefore))), ("not_after", .string(formatter.string(from: leaf.notAfter))),
            ("days_left", .int(daysLeft)), ("key", .string(leaf.keyDescription)), ("fingerprint_sha256", .string(leaf.fingerprint)),
            ("must_staple", .bool(leaf.mustStaple)), ("key_matches", keyMatches.map(JSONValue.bool) ?? .null),
            ("covers_host", host.map { .bool(leaf.covers(host: $0)) } ?? .null),
            ("chain", .array(chain.map { .object([("subject", .string($0.subject)), ("issuer", .string($0.issuer)), ("origin", .string($0.origin))]) })),
            ("chain_in_order", .bool(chainProblems.isEmpty)),
            ("problems", .array(problems.map { .string($0.1) })),
        ])
    }

    public var text: String {
        let formatter = ISO8601DateFormatter()
        var lines = ["\(source): \(status.rawValue.uppercased())"]
        lines.append("  subject     \(leaf.subject)")
        lines.append("  names       \(leaf.names.joined(separator: ", "))")
        lines.append("  issuer      \(leaf.issuer)")
        lines.append("  valid       \(formatter.string(from: leaf.notBefore)) to \(formatter.string(from: leaf.notAfter)) (\(daysLeft) days left)")
        lines.append("  key         \(leaf.keyDescription)" + (keyMatches.map { $0 ? ", matches the key in the file" : ", DOES NOT match the key in the file" } ?? ""))
        lines.append("  chain       " + chain.enumerated().map { "#\($0.offset) \($0.element.subject)" }.joined(separator: " → ") + (chainProblems.isEmpty ? " (in order)" : " (NOT in order)"))
        lines.append("  sha256      \(leaf.fingerprint)")
        if leaf.mustStaple { lines.append("  OCSP must-staple: HAProxy must staple an OCSP response") }
        if let host { lines.append("  covers \(host): \(leaf.covers(host: host) ? "yes" : "NO")") }
        for problem in problems { lines.append("  ✗ \(problem.1)") }
        return lines.joined(separator: "\n")
    }
}
