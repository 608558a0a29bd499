/// The fixed set of finding ids `diag` can report, `component.check`, so a runbook's
/// `steps.triage.found("redis.maxmemory-policy")` is checked when it is written, not found to be
/// always false at 3 a.m. A test runs every component and fails on an id missing here.
public enum FindingCatalogue {
    public static let ids: Set<String> = {
        var ids: Set<String> = [
            "redis.reachable", "redis.query", "redis.latency", "redis.memory", "redis.maxmemory-policy", "redis.clients",
            "redis.rejected-connections", "redis.persistence", "redis.tcp-backlog", "redis.hz", "redis.timeout", "redis.io-threads",
            "redis.replication", "redis.slowlog", "redis.match-queue", "redis.sessions",
            "nats.reachable", "nats.rtt", "nats.connections", "nats.slow-consumers", "nats.max_payload", "nats.max_pending",
            "nats.write_deadline", "nats.jetstream",
            "haproxy.reachable", "haproxy.backend", "haproxy.server", "haproxy.maxconn", "haproxy.config", "haproxy.config-check",
            "haproxy.timeout-tunnel", "haproxy.timeout-client", "haproxy.timeout-server",
            "postgres.reachable", "postgres.connections", "postgres.tables", "postgres.long-queries", "postgres.lock-waits",
            "postgres.replication", "postgres.migrations", "postgres.query",
            "server.reachable", "server.metrics", "server.health", "server.draining", "server.rejections", "server.disconnections",
            "server.delivery-p99", "server.memory", "server.open-files",
            "kernel.somaxconn-vs-redis", "kernel.vm.overcommit_memory", "kernel.transparent_hugepage", "kernel.memory", "kernel.open-files",
            "cert.certificate",
        ]
        for component in DeploymentDiagnosis.components { ids.insert("\(component).configured") }
        for setting in KernelDiagnosis(root: "/", tier: CapacityTier(named: "100k")!).settings { ids.insert("kernel.\(setting.key)") }
        return ids
    }()

    /// Ids sorted, for error messages.
    public static var sorted: [String] { ids.sorted() }
}

extension Finding {
    /// `component.check`, the component's kind for a server (`server ws1` → `server`), one id
    /// for every certificate and every process's open-files check.
    public var id: String {
        let kind = component.split(separator: " ").first.map(String.init) ?? component
        if kind == "cert" && check != "configured" { return "cert.certificate" }
        if check.hasSuffix(" open files") { return "kernel.open-files" }
        return "\(kind).\(check)"
    }
}
