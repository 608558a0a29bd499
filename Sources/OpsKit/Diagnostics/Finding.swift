import Foundation

/// One thing `whisperctl diag` found: how bad, what it saw, what the guide recommends and where
/// it says so, and the exact command or configuration line that fixes it.
public struct Finding: Sendable {
    public enum Severity: String, Sendable, CaseIterable {
        case critical, warning, unknown, info, ok

        /// Most severe first.
        public var rank: Int {
            switch self {
            case .critical: 0
            case .warning: 1
            case .unknown: 2
            case .info: 3
            case .ok: 4
            }
        }
    }

    public var component: String
    public var check: String
    public var severity: Severity
    public var summary: String
    public var observed: String
    public var recommended: String?
    /// The guide's section the recommendation comes from.
    public var source: String?
    public var fix: String?

    public init(
        _ component: String, _ check: String, _ severity: Severity, _ summary: String, observed: String,
        recommended: String? = nil, source: String? = nil, fix: String? = nil
    ) {
        self.component = component
        self.check = check
        self.severity = severity
        self.summary = summary
        self.observed = observed
        self.recommended = recommended
        self.source = source
        self.fix = fix
    }

    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("component", .string(component)), ("check", .string(check)), ("severity", .string(severity.rawValue)),
            ("summary", .string(summary)), ("observed", .string(observed)),
            ("recommended", recommended.map(JSONValue.string) ?? .null), ("source", source.map(JSONValue.string) ?? .null),
            ("fix", fix.map(JSONValue.string) ?? .null),
        ])
    }
}

/// The findings of every component, most severe first, and the exit status they mean
/// (the `status` convention: 0 ok, 1 warning, 2 critical, 3 unknown).
public struct DiagnosisReport: Sendable {
    public var findings: [Finding]
    public var elapsed: Duration

    public init(findings: [Finding], elapsed: Duration) {
        self.findings = findings.enumerated().sorted { a, b in
            a.element.severity.rank != b.element.severity.rank ? a.element.severity.rank < b.element.severity.rank : a.offset < b.offset
        }.map(\.element)
        self.elapsed = elapsed
    }

    public var exitCode: Int32 {
        if findings.contains(where: { $0.severity == .critical }) { return 2 }
        if findings.contains(where: { $0.severity == .warning }) { return 1 }
        if findings.isEmpty || findings.contains(where: { $0.severity == .unknown }) { return 3 }
        return 0
    }

    public var json: JSONValue {
        let worst = findings.first?.severity.rawValue ?? "unknown"
        return .object([
            ("overall", .string(exitCode == 0 ? "ok" : worst)), ("elapsed_ms", .int(Int(elapsed.milliseconds))),
            ("findings", .array(findings.map(\.json))),
        ])
    }
}

/// Where a recommendation comes from.
enum GuideSection {
    static let redisConfig = "performance playbook §3.5 Redis Configuration"
    static let redisBottlenecks = "performance playbook §2.4 Redis Bottlenecks"
    static let natsConfig = "performance playbook §3.6 NATS Configuration"
    static let natsBottlenecks = "performance playbook §2.5 NATS Bottlenecks"
    static let haproxyConfig = "performance playbook §3.7 HAProxy Configuration"
    static let kernel = "performance playbook §3.3 Kernel Parameters"
    static let limits = "performance playbook §3.4 PAM Limits"
    static let memory = "performance playbook §1.3 Memory Formula, §4.2 Vertical Scaling"
    static let alerts = "performance playbook §5.4 Alert-Worthy Conditions"
    static let operations = "operations guide §7 Troubleshooting"
}
