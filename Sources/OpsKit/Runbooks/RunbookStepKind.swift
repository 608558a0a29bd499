/// What a step does to the deployment, as its plan line says it.
public enum RunbookEffect: String, Sendable, CaseIterable, Comparable {
    /// Looks only; runs during the plan.
    case read = "READ"
    /// Changes something that can be changed back (a server drained, a backup written).
    case mutate = "MUTATE"
    /// Loses data or cuts sessions (a restore, a migration down, a restart).
    case destructive = "DESTRUCTIVE"
    /// Waits for a condition.
    case wait = "WAIT"
    /// Waits for a person.
    case gate = "GATE"
    /// Cannot be previewed (a shell command).
    case unknown = "UNKNOWN"

    public var changes: Bool { self == .mutate || self == .destructive }

    public static func < (a: RunbookEffect, b: RunbookEffect) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// The step kinds: each an operation that can plan, check and run (`RunbookStepAction`).
public enum RunbookStepKind: String, Sendable, CaseIterable {
    case note, confirm, branch, shell
    case status, diag
    case certCheck = "cert.check"
    case redisRead = "redis.read"
    case pgRead = "pg.read"
    case waitHTTP = "wait.http"
    case waitMetric = "wait.metric"
    case haproxyDrain = "haproxy.drain"
    case haproxyReady = "haproxy.ready"
    case haproxyWait = "haproxy.wait"
    case backup
    case restore
    case migrate
    case serverRestart = "server.restart"
    case rollout
    case certRenew = "cert.renew"
    case loadtest
    case scale

    /// The effect before arguments are known (`migrate` down is destructive: see `effect(direction:)`).
    public var effect: RunbookEffect {
        switch self {
        case .note, .branch, .status, .diag, .certCheck, .redisRead, .pgRead: .read
        case .confirm: .gate
        case .shell: .unknown
        case .waitHTTP, .waitMetric, .haproxyWait: .wait
        case .haproxyDrain, .haproxyReady, .backup, .migrate, .certRenew, .loadtest, .scale: .mutate
        case .restore, .serverRestart, .rollout: .destructive
        }
    }

    /// Arguments under `with:` a step must give.
    public var required: [String] {
        switch self {
        case .note: ["message"]
        case .confirm: ["message"]
        case .branch, .status, .diag, .certCheck, .backup, .migrate, .rollout, .loadtest: []
        case .restore: ["backup"]
        case .serverRestart: ["server"]
        case .scale: ["action", "server"]
        case .certRenew: ["domains"]
        case .shell: ["run", "preview"]
        case .redisRead: ["command"]
        case .pgRead: ["sql"]
        case .waitHTTP: ["url"]
        case .waitMetric: ["metric", "condition"]
        case .haproxyDrain, .haproxyReady: ["server"]
        case .haproxyWait: ["server", "until"]
        }
    }

    /// Arguments it may give.
    public var optional: [String] {
        switch self {
        case .note: ["verdict", "fix"]
        case .confirm: ["wait"]
        case .branch: []
        case .shell: ["check", "env"]
        case .status: ["components", "fail_on"]
        case .diag: ["components", "interval", "fail_on"]
        case .certCheck: ["files", "warn_days"]
        case .redisRead: []
        case .pgRead: []
        case .waitHTTP: ["status", "contains", "every", "upgrade"]
        case .waitMetric: ["server", "aggregate", "rate", "quantile", "hold", "every", "abort_if", "on_no_data"]
        case .haproxyDrain, .haproxyReady: []
        case .haproxyWait: ["every"]
        case .backup: []
        case .restore: ["database", "with_config"]
        case .migrate: ["direction", "to"]
        case .serverRestart: Self.rolloutOptions
        case .rollout: ["only", "max_unavailable", "auto_rollback", "start_with_unhealthy"] + Self.rolloutOptions
        case .certRenew: ["certbot_dir", "webroot", "http_01_port", "acme_server", "email", "force", "pem", "method", "reload_command", "verify"]
        case .loadtest: ["urls", "connections", "chatting_pairs", "rate", "duration", "ramp"]
        case .scale: ["url", "write", "ready_timeout", "drain_timeout"]
        }
    }

    /// Arguments that are expressions evaluated each time (not `${}` text).
    public var expressionArguments: [String] {
        switch self {
        case .waitMetric: ["condition", "abort_if"]
        case .haproxyWait: ["until"]
        default: []
        }
    }

    /// Names an expression argument may use besides the runbook's (`value` in a metric condition).
    public var expressionNames: [String] {
        switch self {
        case .waitMetric: ["value"]
        case .haproxyWait: ["stats"]
        default: []
        }
    }

    /// What a later step may read as `steps.NAME.output.FIELD`.
    public var outputs: [String] {
        switch self {
        case .note: ["verdict"]
        case .confirm: ["answer", "by"]
        case .branch: ["chose"]
        case .shell: ["exit_code", "output"]
        case .status: ["overall", "failing"]
        case .diag: ["findings", "worst"]
        case .certCheck: ["days_left", "worst"]
        case .redisRead: ["reply"]
        case .pgRead: ["rows", "count", "value"]
        case .waitHTTP: ["status", "attempts"]
        case .waitMetric: ["value", "ended_by", "samples"]
        case .haproxyDrain, .haproxyReady: ["before"]
        case .haproxyWait: ["status", "sessions"]
        case .backup: ["id", "path"]
        case .restore: ["id", "database", "rows"]
        case .migrate: ["from", "to"]
        case .serverRestart, .rollout: ["servers", "versions"]
        case .certRenew: ["renewed", "fingerprint", "not_after"]
        case .loadtest: ["passed", "sent", "delivered", "lost", "p99"]
        case .scale: ["server", "files"]
        }
    }

    /// What `server.restart` and `rollout` share: the rollout's gates.
    static let rolloutOptions = ["expect_version", "soak", "drain_timeout", "ready_timeout", "max_p99", "max_error_rate", "accept_idle_soak"]

    /// Fields of `stats` in a `haproxy.wait` condition.
    static let haproxyStatsFields = ["status", "sessions", "queue", "weight"]
}
