import Foundation

/// What an operator asks of a renewal (`cert renew`'s flags, a `cert.renew` step's arguments),
/// turned into a `CertificateRenewal` with the inventory's defaults: its first cert as the PEM,
/// the runtime API as the swap when it is configured, and every TLS bind of `haproxy.config`
/// serving that PEM as the endpoints to verify.
public struct CertificateRenewalRequest: Sendable {
    public var domains: [String]
    public var certbotDirectory = "/etc/letsencrypt"
    public var webroot: String?
    public var http01Port: Int?
    public var acmeServer: String?
    public var email: String?
    public var force = false
    public var pem: String?
    /// runtime-api, systemd or command.
    public var method: String?
    public var reloadCommand: String?
    /// host:port of each TLS bind to check after the swap.
    public var verify: [String] = []

    public init(domains: [String]) { self.domains = domains }

    /// - Throws: `OpsError(.invalidInput)` saying what is missing or malformed.
    public func renewal(for inventory: Inventory, emit: @escaping @Sendable (String) -> Void) throws -> CertificateRenewal {
        guard !domains.isEmpty else { throw OpsError(.invalidInput, "no domain: the certificate's names are needed") }
        if webroot != nil && http01Port != nil { throw OpsError(.invalidInput, "a webroot or an HTTP-01 port, not both") }
        guard let pemPath = pem ?? inventory.certificatePaths.first else {
            throw OpsError(.invalidInput, "no PEM: name one, or list certs in the inventory")
        }
        let swap: CertificateRenewal.Swap
        switch method ?? (inventory.haproxyRuntimeAPI != nil ? "runtime-api" : "systemd") {
        case "runtime-api":
            guard let text = inventory.haproxyRuntimeAPI, let runtime = try? HAProxyRuntimeAPI(parsing: text, timeout: .seconds(5)) else {
                throw OpsError(.invalidInput, "the runtime-api method needs haproxy.runtime_api")
            }
            swap = .runtimeAPI(runtime)
        case "command":
            guard let reloadCommand else { throw OpsError(.invalidInput, "the command method needs a reload command") }
            swap = .command(reloadCommand)
        case "systemd": swap = .systemdReload(unit: "haproxy")
        case let other: throw OpsError(.invalidInput, "method '\(other)': runtime-api, systemd or command")
        }
        var endpoints = try verify.map { try HostPort.split($0, defaultPort: 443, what: "verify") }
        if endpoints.isEmpty, let config = inventory.haproxyConfig, let text = try? String(contentsOfFile: config, encoding: .utf8) {
            endpoints = CertificateRenewal.binds(inConfiguration: text, servingPEM: pemPath)
        }
        return CertificateRenewal(
            domains: domains, certbotDirectory: inventory.resolve(certbotDirectory),
            challenge: webroot.map { .webroot(inventory.resolve($0)) } ?? .standalone(port: http01Port ?? 8888),
            acmeServer: acmeServer, email: email, force: force, pemPath: pemPath, haproxyConfig: inventory.haproxyConfig, swap: swap,
            verify: endpoints, emit: emit)
    }
}
