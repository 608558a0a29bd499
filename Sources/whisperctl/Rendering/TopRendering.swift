import Foundation
import OpsKit

/// `whisperctl top`: the dashboard's numbers as plain lines.
struct TopRendering {
    var terminal: Terminal

    func render(_ snapshot: DashboardSnapshot) -> String {
        let fleet = snapshot.fleet
        let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: snapshot.at))
        var lines = [
            "\(snapshot.deployment) · \(time) · rates over \(DisplayFormat.age(snapshot.window))",
            "fleet: \(fleet.reporting)/\(fleet.instances) reporting, \(DisplayFormat.count(fleet.connections)) connections, "
                + "msg/s sent \(DisplayFormat.rate(fleet.sentPerSecond)) received \(DisplayFormat.rate(fleet.receivedPerSecond)) "
                + "blocked \(DisplayFormat.rate(fleet.blockedPerSecond))",
            "latency p50 \(DisplayFormat.latency(fleet.p50)) p95 \(DisplayFormat.latency(fleet.p95)) p99 \(DisplayFormat.latency(fleet.p99)), "
                + "match queue \(DisplayFormat.count(fleet.matchQueue)), active chats \(DisplayFormat.count(fleet.activeChats)), "
                + "match p95 \(DisplayFormat.latency(fleet.matchP95))",
            "",
        ]
        let rows = snapshot.instances.map { row in
            [
                row.name, row.state.rawValue, DisplayFormat.count(row.connections), DisplayFormat.rate(row.messagesPerSecond),
                DisplayFormat.latency(row.p99), DisplayFormat.bytes(row.residentBytes), DisplayFormat.age(row.uptime),
                row.version ?? DisplayFormat.missing, row.error ?? row.haproxyStatus.map { "haproxy \($0)" } ?? "",
            ]
        }
        let table = Table(headers: ["NAME", "STATE", "CONNS", "MSG/S", "P99", "RSS", "UPTIME", "VERSION", "NOTE"], rows: rows)
        lines.append(table.render { column, row, text in
            guard column == 1 else { return text }
            switch snapshot.instances[row].state {
            case .up: return terminal.paint(text, .green)
            case .down: return terminal.paint(text, .red)
            case .waiting: return text
            default: return terminal.paint(text, .yellow)
            }
        })
        lines.append("")
        if let haproxy = snapshot.haproxy {
            lines.append("haproxy: " + (haproxy.error ?? "\(haproxy.backend) \(haproxy.backendStatus ?? "-"), \(haproxy.serving)/\(haproxy.servers) serving, \(DisplayFormat.count(haproxy.sessions)) sessions"))
        }
        if let redis = snapshot.redis {
            let memory = redis.maxMemory.flatMap { $0 > 0 ? " / \(ByteCount.format($0))" : nil } ?? ""
            lines.append("redis: " + (redis.error ?? "\(DisplayFormat.bytes(redis.usedMemory))\(memory), \(DisplayFormat.rate(redis.opsPerSecond)) ops/s, \(DisplayFormat.count(redis.clients)) clients"))
        }
        if let nats = snapshot.nats {
            lines.append("nats: " + (nats.error ?? "msgs/s in \(DisplayFormat.rate(nats.messagesInPerSecond)) out \(DisplayFormat.rate(nats.messagesOutPerSecond)), \(DisplayFormat.count(nats.slowConsumers)) slow consumers, \(DisplayFormat.count(nats.connections)) connections"))
        }
        if snapshot.alerts.isEmpty {
            lines.append(snapshot.fleet.reporting > 0 ? "alerts: none" : terminal.paint("alerts: nothing measured, no instance answered", .yellow))
        } else {
            lines.append("alerts:")
            for alert in snapshot.alerts {
                let label = alert.severity == .critical ? terminal.paint("CRIT", .red) : terminal.paint("WARN", .yellow)
                lines.append("  \(label) \(alert.rule) \(alert.subject): \(alert.detail)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
