import Foundation

/// A run of text with one style; the TUI maps styles to colours.
public struct ScreenSpan: Equatable, Sendable {
    public enum Style: Sendable, Equatable {
        case plain, title, header, dim, ok, warning, critical, selected, prompt
    }

    public var text: String
    public var style: Style

    public init(_ text: String, _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

public typealias ScreenLine = [ScreenSpan]

/// Lays a snapshot out on a `width` × `height` screen as styled lines, so the whole screen is
/// testable as text. Below 80×24 it shows what fits (fleet, instance states, alert count) and
/// says so.
public struct DashboardLayout {
    static let fullWidth = 80
    static let fullHeight = 24

    public var width: Int
    public var height: Int
    public var unicode: Bool

    public init(width: Int, height: Int, unicode: Bool = true) {
        self.width = width
        self.height = height
        self.unicode = unicode
    }

    public func render(_ snapshot: DashboardSnapshot, ui: DashboardUI, families: (String) -> [MetricFamily]) -> [ScreenLine] {
        guard width >= 20, height >= 5 else {
            return [[ScreenSpan(DisplayFormat.fit("terminal \(width)x\(height): too small", max(1, width)), .warning)]]
        }
        var lines: [ScreenLine]
        switch ui.screen {
        case .help: lines = help()
        case .detail(let name): lines = detail(name, snapshot: snapshot, ui: ui, families: families(name))
        case .main:
            lines = width >= Self.fullWidth && height >= Self.fullHeight ? main(snapshot, ui: ui) : compact(snapshot, ui: ui)
        }
        // The bottom line: the prompt, the last message, or the keys.
        let bottom: ScreenLine
        if let message = ui.message {
            bottom = [ScreenSpan(message, ui.confirming != nil ? .prompt : .plain)]
        } else {
            bottom = [ScreenSpan(keyHints(ui), .dim)]
        }
        lines = Array(lines.prefix(height - 1))
        while lines.count < height - 1 { lines.append([]) }
        lines.append(bottom)
        return lines.map(clip)
    }

    // MARK: - Screens

    private func header(_ snapshot: DashboardSnapshot, ui: DashboardUI) -> ScreenLine {
        let time = Self.clock(snapshot.at)
        var spans = [
            ScreenSpan("whisperctl dashboard", .title),
            ScreenSpan(" · \(snapshot.deployment) · \(snapshot.fleet.reporting)/\(snapshot.fleet.instances) reporting · every \(ui.interval.humanReadable) · rates over \(DisplayFormat.age(snapshot.window)) · \(time)"),
        ]
        if ui.paused { spans.append(ScreenSpan(" PAUSED", .warning)) }
        if ui.readOnly { spans.append(ScreenSpan(" read-only", .dim)) }
        return spans
    }

    private func main(_ snapshot: DashboardSnapshot, ui: DashboardUI) -> [ScreenLine] {
        let fleet = snapshot.fleet
        var lines: [ScreenLine] = [header(snapshot, ui: ui), [ScreenSpan(ui.banner ?? "", .dim)]]
        lines.append([
            ScreenSpan("FLEET  ", .header),
            ScreenSpan("conns \(DisplayFormat.count(fleet.connections))  msg/s sent \(DisplayFormat.rate(fleet.sentPerSecond)) "
                + "recv \(DisplayFormat.rate(fleet.receivedPerSecond)) "),
            ScreenSpan("blocked \(DisplayFormat.rate(fleet.blockedPerSecond))", (fleet.blockedPerSecond ?? 0) > 0 ? .warning : .plain),
            ScreenSpan("  latency p50 \(DisplayFormat.latency(fleet.p50)) p95 \(DisplayFormat.latency(fleet.p95)) "),
            ScreenSpan("p99 \(DisplayFormat.latency(fleet.p99))", (fleet.p99 ?? 0) > AlertRules.latency ? .warning : .plain),
        ])
        lines.append([
            ScreenSpan("       "),
            ScreenSpan("queue \(DisplayFormat.count(fleet.matchQueue))  chats \(DisplayFormat.count(fleet.activeChats))  "
                + "match p95 \(DisplayFormat.latency(fleet.matchP95))"),
        ])
        let sparkWidth = max(8, (width - 36) / 3)
        let sparks = snapshot.sparklines
        lines.append([
            ScreenSpan("       conns ", .dim), ScreenSpan(DisplayFormat.sparkline(sparks.connections, width: sparkWidth, unicode: unicode), .ok),
            ScreenSpan("  msg/s ", .dim), ScreenSpan(DisplayFormat.sparkline(sparks.messagesPerSecond, width: sparkWidth, unicode: unicode), .ok),
            ScreenSpan("  p99 ", .dim), ScreenSpan(DisplayFormat.sparkline(sparks.p99, width: sparkWidth, unicode: unicode), .warning),
        ])
        lines.append([])

        let services = serviceLines(snapshot)
        let alerts = alertLines(snapshot, ui: ui)
        // Instances take what the other panels leave.
        let fixed = lines.count + 2 + services.count + 1 + min(alerts.count, 6) + 2
        let room = max(3, height - fixed)
        lines.append(panelTitle("INSTANCES", ui.focus == .instances, count: snapshot.instances.count))
        lines.append([ScreenSpan("  " + instanceColumns(["NAME", "STATE", "CONNS", "MSG/S", "P99", "RSS", "UPTIME", "VERSION"]), .header)])
        let rows = snapshot.instances
        let first = rows.count <= room ? 0 : min(max(0, ui.selected - room / 2), rows.count - room)
        for (index, row) in rows.enumerated().dropFirst(first).prefix(room) {
            lines.append(instanceLine(row, selected: index == ui.selected && ui.focus == .instances))
        }
        if rows.count > room { lines.append([ScreenSpan("  … \(rows.count - room) more (↑↓ scroll)", .dim)]) }
        lines.append([])
        lines.append(panelTitle("SERVICES", ui.focus == .services, count: nil))
        lines += services
        lines.append([])
        lines.append(panelTitle("ALERTS", ui.focus == .alerts, count: snapshot.alerts.count))
        let alertRoom = max(1, height - 1 - lines.count)
        let offset = min(ui.alertsOffset, max(0, alerts.count - alertRoom))
        lines += alerts.dropFirst(offset).prefix(alertRoom)
        return lines
    }

    private func compact(_ snapshot: DashboardSnapshot, ui: DashboardUI) -> [ScreenLine] {
        let fleet = snapshot.fleet
        var lines: [ScreenLine] = [
            [ScreenSpan("\(snapshot.deployment) \(fleet.reporting)/\(fleet.instances) up", .title), ScreenSpan(ui.paused ? " PAUSED" : "", .warning)],
            [ScreenSpan("conns \(DisplayFormat.count(fleet.connections)) msg/s \(DisplayFormat.rate(fleet.receivedPerSecond)) p99 \(DisplayFormat.latency(fleet.p99))")],
        ]
        let critical = snapshot.alerts.filter { $0.severity == .critical }.count
        lines.append([
            ScreenSpan("alerts \(snapshot.alerts.count)", critical > 0 ? .critical : (snapshot.alerts.isEmpty ? .ok : .warning)),
            ScreenSpan(snapshot.alerts.first.map { " \($0.rule) \($0.subject)" } ?? ""),
        ])
        let room = max(0, height - lines.count - 2)
        let rows = snapshot.instances
        let first = rows.count <= room ? 0 : min(max(0, ui.selected - room / 2), rows.count - room)
        for (index, row) in rows.enumerated().dropFirst(first).prefix(room) {
            let marker = index == ui.selected ? ">" : " "
            lines.append([
                ScreenSpan("\(marker)\(DisplayFormat.fit(row.name, 10)) ", index == ui.selected ? .selected : .plain),
                ScreenSpan(DisplayFormat.fit(row.state.rawValue, 9), style(of: row.state)),
                ScreenSpan(" \(DisplayFormat.count(row.connections))"),
            ])
        }
        lines.append([ScreenSpan("\(width)x\(height): 80x24 shows every panel", .dim)])
        return lines
    }

    private func detail(_ name: String, snapshot: DashboardSnapshot, ui: DashboardUI, families: [MetricFamily]) -> [ScreenLine] {
        let row = snapshot.instances.first { $0.name == name }
        var entries: [(String, String)] = []
        for family in families {
            for sample in family.samples {
                let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
                entries.append((sample.name + labels, Self.value(sample.value)))
            }
        }
        let needle = ui.filter.lowercased()
        let shown = needle.isEmpty ? entries : entries.filter { $0.0.lowercased().contains(needle) }
        var lines: [ScreenLine] = [
            [
                ScreenSpan(name, .title),
                ScreenSpan(" · \(row?.url ?? "") · "),
                ScreenSpan(row?.state.rawValue ?? "?", row.map { style(of: $0.state) } ?? .dim),
                ScreenSpan(" · \(families.count) families, \(shown.count)/\(entries.count) series"),
            ],
            [
                ScreenSpan(ui.editingFilter ? "filter: /\(ui.filter)█" : (ui.filter.isEmpty ? "/ to filter" : "filter: \(ui.filter)"),
                           ui.editingFilter ? .prompt : .dim),
                ScreenSpan(row?.error.map { "   last scrape failed: \($0)" } ?? "", .critical),
            ],
            [],
        ]
        if families.isEmpty {
            lines.append([ScreenSpan(row?.error != nil ? "no metrics: the instance does not answer" : "no metrics yet", .dim)])
        }
        let room = max(1, height - 1 - lines.count)
        let offset = min(ui.detailOffset, max(0, shown.count - room))
        let valueWidth = 18
        for (series, value) in shown.dropFirst(offset).prefix(room) {
            lines.append([ScreenSpan(DisplayFormat.fit(series, max(10, width - valueWidth - 1)) + " "), ScreenSpan(DisplayFormat.fit(value, valueWidth, right: true))])
        }
        return lines
    }

    private func help() -> [ScreenLine] {
        let keys: [(String, String)] = [
            ("q", "quit (Ctrl-C too)"), ("?", "this help; again or Esc to go back"), ("↑ ↓ PgUp PgDn", "select an instance, scroll"),
            ("Enter", "the selected instance's metrics"), ("/", "filter them (in the detail view); Esc clears"),
            ("Tab", "next panel: instances, services, alerts"), ("p or space", "pause or resume scraping"),
            ("+ / -", "refresh less or more often"), ("d", "drain the selected instance through HAProxy (asks y/N)"),
            ("r", "make it ready again (asks y/N)"),
        ]
        var lines: [ScreenLine] = [[ScreenSpan("whisperctl dashboard: keys", .title)], []]
        for (key, meaning) in keys {
            lines.append([ScreenSpan("  " + DisplayFormat.fit(key, 16), .header), ScreenSpan(meaning)])
        }
        lines += [
            [],
            [ScreenSpan("Drain and ready go through HAProxy's runtime API (haproxy.runtime_api) and are written to the audit log;", .dim)],
            [ScreenSpan("--read-only turns them off. Alerts follow the operations guide's table (docs/dashboard.md).", .dim)],
        ]
        return lines
    }

    // MARK: - Pieces

    private func panelTitle(_ title: String, _ focused: Bool, count: Int?) -> ScreenLine {
        [ScreenSpan(title + (count.map { " (\($0))" } ?? ""), focused ? .selected : .header)]
    }

    private func instanceColumns(_ cells: [String]) -> String {
        let widths = [12, 10, 9, 8, 8, 10, 8, 10]
        return zip(cells, widths).enumerated().map { index, pair in
            DisplayFormat.fit(pair.0, pair.1, right: index >= 2 && index <= 6)
        }.joined(separator: " ")
    }

    private func instanceLine(_ row: InstanceRow, selected: Bool) -> ScreenLine {
        // A scrape in flight for a while, on an instance that answered before: it hangs now.
        let state = row.error == nil ? row.waitingFor.map { "WAIT \(DisplayFormat.age($0))" } : nil
        let cells = [
            row.name, state ?? row.state.rawValue, DisplayFormat.count(row.connections), DisplayFormat.rate(row.messagesPerSecond),
            DisplayFormat.latency(row.p99), DisplayFormat.bytes(row.residentBytes), DisplayFormat.age(row.uptime), row.version ?? DisplayFormat.missing,
        ]
        let text = instanceColumns(cells)
        let nameWidth = 13
        var spans = [
            ScreenSpan(selected ? "> " : "  ", selected ? .selected : .plain),
            ScreenSpan(String(text.prefix(nameWidth)), selected ? .selected : .plain),
            ScreenSpan(String(text.dropFirst(nameWidth).prefix(11)), state != nil ? .warning : style(of: row.state)),
            ScreenSpan(String(text.dropFirst(nameWidth + 11))),
        ]
        if let error = row.error { spans.append(ScreenSpan("  " + error, .critical)) }
        else if let status = row.haproxyStatus, status != row.state.rawValue, !status.isEmpty { spans.append(ScreenSpan("  haproxy: \(status)", .dim)) }
        return spans
    }

    private func serviceLines(_ snapshot: DashboardSnapshot) -> [ScreenLine] {
        var lines: [ScreenLine] = []
        if let haproxy = snapshot.haproxy {
            if let error = haproxy.error {
                lines.append([ScreenSpan("  haproxy  ", .header), ScreenSpan(error, .critical)])
            } else {
                let style: ScreenSpan.Style = haproxy.serving == haproxy.servers ? .ok : (haproxy.serving == 0 ? .critical : .warning)
                lines.append([
                    ScreenSpan("  haproxy  ", .header), ScreenSpan("\(haproxy.backend) \(haproxy.backendStatus ?? "-") ", style),
                    ScreenSpan("\(haproxy.serving)/\(haproxy.servers) serving, \(DisplayFormat.count(haproxy.sessions)) sessions"),
                ])
            }
        }
        if let redis = snapshot.redis {
            if let error = redis.error {
                lines.append([ScreenSpan("  redis    ", .header), ScreenSpan(error, .critical)])
            } else {
                var memory = "mem \(DisplayFormat.bytes(redis.usedMemory))"
                var style: ScreenSpan.Style = .plain
                if let used = redis.usedMemory, let max = redis.maxMemory, max > 0 {
                    let ratio = Double(used) / Double(max)
                    memory += " / \(DisplayFormat.bytes(max)) (\((ratio * 100).rounded().wholeNumber.map(String.init) ?? "?")%)"
                    style = ratio > AlertRules.redisMemoryRatio ? .warning : .plain
                } else if redis.usedMemory != nil {
                    memory += " (no maxmemory)"
                }
                lines.append([
                    ScreenSpan("  redis    ", .header), ScreenSpan(memory, style),
                    ScreenSpan("  \(DisplayFormat.rate(redis.opsPerSecond)) ops/s  \(DisplayFormat.count(redis.clients)) clients  \(redis.role ?? "")"),
                ])
            }
        }
        if let nats = snapshot.nats {
            if let error = nats.error {
                lines.append([ScreenSpan("  nats     ", .header), ScreenSpan(error, .critical)])
            } else {
                lines.append([
                    ScreenSpan("  nats     ", .header),
                    ScreenSpan("msgs/s in \(DisplayFormat.rate(nats.messagesInPerSecond)) out \(DisplayFormat.rate(nats.messagesOutPerSecond))  "),
                    ScreenSpan("\(DisplayFormat.count(nats.slowConsumers)) slow consumers", (nats.slowConsumers ?? 0) > 0 ? .warning : .plain),
                    ScreenSpan("  \(DisplayFormat.count(nats.connections)) conns"),
                ])
            }
        }
        if lines.isEmpty { lines.append([ScreenSpan("  none configured (haproxy.stats_url, redis.addr, nats.monitor_url)", .dim)]) }
        return lines
    }

    private func alertLines(_ snapshot: DashboardSnapshot, ui: DashboardUI) -> [ScreenLine] {
        guard !snapshot.alerts.isEmpty else {
            let measured = snapshot.fleet.reporting > 0
            return [[ScreenSpan(measured ? "  none firing" : "  nothing measured yet: no instance has answered", measured ? .ok : .warning)]]
        }
        return snapshot.alerts.map { alert in
            [
                ScreenSpan(alert.severity == .critical ? "  CRIT " : "  WARN ", alert.severity == .critical ? .critical : .warning),
                ScreenSpan("\(alert.rule) ", .header), ScreenSpan("\(alert.subject): \(alert.detail)"),
            ]
        }
    }

    private func keyHints(_ ui: DashboardUI) -> String {
        switch ui.screen {
        case .help: return "? or Esc back  q quit"
        case .detail: return "Esc back  / filter  ↑↓ scroll  d drain  r ready  q quit"
        case .main:
            return ui.readOnly
                ? "q quit  ? help  ↑↓ select  Enter detail  Tab panel  p pause  +/- interval"
                : "q quit  ? help  ↑↓ select  Enter detail  d drain  r ready  Tab panel  p pause  +/- interval"
        }
    }

    func style(of state: InstanceState) -> ScreenSpan.Style {
        switch state {
        case .up: return .ok
        case .down: return .critical
        case .drain, .maint, .nolb, .notReady: return .warning
        case .waiting: return .dim
        }
    }

    /// Cuts a line at the screen's width.
    private func clip(_ line: ScreenLine) -> ScreenLine {
        var left = width
        var out: ScreenLine = []
        for span in line where left > 0 {
            let text = String(span.text.prefix(left))
            left -= text.count
            out.append(ScreenSpan(text, span.style))
        }
        return out
    }

    static func value(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    static func clock(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }
}

extension ScreenLine {
    /// The line's text without styles: what tests and `top` compare.
    public var text: String { map(\.text).joined() }
}
