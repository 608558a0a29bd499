import Foundation

/// `whisperctl audit`: the guide's security checklist as checks. Files are read (secrets, modes,
/// Compose and Kubernetes hardening), services are asked (Redis, PostgreSQL) and HAProxy is
/// probed from outside (TLS versions, HSTS, the HTTP redirect); the host's listening sockets come
/// from /proc/net. Each finding has a severity and a fix, as `diag`'s do.
public struct SecurityAudit: Sendable {
    public var inventory: Inventory
    /// Compose files given on the command line; otherwise those the servers' restart blocks name.
    public var composeFiles: [String] = []
    /// Directories of Kubernetes manifests.
    public var kubernetesDirectories: [String] = []
    /// Where plain HTTP is answered; by default port 80 of haproxy.frontend's host.
    public var httpURL: String?
    /// Read /proc below this directory.
    public var root = "/"
    /// Ports meant to listen beyond loopback.
    public var allowedPorts: Set<Int> = [22, 80, 443]

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    public func run(in environment: ProbeEnvironment) async -> DiagnosisReport {
        let started = ContinuousClock.now
        var findings: [Finding] = []
        var composes: [ComposeFile] = []
        for path in resolvedComposeFiles() {
            do {
                composes.append(try ComposeFile(path: path))
            } catch {
                findings.append(Finding("compose", "file", .unknown, "cannot read a Compose file", observed: "\(error)", source: AuditSource.containers))
            }
        }
        var envFiles: [DotEnv] = []
        let envPaths = resolvedEnvFiles(composes)
        for path in envPaths {
            do {
                if let file = try DotEnv.load(path: path) { envFiles.append(file) }
            } catch {
                findings.append(Finding("secrets", "env-file", .unknown, "a .env file does not parse", observed: "\(error)", source: AuditSource.secrets))
            }
        }
        let existingEnvPaths = envPaths.filter { FileManager.default.fileExists(atPath: $0) }
        var pems = inventory.certificatePaths
        if let config = inventory.haproxyConfig { pems += FileModeAudit.haproxyCertificates(config) }

        findings += SecretAudit(envFiles: envFiles, composeFiles: composes, haproxyConfig: inventory.haproxyConfig, inventory: inventory).findings()
        findings += await FileModeAudit(envFiles: existingEnvPaths, pemFiles: Array(Set(pems)).sorted()).findings()
        findings += composes.flatMap { ComposeAudit(file: $0).findings() }
        findings += kubernetesDirectories.flatMap { KubernetesAudit(directory: $0).findings() }
        findings += PortAudit(root: root, allowed: allowedPorts).findings()

        async let tls = probeTLS(in: environment)
        async let redis = probeRedis(in: environment)
        async let postgres = probePostgres(in: environment)
        findings += await tls + redis + postgres
        if composes.isEmpty && kubernetesDirectories.isEmpty {
            findings.append(Finding("containers", "files", .info, "no Compose file or Kubernetes manifests to audit",
                observed: "no --compose or --k8s, and no server's restart block names a Compose file", source: AuditSource.containers))
        }
        return DiagnosisReport(findings: findings, elapsed: ContinuousClock.now - started)
    }

    func probeTLS(in environment: ProbeEnvironment) async -> [Finding] {
        guard let frontend = inventory.haproxyFrontend else {
            return [Finding("tls", "frontend", .info, "TLS not probed: haproxy.frontend is not set", observed: "no haproxy.frontend in the inventory",
                source: AuditSource.tls, fix: "haproxy.frontend: wss://chat.example.com/ws in whisperctl.yml")]
        }
        return await TLSAudit(frontend: frontend, httpURL: httpURL).findings(in: environment)
    }

    func probeRedis(in environment: ProbeEnvironment) async -> [Finding] {
        do {
            guard let address = try inventory.redisAddress() else {
                return [Finding("redis", "password", .info, "Redis not audited: redis.addr is not set", observed: "no redis.addr", source: AuditSource.application)]
            }
            return await DataStoreAudit.redis(address, in: environment)
        } catch {
            return [Finding("redis", "password", .unknown, "redis.addr does not parse", observed: "\(error)", source: AuditSource.application)]
        }
    }

    func probePostgres(in environment: ProbeEnvironment) async -> [Finding] {
        guard let url = inventory.postgresURL else {
            return [Finding("postgres", "authentication", .info, "PostgreSQL not audited: postgres.url is not set", observed: "no postgres.url",
                source: AuditSource.application)]
        }
        return await DataStoreAudit.postgres(url, in: environment)
    }

    func resolvedComposeFiles() -> [String] {
        if !composeFiles.isEmpty { return composeFiles }
        var paths: [String] = []
        for server in inventory.servers {
            guard let restart = server.restart, restart.driver == .compose else { continue }
            let path = inventory.resolve(restart["file"] ?? "docker-compose.yml")
            if !paths.contains(path) { paths.append(path) }
        }
        return paths
    }

    /// The inventory's .env, the .env beside each Compose file, and the env_file of every service.
    func resolvedEnvFiles(_ composes: [ComposeFile]) -> [String] {
        var paths: [String] = []
        func add(_ path: String) {
            let standard = (path as NSString).standardizingPath
            if !paths.contains(standard) { paths.append(standard) }
        }
        if let dotenv = inventory.dotenvPath { add(dotenv) }
        for compose in composes {
            add(((compose.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".env"))
            for service in compose.services { service.envFiles.forEach(add) }
        }
        return paths
    }

    /// The hardening findings of one Compose file's text.
    public static func composeFindings(path: String, text: String) throws -> [Finding] {
        ComposeAudit(file: try ComposeFile(path: path, text: text)).findings()
    }

    /// The hardening findings of Kubernetes manifests given as text.
    public static func kubernetesFindings(_ manifests: [(file: String, text: String)]) -> [Finding] {
        KubernetesAudit.findings(manifests: manifests.map { ($0.file, $0.text) }, component: "k8s", below: ".")
    }
}
