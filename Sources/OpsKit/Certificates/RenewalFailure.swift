import Foundation

/// A failed `cert renew`, kept beside the PEM (`<pem>.renew-failed`) until a renewal succeeds, so
/// `status` keeps the failure loud. The one definition of that file: written and read here.
public struct RenewalFailure: Codable, Sendable, Equatable {
    public var time: Date
    /// The error, secrets already scrubbed.
    public var error: String

    public init(time: Date = Date(), error: String) {
        self.time = time
        self.error = SecretRegistry.shared.scrub(error)
    }

    public static func path(for pemPath: String) -> String { pemPath + ".renew-failed" }

    /// Writes the marker (mode 0600, atomically).
    /// - Throws: `OpsError` naming the file: a failure that cannot be remembered must be said.
    public func write(for pemPath: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(self)), to: Self.path(for: pemPath), mode: 0o600)
    }

    /// The marker beside `pemPath`, nil when there is none.
    /// - Throws: when it exists but cannot be read or parsed (status shows that instead).
    public static func read(for pemPath: String) throws -> RenewalFailure? {
        let path = Self.path(for: pemPath)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(RenewalFailure.self, from: data) } catch {
            throw OpsError(.invalidInput, "unreadable renewal-failure marker: \(error)", endpoint: path)
        }
    }

    /// Removes the marker after a renewal succeeded.
    public static func clear(for pemPath: String) throws {
        let path = Self.path(for: pemPath)
        guard unlink(path) == 0 || errno == ENOENT else {
            throw OpsError(.io, "cannot remove the renewal-failure marker: \(String(cString: strerror(errno)))", endpoint: path)
        }
    }
}

/// A certificate renewed with certbot and swapped into HAProxy without a restart, verified on
/// every TLS bind that serves it. A failure leaves HAProxy with the certificate it had and is
/// remembered (`RenewalFailure`) until a renewal succeeds.
public struct RenewCertificate: OpsOperation {
    public let renewal: CertificateRenewal

    public init(renewal: CertificateRenewal) { self.renewal = renewal }

    public var command: String { "cert renew" }
    public var action: String { "renew" }
    public var target: String { renewal.pemPath }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let first = !FileManager.default.fileExists(atPath: "\(renewal.liveDirectory)/fullchain.pem")
        var steps = ["certbot \(renewal.certbotArguments(first: first).joined(separator: " "))",
            "combine the chain and key into \(renewal.pemPath) (staged, validated\(renewal.haproxyConfig.map { " with haproxy -c -f \($0)" } ?? ""))",
            "swap it into HAProxy (\(renewal.swap.description))"]
        steps += renewal.verify.map { "verify the certificate served on \($0.host):\($0.port)" }
        return OperationPlan(steps: steps)
    }

    /// The PEM is valid for longer than certbot's renewal threshold (30 days) and no failure
    /// is remembered.
    public func check(in context: OperationContext) async throws -> Bool {
        guard try RenewalFailure.read(for: renewal.pemPath) == nil else { return false }
        let chain = try CertificateReader.read(path: renewal.pemPath)
        return !renewal.force && chain[0].daysUntilExpiry(now: Date()) > 30
    }

    public func run(in context: OperationContext) async throws -> CertificateRenewal.Outcome {
        do {
            let outcome = try await renewal.run()
            do { try RenewalFailure.clear(for: renewal.pemPath) } catch { context.progress("warning: \(error)") }
            return outcome
        } catch {
            do { try RenewalFailure(error: "\(error)").write(for: renewal.pemPath) } catch let markerError {
                // Status cannot show this failure later: say so now, and in the audit log.
                context.progress("warning: the failure is not remembered for 'whisperctl status': \(markerError)")
                context.record("remember-failure", RenewalFailure.path(for: renewal.pemPath), .failed("\(markerError)"), [])
            }
            throw error
        }
    }

    public func audit(_ outcome: CertificateRenewal.Outcome) -> OperationRecord {
        OperationRecord(outcome: .succeeded, details: [("renewed", .bool(outcome.renewed)), ("fingerprint_sha256", .string(outcome.fingerprint))])
    }
}

extension CertificateRenewal.Swap: CustomStringConvertible {
    public var description: String {
        switch self {
        case .runtimeAPI(let runtime): return "'set ssl cert' through the runtime API \(runtime.address)"
        case .systemdReload(let unit): return "systemctl reload \(unit)"
        case .command(let command): return "the reload command '\(command)'"
        }
    }
}
