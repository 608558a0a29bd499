import Foundation

/// `diag cert`: every certificate of the inventory judged as `cert check` judges it (days left
/// against 30 and 7, the chain's order, the key), with `whisperctl cert renew` as the fix.
public struct CertificateDiagnosis: Sendable {
    public var paths: [String]
    public var warnDays = 30
    public var criticalDays = 7

    public init(paths: [String]) { self.paths = paths }

    public func run(now: Date = Date()) -> [Finding] {
        paths.flatMap { path -> [Finding] in
            let name = (path as NSString).lastPathComponent
            let inspection: CertificateInspection
            do {
                inspection = try CertificateInspection.file(path, host: nil, warnDays: warnDays, criticalDays: criticalDays, now: now)
            } catch {
                return [Finding("cert", name, .critical, "\(name) cannot be read as a certificate", observed: "\(error)",
                    fix: "whisperctl cert check \(path)")]
            }
            let observed = "\(inspection.leaf.subject), \(inspection.daysLeft) days left (not after \(ISO8601DateFormatter().string(from: inspection.leaf.notAfter)))"
            guard !inspection.problems.isEmpty else {
                return [Finding("cert", name, .ok, "\(name) is valid", observed: observed)]
            }
            return inspection.problems.map { status, problem in
                let severity: Finding.Severity = status == .critical ? .critical : .warning
                let expiry = problem.hasPrefix("expire")
                return Finding(
                    "cert", name, severity, "\(name): \(problem)", observed: observed,
                    recommended: expiry ? "more than \(warnDays) days left" : "a chain in issuing order whose key matches",
                    fix: expiry ? "whisperctl cert renew --pem \(path) --domain \(inspection.leaf.dnsNames.first ?? "NAME")" : "whisperctl cert combine --cert CHAIN --key KEY --out \(path)")
            }
        }
    }
}
