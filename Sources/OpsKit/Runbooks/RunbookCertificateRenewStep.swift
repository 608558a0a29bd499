import Foundation

/// `cert.renew`: certbot without stopping HAProxy, the PEM validated with `haproxy -c`, swapped in
/// hitless and verified on every TLS bind, as `whisperctl cert renew` does. A failure leaves the
/// old certificate served.
struct CertificateRenewStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .mutate }

    private func operation(_ context: RunbookStepContext) throws -> RenewCertificate {
        var request = CertificateRenewalRequest(domains: arguments.list("domains"))
        request.certbotDirectory = arguments.string("certbot_dir") ?? request.certbotDirectory
        request.webroot = arguments.string("webroot")
        request.http01Port = try arguments.number("http_01_port").map { Int($0) }
        request.acmeServer = arguments.string("acme_server").flatMap { $0.isEmpty ? nil : $0 }
        request.email = arguments.string("email")
        request.force = arguments.bool("force") ?? false
        request.pem = arguments.string("pem").map(context.inventory.resolve)
        request.method = arguments.string("method")
        request.reloadCommand = arguments.string("reload_command")
        request.verify = arguments.list("verify")
        let progress = context.progress
        return RenewCertificate(renewal: try request.renewal(for: context.inventory, emit: progress))
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let operation = try operation(context)
            let plan = try await context.operations.plan(operation)
            var current: String?
            if let chain = try? CertificateReader.read(path: operation.renewal.pemPath), let leaf = chain.first {
                current = "now: \(operation.renewal.pemPath) expires in \(leaf.daysUntilExpiry(now: Date())) days"
            }
            return RunbookPreview(effect: .mutate, description: plan.steps.joined(separator: "; "), current: current)
        } catch {
            return RunbookPreview(effect: .mutate, description: "renew \(arguments.list("domains").joined(separator: ", "))", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let outcome = try await context.operations.run(try operation(context), confirmed: true)
        let notAfter = ISO8601DateFormatter().string(from: outcome.notAfter)
        return RunbookStepOutput(
            outputs: ["renewed": .bool(outcome.renewed), "fingerprint": .string(outcome.fingerprint), "not_after": .string(notAfter)],
            summary: outcome.renewed ? "renewed: HAProxy serves \(outcome.fingerprint.prefix(16))…, valid until \(notAfter)" : "nothing renewed (valid until \(notAfter))")
    }

    /// The PEM is valid past certbot's renewal threshold and no failure is remembered.
    func check(in context: RunbookStepContext) async throws -> Bool? {
        let operation = try operation(context)
        return try await operation.check(in: context.operations.context(for: operation))
    }
}
