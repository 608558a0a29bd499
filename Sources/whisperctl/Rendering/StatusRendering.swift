import Foundation
import OpsKit

/// The human form of a status report: a headline and one table.
struct StatusRendering {
    var terminal: Terminal
    var timeout: Duration

    func render(_ report: StatusReport) -> String {
        let rows = report.components.map { component in
            [
                component.name, component.kind.rawValue, component.status.rawValue.uppercased(),
                component.latency.map { String(format: "%.1f ms", $0.seconds * 1000) } ?? "-",
                component.detail,
            ]
        }
        let table = Table(headers: ["COMPONENT", "KIND", "STATUS", "LATENCY", "DETAIL"], rows: rows)
        let body = table.render { column, row, text in
            column == 2 ? paint(text, report.components[row].status) : text
        }
        let checked = ISO8601DateFormatter().string(from: report.checkedAt)
        let headline = "\(terminal.paint(report.deployment, .bold)): \(paint(report.overall.rawValue.uppercased(), report.overall))"
            + terminal.paint("  (checked \(checked), timeout \(timeout.humanReadable))", .dim)
        return headline + "\n\n" + body
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
