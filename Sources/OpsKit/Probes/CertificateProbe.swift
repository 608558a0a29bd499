import Foundation

/// Checks one certificate file: days until its leaf certificate expires.
public struct CertificateProbe: Sendable {
    static let warningDays = 30
    public static let criticalDays = 7

    public var path: String

    public init(path: String) { self.path = path }

    var name: String { "cert " + (path as NSString).lastPathComponent }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let path = self.path
        do {
            let chain = try await environment.pool.run(.abandon) { try CertificateReader.read(path: path) }
            var report = evaluate(chain[0], now: environment.now())
            // A failed `cert renew` stays visible until a renewal succeeds.
            do {
                if let failure = try RenewalFailure.read(for: path) {
                    let time = ISO8601DateFormatter().string(from: failure.time)
                    report.status = .critical
                    report.detail = "last renewal FAILED at \(time): \(failure.error); " + report.detail
                    report.facts.append(("renewal_failed", .object([("time", .string(time)), ("error", .string(failure.error))])))
                }
            } catch {
                // A marker that cannot be read still means a renewal failed.
                report.status = .critical
                report.detail = "last renewal FAILED (\(error)); " + report.detail
            }
            return report
        } catch {
            return .failed(name: name, kind: .cert, endpoint: path, error: error)
        }
    }

    /// Expired or under 7 days is critical, under 30 days a warning.
    public func evaluate(_ certificate: Certificate, now: Date) -> ComponentReport {
        let days = certificate.daysUntilExpiry(now: now)
        let status: HealthStatus
        let detail: String
        if certificate.isExpired(now: now) {
            status = .critical
            let ago = Int((now.timeIntervalSince(certificate.notAfter) / 86_400).rounded(.down))
            detail = ago == 0 ? "expired today" : "expired \(ago) days ago"
        } else if days < CertificateProbe.criticalDays {
            status = .critical
            detail = "expires in \(days) days"
        } else if days < CertificateProbe.warningDays {
            status = .warning
            detail = "expires in \(days) days"
        } else {
            status = .ok
            detail = "\(days) days left"
        }
        let notAfter = StatusReport.iso8601(certificate.notAfter)
        return ComponentReport(
            name: name, kind: .cert, status: status, detail: "\(detail) (\(certificate.subject))", endpoint: path,
            facts: [
                ("path", .string(path)), ("subject", .string(certificate.subject)), ("not_after", .string(notAfter)),
                ("days_left", .int(days)), ("dns_names", .array(certificate.dnsNames.map(JSONValue.string))),
                ("ip_addresses", .array(certificate.ipAddresses.map(JSONValue.string))),
            ])
    }
}
