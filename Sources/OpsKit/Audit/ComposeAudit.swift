import Foundation

/// The Compose file's hardening: an internal backend network, resource limits, non-root users,
/// no Docker socket, read-only root filesystems, no privileged containers, only HAProxy published.
struct ComposeAudit {
    var file: ComposeFile

    /// Official images that do not run their process as root, and how they avoid it.
    static let nonRootImages: [String: String] = [
        "redis": "the entrypoint drops to the redis user",
        "postgres": "the entrypoint drops to the postgres user",
        "haproxy": "USER haproxy since 2.4",
        "grafana/grafana": "USER 472",
        "prom/prometheus": "USER nobody",
    ]
    static let socketNames = ["docker.sock", "containerd.sock", "podman.sock", "crio.sock"]

    func findings() -> [Finding] {
        let component = "compose \((file.path as NSString).lastPathComponent)"
        func judged(_ check: String, _ offenders: [(String, String)], severity: Finding.Severity, problem: String, fine: String, fix: String) -> Finding {
            guard !offenders.isEmpty else {
                return Finding(component, check, .ok, fine, observed: "\(file.services.count) services", source: AuditSource.containers)
            }
            return Finding(
                component, check, severity, "\(offenders.count) of \(file.services.count) services \(problem)",
                observed: "\(file.path): " + offenders.map { "services.\($0.0) (\($0.1))" }.joined(separator: "; "),
                source: AuditSource.containers, fix: fix)
        }
        let services = file.services
        var findings: [Finding] = []

        let unbounded = services.compactMap { service -> (String, String)? in
            let missing = [service.memoryLimit ? nil : "memory", service.cpuLimit ? nil : "cpus"].compactMap { $0 }
            return missing.isEmpty ? nil : (service.name, "no \(missing.joined(separator: " or ")) limit")
        }
        findings.append(judged("limits", unbounded, severity: .warning, problem: "have no resource limit", fine: "every service has memory and CPU limits",
            fix: "deploy: {resources: {limits: {cpus: \"2\", memory: 1g}}} on each service"))

        let rooted = services.compactMap { service -> (String, String)? in
            let (isRoot, how) = runsAsRoot(service)
            return isRoot ? (service.name, how) : nil
        }
        findings.append(judged("non-root", rooted, severity: .warning, problem: "run as root", fine: "no service runs as root",
            fix: "user: \"10001:10001\" on the service (or USER in its Dockerfile)"))

        let sockets = services.compactMap { service -> (String, String)? in
            service.volumeSources.first { source in Self.socketNames.contains { source.hasSuffix($0) } }.map { (service.name, "mounts \($0)") }
        }
        findings.append(judged("docker-socket", sockets, severity: .critical, problem: "mount the container engine's socket (root on the host)",
            fine: "no service mounts the Docker socket", fix: "remove the socket from volumes:; nothing in this stack needs it"))

        let writable = services.filter { !$0.readOnly }.map { ($0.name, "no read_only: true") }
        findings.append(judged("read-only", writable, severity: .warning, problem: "have a writable root filesystem",
            fine: "every service has a read-only root filesystem", fix: "read_only: true, with tmpfs: for the paths it writes (/tmp, /var/run/...)"))

        let privileged = services.filter(\.privileged).map { ($0.name, "privileged: true") }
        findings.append(judged("privileged", privileged, severity: .critical, problem: "are privileged", fine: "no service is privileged",
            fix: "remove privileged: true; add only the capability it needs (cap_add)"))

        for service in services where service.repository.hasSuffix("postgres") {
            let arguments = service.environment["POSTGRES_INITDB_ARGS"] ?? ""
            let scram = arguments.contains("--auth-host=scram-sha-256")
            findings.append(Finding(
                component, "postgres-auth", scram ? .ok : .warning,
                scram ? "PostgreSQL is initialised with scram-sha-256 for network logins" : "PostgreSQL is not initialised with scram-sha-256",
                observed: "\(file.path): services.\(service.name).environment.POSTGRES_INITDB_ARGS \(arguments.isEmpty ? "unset" : "= \(arguments)")",
                source: AuditSource.application, fix: scram ? nil : "POSTGRES_INITDB_ARGS: --auth-host=scram-sha-256 (a new data directory, or pg_hba.conf by hand)"))
        }
        findings.append(publishedPorts(component))
        findings.append(backendNetwork(component))
        return findings
    }

    /// Whether a service runs as root, and what says so either way.
    func runsAsRoot(_ service: ComposeFile.Service) -> (Bool, String) {
        if let user = service.user { return ComposeFile.isRoot(user) ? (true, "user: \(user)") : (false, "user: \(user)") }
        let builder = service.dockerfile ?? file.services.first { $0.image == service.image && $0.dockerfile != nil }?.dockerfile
        if let builder {
            guard let user = ComposeFile.dockerfileUser(builder) else { return (true, "\((builder as NSString).lastPathComponent) has no USER") }
            return ComposeFile.isRoot(user) ? (true, "USER \(user)") : (false, "USER \(user)")
        }
        if let how = Self.nonRootImages[service.repository] { return (false, how) }
        return (true, "\(service.image ?? "no image") runs as its default user, root unless the image says otherwise")
    }

    /// Only HAProxy publishes, and only 80 and 443; nothing of the backend reaches the host.
    func publishedPorts(_ component: String) -> Finding {
        var critical: [String] = []
        var unexpected: [String] = []
        for service in file.services {
            for port in service.ports {
                guard let (address, hostPort) = Self.hostSide(port), !ListeningSocket.isLoopback(address) else { continue }
                let where_ = "services.\(service.name) publishes \(port)"
                if service.isProxy && (hostPort == "80" || hostPort == "443") { continue }
                if service.isDataStore || ListeningSocket.backendPorts[Int(hostPort) ?? 0] != nil { critical.append(where_) } else { unexpected.append(where_) }
            }
        }
        if critical.isEmpty && unexpected.isEmpty {
            return Finding(component, "published-ports", .ok, "only HAProxy's 80 and 443 are published", observed: file.path, source: AuditSource.network)
        }
        return Finding(
            component, "published-ports", critical.isEmpty ? .warning : .critical,
            critical.isEmpty ? "ports other than 80 and 443 are published" : "backend ports are published on the host",
            observed: "\(file.path): " + (critical + unexpected).joined(separator: "; "), source: AuditSource.network,
            fix: "remove those ports: entries (or bind them to 127.0.0.1:PORT:PORT); reach the backend through the internal network")
    }

    /// Every network holding Redis, NATS or PostgreSQL is `internal: true`.
    func backendNetwork(_ component: String) -> Finding {
        let stores = file.services.filter(\.isDataStore)
        guard !stores.isEmpty else {
            return Finding(component, "backend-network", .info, "no Redis, NATS or PostgreSQL service in this file", observed: file.path, source: AuditSource.network)
        }
        var open: [String] = []
        for service in stores {
            for network in service.networks where file.networks[network] != true {
                open.append("services.\(service.name) is on \(network), which is not internal")
            }
        }
        if open.isEmpty {
            let names = Set(stores.flatMap(\.networks)).sorted().joined(separator: ", ")
            return Finding(component, "backend-network", .ok, "Redis, NATS and PostgreSQL are only on internal networks", observed: "\(file.path): \(names)",
                source: AuditSource.network)
        }
        return Finding(component, "backend-network", .warning, "a data store is on a network with a route out", observed: "\(file.path): " + open.joined(separator: "; "),
            source: AuditSource.network, fix: "networks: {backend: {internal: true}} and the data stores on backend only")
    }

    /// `80:80` → (all addresses, 80); `127.0.0.1:5432:5432` → (127.0.0.1, 5432); a bare `8080` publishes on a random host port.
    static func hostSide(_ port: String) -> (address: String, port: String)? {
        let spec = port.split(separator: "/").first.map(String.init) ?? port
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return ("0.0.0.0", "random")
        case 2: return ("0.0.0.0", parts[0])
        default: return (parts.dropLast(2).joined(separator: ":").trimmingCharacters(in: CharacterSet(charactersIn: "[]")), parts[parts.count - 2])
        }
    }
}
