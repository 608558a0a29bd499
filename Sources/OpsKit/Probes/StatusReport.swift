import Foundation

/// The answer to "is the deployment healthy?": every component's verdict and the worst of them.
public struct StatusReport: Sendable {
    public var deployment: String
    public var checkedAt: Date
    public var components: [ComponentReport]
    /// Components the inventory does not name ("haproxy", "nats"): not probed, not a problem.
    public var notConfigured: [String] = []

    public var overall: HealthStatus {
        components.isEmpty ? .unknown : HealthStatus.worst(components.map(\.status))
    }

    /// The documented `--json` schema (docs/status-json.md).
    public var json: JSONValue {
        .object([
            ("overall", .string(overall.rawValue)),
            ("deployment", .string(deployment)),
            ("checked_at", .string(StatusReport.iso8601(checkedAt))),
            ("components", .array(components.map(\.json))),
            ("not_configured", .array(notConfigured.map(JSONValue.string))),
        ])
    }

    /// The timestamp format of every `--json` document.
    public static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
