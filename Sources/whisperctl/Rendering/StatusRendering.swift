import Foundation
import OpsKit

/// The human form of a status report: a headline and one table.
struct StatusRendering {
    var terminal: Terminal
    var timeout: Duration
    /// In `--watch`: when each component's status last changed, shown as a column.
    var lastChange: [String: Date]? = nil

    func render(_ report: StatusReport) -> String {
        let rows = report.components.map { component in
            var row = [
                component.name, component.kind.rawValue, component.status.rawValue.uppercased(),
                component.latency.map { String(format: "%.1f ms", $0.seconds * 1000) } ?? "-",
            ]
            if let lastChange { row.append(lastChange[component.name].map { Self.since($0, report.checkedAt) } ?? "-") }
            return row + [component.detail]
        }
        let headers = ["COMPONENT", "KIND", "STATUS", "LATENCY"] + (lastChange == nil ? [] : ["SINCE"]) + ["DETAIL"]
        let table = Table(headers: headers, rows: rows)
        let body = table.render { column, row, text in
            column == 2 ? paint(text, report.components[row].status) : text
        }
        let checked = ISO8601DateFormatter().string(from: report.checkedAt)
        let headline = "\(terminal.paint(report.deployment, .bold)): \(paint(report.overall.rawValue.uppercased(), report.overall))"
            + terminal.paint("  (checked \(checked), timeout \(timeout.humanReadable))", .dim)
        let omitted = report.notConfigured.isEmpty ? "" : "\n" + terminal.paint("not configured: \(report.notConfigured.joined(separator: ", "))", .dim)
        return headline + "\n\n" + body + omitted
    }

    /// "42s", "3m10s", "2h05m": how long a component has been in its status.
    static func since(_ date: Date, _ now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" }
        return "\(seconds / 3600)h\(String(format: "%02d", seconds % 3600 / 60))m"
    }

    private func paint(_ text: String, _ status: HealthStatus) -> String {
        switch status {
        case .ok: return terminal.paint(text, .green)
        case .warning: return terminal.paint(text, .yellow)
        case .critical: return terminal.paint(text, .red)
        case .unknown: return terminal.paint(text, .magenta)
        }
    }
}
