import Foundation

/// `cert renew`: certbot without stopping HAProxy, the renewed files combined into HAProxy's PEM,
/// HAProxy's configuration validated with the new PEM, the PEM swapped in (runtime API, reload or
/// a command), and every TLS bind checked to present the new certificate. Each step must pass
/// before the next; a failure leaves the old PEM and HAProxy as they were.
public struct CertificateRenewal: Sendable {
    public enum Challenge: Sendable {
        /// certbot writes the HTTP-01 answer below this directory, which HAProxy (or a web
        /// server behind it) serves at /.well-known/acme-challenge/.
        case webroot(String)
        /// certbot answers HTTP-01 itself on this loopback port; HAProxy forwards
        /// /.well-known/acme-challenge/ to it (docs/certificates.md).
        case standalone(port: Int)
    }

    public enum Swap: Sendable {
        case runtimeAPI(HAProxyRuntimeAPI)
        case systemdReload(unit: String)
        case command(String)
    }

    public var domains: [String]
    public var certbotDirectory: String
    public var challenge: Challenge
    public var acmeServer: String?
    public var email: String?
    public var force: Bool
    /// HAProxy's PEM (the path in its `crt`).
    public var pemPath: String
    public var haproxyConfig: String?
    public var swap: Swap
    /// host:port of each TLS bind, checked after the swap.
    public var verify: [(host: String, port: Int)]
    public var emit: @Sendable (String) -> Void

    public init(
        domains: [String], certbotDirectory: String, challenge: Challenge, acmeServer: String?, email: String?, force: Bool, pemPath: String,
        haproxyConfig: String?, swap: Swap, verify: [(host: String, port: Int)], emit: @escaping @Sendable (String) -> Void
    ) {
        self.domains = domains
        self.certbotDirectory = certbotDirectory
        self.challenge = challenge
        self.acmeServer = acmeServer
        self.email = email
        self.force = force
        self.pemPath = pemPath
        self.haproxyConfig = haproxyConfig
        self.swap = swap
        self.verify = verify
        self.emit = emit
    }

    public struct Outcome: Sendable {
        public var renewed: Bool
        public var fingerprint: String
        public var notAfter: Date
        public var notes: [String]
    }

    var certName: String { domains[0] }
    var liveDirectory: String { "\(certbotDirectory)/live/\(certName)" }

    /// The certbot command: `certonly` for a first certificate, else `renew`.
    func certbotArguments(first: Bool) -> [String] {
        var arguments = first ? ["certonly"] : ["renew"]
        arguments += ["--non-interactive", "--cert-name", certName, "--config-dir", certbotDirectory,
                      "--work-dir", "\(certbotDirectory)/work", "--logs-dir", "\(certbotDirectory)/logs"]
        if first {
            arguments += ["--agree-tos"] + (email.map { ["--email", $0] } ?? ["--register-unsafely-without-email"])
            for domain in domains { arguments += ["-d", domain] }
        }
        switch challenge {
        case .webroot(let path): arguments += ["--webroot", "-w", path]
        case .standalone(let port): arguments += ["--standalone", "--http-01-port", "\(port)", "--http-01-address", "127.0.0.1"]
        }
        if let acmeServer { arguments += ["--server", acmeServer] }
        if force && !first { arguments.append("--force-renewal") }
        // certbot renew sleeps up to 8 minutes when it has no terminal; the schedule spreads runs itself.
        if !first { arguments.append("--no-random-sleep-on-renew") }
        return arguments
    }

    public func run() async throws -> Outcome {
        // 1. certbot, HAProxy untouched.
        let first = !FileManager.default.fileExists(atPath: "\(liveDirectory)/fullchain.pem")
        guard let certbot = HAProxyDiagnosis.executable("certbot") else { throw OpsError(.invalidInput, "certbot is not installed (apt-get install certbot)") }
        let arguments = certbotArguments(first: first)
        emit("running certbot \(arguments.joined(separator: " "))")
        let result = try await Subprocess.output(certbot, arguments, environment: ProcessInfo.processInfo.environment, pool: RestartDrivers.pool)
        guard result.termination.succeeded else {
            let tail = (result.errors + result.output).split(separator: "\n").suffix(6).joined(separator: " | ")
            throw OpsError(.serverError, "certbot \(arguments[0]) failed (\(result.termination)): \(tail)")
        }

        // 2. The renewed files as HAProxy's PEM.
        let chainPath = "\(liveDirectory)/fullchain.pem"
        let keyPath = "\(liveDirectory)/privkey.pem"
        guard let chainText = try? String(contentsOfFile: chainPath, encoding: .utf8), let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw OpsError(.io, "certbot succeeded but \(chainPath) or \(keyPath) cannot be read")
        }
        let bundle = try CertificateBundle.combine(
            certificates: try X509Certificate.parseAll(pem: chainText, source: chainPath), key: try PrivateKey.parse(pem: keyText, source: keyPath))
        let fingerprint = bundle.chain[0].fingerprint
        let current = (try? String(contentsOfFile: pemPath, encoding: .utf8)).flatMap { try? X509Certificate.parseAll(pem: $0, source: pemPath).first }
        if current?.fingerprint == fingerprint {
            emit("HAProxy already serves \(fingerprint.prefix(23))…: nothing to swap")
            return Outcome(renewed: false, fingerprint: fingerprint, notAfter: bundle.chain[0].notAfter, notes: bundle.notes)
        }

        // 3. Validated with the new PEM before anything changes.
        let staged = pemPath + ".new"
        try AtomicFile.write(Array(bundle.pem.utf8), to: staged, mode: 0o600)
        do {
            if let haproxyConfig { try await validate(haproxyConfig, staged: staged) }
        } catch {
            unlink(staged)
            throw error
        }

        // 4. The swap: the file first (a restart loads it), then HAProxy's running copy.
        guard rename(staged, pemPath) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(staged)
            throw OpsError(.io, "cannot put the new PEM in place: \(reason)", endpoint: pemPath)
        }
        AtomicFile.syncDirectory((pemPath as NSString).deletingLastPathComponent)
        emit("\(pemPath) replaced (\(bundle.chain[0].subject), until \(ISO8601DateFormatter().string(from: bundle.chain[0].notAfter)))")
        try await swapIn(bundle.pem)

        // 5. What clients see now.
        for endpoint in verify { try await verifyServed(endpoint, fingerprint: fingerprint) }
        return Outcome(renewed: true, fingerprint: fingerprint, notAfter: bundle.chain[0].notAfter, notes: bundle.notes)
    }

    /// `haproxy -c` on a copy of the configuration whose `crt` points at the staged PEM.
    func validate(_ configuration: String, staged: String) async throws {
        guard let haproxy = HAProxyDiagnosis.executable("haproxy") else { throw OpsError(.invalidInput, "haproxy is not installed here: cannot validate \(configuration)") }
        guard let text = try? String(contentsOfFile: configuration, encoding: .utf8) else { throw OpsError(.io, "cannot read \(configuration)") }
        let copy = configuration + ".whisperctl-check"
        try AtomicFile.write(Array(text.replacingOccurrences(of: pemPath, with: staged).utf8), to: copy, mode: 0o600)
        defer { unlink(copy) }
        let result = try await Subprocess.output(haproxy, ["-c", "-q", "-f", copy], pool: RestartDrivers.pool)
        guard result.termination.succeeded else {
            let detail = (result.errors + result.output).split(separator: "\n").prefix(4).joined(separator: " | ")
            throw OpsError(.invalidInput, "haproxy -c rejects the configuration with the new PEM, nothing changed: \(detail)", endpoint: configuration)
        }
        emit("haproxy -c accepts \(configuration) with the new PEM")
    }

    func swapIn(_ pem: String) async throws {
        switch swap {
        case .runtimeAPI(let runtime):
            let started = try await runtime.execute("set ssl cert \(pemPath) <<\n\(pem)")
            guard started.contains("Transaction") || started.contains("transaction") else {
                throw OpsError(.serverError, "set ssl cert: \(started.trimmingCharacters(in: .whitespacesAndNewlines))", endpoint: "haproxy runtime API \(runtime.address)")
            }
            let committed = try await runtime.execute("commit ssl cert \(pemPath)")
            guard committed.contains("Success") else {
                // The commit failed either way; an abort that fails leaves the transaction to expire with the connection.
                _ = try? await runtime.execute("abort ssl cert \(pemPath)")
                throw OpsError(.serverError, "commit ssl cert: \(committed.trimmingCharacters(in: .whitespacesAndNewlines))", endpoint: "haproxy runtime API \(runtime.address)")
            }
            emit("HAProxy took the new certificate through its runtime API (set/commit ssl cert): no reload, no dropped connection")
        case .systemdReload(let unit):
            try await ShellRunner(timeout: .seconds(60), directory: "/").run("systemctl reload \(ShellRunner.quote(unit))", what: "systemctl reload")
            emit("systemctl reload \(unit)")
        case .command(let command):
            try await ShellRunner(timeout: .seconds(120), directory: "/").run(command, what: "the reload command")
            emit("ran the reload command")
        }
    }

    func verifyServed(_ endpoint: (host: String, port: Int), fingerprint: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var seen = "nothing"
        while ContinuousClock.now < deadline {
            if let chain = try? await TLSPeerChain.fetch(host: endpoint.host, port: endpoint.port, serverName: domains.first, timeout: .seconds(2)), let leaf = chain.first {
                if leaf.fingerprint == fingerprint {
                    emit("\(endpoint.host):\(endpoint.port) presents the new certificate")
                    return
                }
                seen = leaf.fingerprint
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw OpsError(.serverError, "after the swap \(endpoint.host):\(endpoint.port) still presents \(seen.prefix(23))…, not \(fingerprint.prefix(23))…", endpoint: "\(endpoint.host):\(endpoint.port)")
    }

    /// The TLS binds of a HAProxy configuration that serve `pemPath` (`bind ADDR:PORT ssl crt PEM`),
    /// as addresses to handshake with: a wildcard address is reached on loopback.
    public static func binds(inConfiguration text: String, servingPEM pemPath: String) -> [(host: String, port: Int)] {
        var endpoints: [(host: String, port: Int)] = []
        for raw in text.split(separator: "\n") {
            let words = raw.split(separator: "#", maxSplits: 1).first.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) } ?? []
            guard words.first == "bind", words.count >= 2, words.contains("ssl"),
                let crt = words.firstIndex(of: "crt"), crt + 1 < words.count, words[crt + 1] == pemPath || pemPath.hasPrefix(words[crt + 1] + "/")
            else { continue }
            for address in words[1].split(separator: ",") {
                guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { continue }
                var host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                if host.isEmpty || host == "*" || host == "0.0.0.0" || host == "::" || host.hasPrefix("ipv4@") && host.hasSuffix("0.0.0.0") { host = "127.0.0.1" }
                if host.hasPrefix("ipv4@") { host = String(host.dropFirst(5)) }
                endpoints.append((host, port))
            }
        }
        return endpoints
    }
}
