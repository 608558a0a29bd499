import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import OpsKit

struct Cert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "HAProxy's certificate: combine, check, renew without stopping HAProxy, self-signed for tests.",
        subcommands: [CertCombine.self, CertCheck.self, CertRenew.self, CertSelfSigned.self])
}

/// Reads a file or exits 2 naming it.
private func readText(_ path: String, command: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        printError("whisperctl cert \(command): \(FileManager.default.fileExists(atPath: path) ? "cannot read" : "no such file"): \(path)")
        throw ExitStatus.failed
    }
    return String(decoding: data, as: UTF8.self)
}

struct CertCombine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combine",
        abstract: "Write HAProxy's PEM: the leaf, its intermediates in issuing order, then the key, each link checked.",
        discussion: """
            Refuses a key that matches no certificate, a certificate that belongs to no chain, a broken signature, \
            an expired leaf (unless --allow-expired) and an encrypted key without its passphrase. Reorders a \
            chain given out of order and says so. Writes atomically, mode 0600.

            Example:
              whisperctl cert combine --cert fullchain.pem --key privkey.pem --out haproxy/certs/whisper.pem
            """)

    @Option(parsing: .singleValue, help: ArgumentHelp("A PEM with the certificate and its chain; repeat for several files.", valueName: "file"))
    var cert: [String]
    @Option(help: ArgumentHelp("The private key (PEM).", valueName: "file"))
    var key: String
    @Option(help: ArgumentHelp("Where to write the combined PEM.", valueName: "file"))
    var out: String
    @Option(name: .customLong("key-passphrase-file"), help: ArgumentHelp("The passphrase of an encrypted key, in a file.", valueName: "file"))
    var keyPassphraseFile: String?
    @Flag(name: .customLong("allow-expired"), help: "Combine an expired certificate anyway.")
    var allowExpired = false
    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            var certificates: [X509Certificate] = []
            for path in cert { certificates += try X509Certificate.parseAll(pem: try readText(path, command: "combine"), source: path) }
            let passphrase = try keyPassphraseFile.map { try readText($0, command: "combine").trimmingCharacters(in: .newlines) }
            let privateKey = try PrivateKey.parse(pem: try readText(key, command: "combine"), source: key, passphrase: passphrase)
            let bundle = try CertificateBundle.combine(certificates: certificates, key: privateKey, allowExpired: allowExpired)
            try AtomicFile.write(Array(bundle.pem.utf8), to: out, mode: 0o600)
            let leaf = bundle.chain[0]
            if json {
                print(JSONValue.object([
                    ("out", .string(out)), ("subject", .string(leaf.subject)), ("fingerprint_sha256", .string(leaf.fingerprint)),
                    ("chain", .array(bundle.chain.map { .string($0.subject) })), ("key", .string(privateKey.description)),
                    ("notes", .array(bundle.notes.map(JSONValue.string))),
                ]).serialized())
            } else {
                for note in bundle.notes { print("note: \(note)") }
                print("wrote \(out) (0600): \(bundle.chain.map(\.subject).joined(separator: " → ")), then the \(privateKey.description) key")
            }
        } catch let error as OpsError {
            printError("whisperctl cert combine: refusing: \(error)")
            throw ExitStatus.failed
        }
    }
}

struct CertCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Describe and judge certificates: the inventory's, given files, or what an endpoint presents.",
        discussion: """
            Subject, names, issuer, validity and days left, key type and size, chain order, key match (when the \
            PEM holds a key), OCSP must-staple, and whether it covers --host.
            Exit status: 0 ok, 1 under --warn-days (30), 2 under --critical-days (7), expired, broken or not covering --host.

            Examples:
              whisperctl cert check
              whisperctl cert check haproxy/certs/whisper.pem --host chat.example.com
              whisperctl cert check --connect chat.example.com:443
            """)

    @OptionGroup var inventory: InventoryOptions
    @Argument(help: ArgumentHelp("PEM files (default: the inventory's certs).", valueName: "file"))
    var files: [String] = []
    @Option(help: ArgumentHelp("Read the chain a TLS server presents.", valueName: "host:port"))
    var connect: String?
    @Option(help: ArgumentHelp("SNI for --connect (default: the host).", valueName: "name"))
    var servername: String?
    @Option(help: ArgumentHelp("A host name the certificate must cover.", valueName: "name"))
    var host: String?
    @Option(name: .customLong("warn-days")) var warnDays = 30
    @Option(name: .customLong("critical-days")) var criticalDays = 7
    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        var inspections: [CertificateInspection] = []
        var failures: [String] = []
        if let connect {
            do {
                let (hostName, port) = try HostPort.split(connect, defaultPort: 443, what: "--connect")
                let chain = try await TLSPeerChain.fetch(host: hostName, port: port, serverName: servername)
                inspections.append(CertificateInspection(source: connect, chain: chain, keyMatches: nil, host: host ?? servername, warnDays: warnDays, criticalDays: criticalDays))
            } catch {
                failures.append("\(connect): \(error)")
            }
        }
        var paths = files
        if paths.isEmpty && connect == nil {
            paths = try inventory.loadOrExit(json: json).certificatePaths
            if paths.isEmpty {
                printError("whisperctl cert check: no certificate: name files, --connect HOST:PORT, or list certs in the inventory")
                throw ExitStatus.unknown
            }
        }
        for path in paths {
            do {
                inspections.append(try CertificateInspection.file(path, host: host, warnDays: warnDays, criticalDays: criticalDays))
            } catch {
                failures.append("\(error)")
            }
        }
        if json {
            print(JSONValue.object([
                ("certificates", .array(inspections.map(\.json))), ("errors", .array(failures.map(JSONValue.string))),
            ]).serialized())
        } else {
            print(inspections.map(\.text).joined(separator: "\n\n"))
            for failure in failures { printError("✗ \(failure)") }
        }
        let worst = HealthStatus.worst(inspections.map(\.status) + (failures.isEmpty ? [] : [.critical]))
        switch worst {
        case .ok: return
        case .warning: throw ExitStatus.warning
        default: throw ExitStatus.critical
        }
    }
}

struct CertRenew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Renew with certbot without stopping HAProxy, then validate and swap the PEM in, hitless.",
        discussion: """
            certbot renew (or certonly for a first certificate) with a webroot or its standalone server on a \
            loopback port that HAProxy forwards /.well-known/acme-challenge/ to; the renewed files combined into \
            the HAProxy PEM; haproxy -c with the new PEM; then the swap: the runtime API's set/commit ssl cert \
            (the default when haproxy.runtime_api is set), systemctl reload, or --reload-command; then every \
            --verify endpoint must present the new certificate. A failure changes nothing, exits 2, is written to \
            the audit log, and shows in 'whisperctl status' until a renewal succeeds. Takes the operations lock.

            Example:
              whisperctl cert renew --domain chat.example.com --certbot-dir /etc/letsencrypt --http-01-port 8888 \\
                --pem /etc/haproxy/certs/whisper.pem --verify 127.0.0.1:443
            """)

    // Only --config of the inventory options: --server is certbot's ACME directory here.
    @Option(name: .long, help: ArgumentHelp("The deployment file.", discussion: "Default: $WHISPERCTL_CONFIG, then ./whisperctl.yml.", valueName: "path"))
    var config: String?
    @OptionGroup var lock: LockOptions
    @Option(parsing: .singleValue, help: ArgumentHelp("The certificate's names (the first names it).", valueName: "name"))
    var domain: [String] = []
    @Option(name: .customLong("certbot-dir"), help: ArgumentHelp("certbot's --config-dir (work and logs below it).", valueName: "dir"))
    var certbotDirectory = "/etc/letsencrypt"
    @Option(help: ArgumentHelp("HTTP-01 through a webroot directory.", valueName: "dir"))
    var webroot: String?
    @Option(name: .customLong("http-01-port"), help: ArgumentHelp("HTTP-01 through certbot's standalone server on this loopback port.", valueName: "port"))
    var http01Port: Int?
    @Option(help: ArgumentHelp("An ACME directory URL for certbot (e.g. a staging or test CA).", valueName: "url"))
    var server: String?
    @Option(help: "The account's e-mail for a first certificate.")
    var email: String?
    @Flag(help: "Renew even when certbot would say it is not due.")
    var force = false
    @Option(help: ArgumentHelp("HAProxy's PEM (default: the inventory's first cert).", valueName: "file"))
    var pem: String?
    @Option(help: ArgumentHelp("How HAProxy takes it: runtime-api, systemd or command (default: runtime-api when configured, else systemd).", valueName: "method"))
    var method: String?
    @Option(name: .customLong("reload-command"), help: "With --method command.")
    var reloadCommand: String?
    @Option(parsing: .singleValue, help: ArgumentHelp("A TLS bind that must present the new certificate after the swap.", valueName: "host:port"))
    var verify: [String] = []
    @Option(name: .customLong("install-schedule"), help: ArgumentHelp("Instead of renewing, write the twice-daily renewal as a cron entry or a systemd timer.", valueName: "cron|systemd"))
    var installSchedule: String?
    @Option(name: .customLong("schedule-dir"), help: ArgumentHelp("Write the schedule here instead of /etc/cron.d or /etc/systemd/system.", valueName: "dir"))
    var scheduleDirectory: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if installSchedule == nil, domain.isEmpty { throw ValidationError("--domain NAME is required") }
        if webroot != nil && http01Port != nil { throw ValidationError("--webroot or --http-01-port, not both") }
        if let method, !["runtime-api", "systemd", "command"].contains(method) { throw ValidationError("--method is runtime-api, systemd or command") }
        if method == "command" && reloadCommand == nil { throw ValidationError("--method command needs --reload-command") }
        if let installSchedule, !["cron", "systemd"].contains(installSchedule) { throw ValidationError("--install-schedule is cron or systemd") }
        for endpoint in verify {
            do { _ = try HostPort.split(endpoint, defaultPort: 443, what: "--verify") } catch { throw ValidationError("\(error)") }
        }
    }

    /// Paths typed on this command line are relative to here, not to the inventory (and a
    /// schedule runs elsewhere).
    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    func run() async throws {
        let deployment = try InventoryOptions.loadOrExit(InventoryLoader(explicitPath: config, flags: [:]), json: json)
        if let installSchedule { return try await writeSchedule(installSchedule, deployment: deployment) }
        var request = CertificateRenewalRequest(domains: domain)
        request.certbotDirectory = absolute(certbotDirectory)
        request.webroot = webroot.map(absolute)
        request.http01Port = http01Port
        request.acmeServer = server
        request.email = email
        request.force = force
        request.pem = pem.map(absolute)
        request.method = method
        request.reloadCommand = reloadCommand
        request.verify = verify
        let quiet = json
        let renewal: CertificateRenewal
        do {
            renewal = try request.renewal(for: deployment, emit: { line in if !quiet { print(line) } })
        } catch {
            printError("whisperctl cert renew: \(error)")
            throw ExitStatus.unknown
        }
        let pemPath = renewal.pemPath
        if renewal.verify.isEmpty && !json {
            print("note: no TLS bind to check after the swap (--verify HOST:PORT, or haproxy.config with 'bind ... ssl crt \(pemPath)')")
        }
        let runner = Mutation.runner(deployment, wait: lock.wait, yes: true, quiet: json)
        let outcome: CertificateRenewal.Outcome
        do {
            outcome = try await runner.run(RenewCertificate(renewal: renewal))
        } catch {
            printError("whisperctl cert renew: FAILED, HAProxy keeps the certificate it had: \(error)")
            throw ExitStatus(error)
        }
        if json {
            print(JSONValue.object([
                ("renewed", .bool(outcome.renewed)), ("pem", .string(pemPath)), ("fingerprint_sha256", .string(outcome.fingerprint)),
                ("not_after", .string(ISO8601DateFormatter().string(from: outcome.notAfter))), ("notes", .array(outcome.notes.map(JSONValue.string))),
            ]).serialized())
        } else {
            print(outcome.renewed ? "renewed: HAProxy serves the new certificate" : "nothing renewed")
        }
    }

    /// Twice a day, as certbot's own timer does; the same flags as this run.
    func writeSchedule(_ kind: String, deployment: Inventory) async throws {
        var words = [ThisExecutable.path, "cert", "renew"] + domain.flatMap { ["--domain", $0] } + ["--certbot-dir", absolute(certbotDirectory)]
        if let webroot { words += ["--webroot", absolute(webroot)] }
        if let http01Port { words += ["--http-01-port", "\(http01Port)"] }
        if let server { words += ["--server", server] }
        if let pem { words += ["--pem", absolute(pem)] }
        if let method { words += ["--method", method] }
        for endpoint in verify { words += ["--verify", endpoint] }
        if let config = deployment.absoluteConfigPath { words += ["--config", config] }
        let command = words.map(BackupSchedule.quote).joined(separator: " ")
        let name = "whisperctl-cert-renew-\(deployment.deployment)"
        let files: [(String, String)]
        if kind == "cron" {
            files = [("\(scheduleDirectory ?? "/etc/cron.d")/\(name)", "# Renew the certificate twice a day (whisperctl cert renew --install-schedule)\n17 3,15 * * * root \(command.replacingOccurrences(of: "%", with: "\\%")) 2>&1 | logger -t \(name)\n")]
        } else {
            let directory = scheduleDirectory ?? "/etc/systemd/system"
            files = [
                ("\(directory)/\(name).service", "[Unit]\nDescription=Renew the Whisper certificate and swap it into HAProxy\n\n[Service]\nType=oneshot\nExecStart=\(command)\n"),
                ("\(directory)/\(name).timer", "[Unit]\nDescription=Renew the Whisper certificate twice a day\n\n[Timer]\nOnCalendar=*-*-* 03,15:17:00\nRandomizedDelaySec=1h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"),
            ]
        }
        let runner = Mutation.runner(deployment, wait: nil, yes: true, quiet: true)
        for (path, text) in files {
            try await Mutation.run(runner, InstallSchedule(command: "cert renew", file: (path, text)), command: "cert renew --install-schedule")
            print("wrote \(path)")
        }
        if kind == "systemd" { print("enable it: systemctl daemon-reload && systemctl enable --now \(name).timer") }
    }
}

struct CertSelfSigned: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-signed", abstract: "A key, a self-signed certificate and the combined PEM, for testing.",
        discussion: "Example:\n  whisperctl cert self-signed --cn chat.test --san localhost --san 127.0.0.1 --out haproxy/certs")

    @Option(help: "The common name (also a SAN).")
    var cn: String
    @Option(parsing: .singleValue, help: "More names (DNS names or IP addresses).")
    var san: [String] = []
    @Option(help: "Days of validity.")
    var days = 365
    @Option(help: ArgumentHelp("The directory for key.pem, cert.pem and combined.pem.", valueName: "dir"))
    var out: String
    @Option(name: .customLong("key-type"), help: "ec (P-256) or rsa (2048).")
    var keyType = "ec"

    func validate() throws {
        guard ["ec", "rsa"].contains(keyType) else { throw ValidationError("--key-type is ec or rsa") }
        guard (1...3650).contains(days) else { throw ValidationError("--days is 1 to 3650") }
    }

    func run() async throws {
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let key = try PrivateKey.generate(rsaBits: keyType == "rsa" ? 2048 : nil)
            let certificate = try SelfSignedCertificate.make(commonName: cn, alternativeNames: san, days: days, key: key)
            try AtomicFile.write(Array(key.pem.utf8), to: "\(out)/key.pem", mode: 0o600)
            try AtomicFile.write(Array(certificate.pem.utf8), to: "\(out)/cert.pem", mode: 0o644)
            try AtomicFile.write(Array((certificate.pem + key.pem).utf8), to: "\(out)/combined.pem", mode: 0o600)
            print("wrote \(out)/key.pem, cert.pem and combined.pem (\(key.description), \(days) days, names: \(([cn] + san).joined(separator: ", ")))")
        } catch {
            printError("whisperctl cert self-signed: \(error)")
            throw ExitStatus.failed
        }
    }
}
