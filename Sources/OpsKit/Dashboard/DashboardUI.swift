/// A key the dashboard understands, decoded from the terminal by the TUI layer.
public enum DashboardKey: Equatable, Sendable {
    case character(Character)
    case up, down, pageUp, pageDown, home, end
    case enter, tab, escape, backspace
}

/// What a key asks the program around the UI to do.
public enum DashboardAction: Equatable, Sendable {
    case quit
    case drain(String)
    case makeReady(String)
    case setInterval(Duration)
    case setPaused(Bool)
}

/// The dashboard's interaction state as a value: which screen, what is selected, what waits for
/// a y/N. Keys go in, actions come out; the TUI only draws and forwards keys.
public struct DashboardUI: Sendable {
    public enum Screen: Equatable, Sendable {
        case main
        case detail(String)
        case help
    }

    public enum Panel: String, CaseIterable, Sendable {
        case instances, services, alerts
    }

    /// A mutation waiting for its y/N.
    public struct Confirmation: Equatable, Sendable {
        public enum Kind: String, Sendable { case drain, ready }
        public var kind: Kind
        public var instance: String

        public init(kind: Kind, instance: String) {
            self.kind = kind
            self.instance = instance
        }
    }

    static let intervals: [Duration] = [
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
    ]

    public var screen: Screen = .main
    public var focus: Panel = .instances
    public var selected = 0
    public var filter = ""
    public var editingFilter = false
    /// First line shown of the detail view, and of the alerts panel.
    var detailOffset = 0
    public var alertsOffset = 0
    public var confirming: Confirmation?
    public var paused = false
    public var interval: Duration
    /// `--read-only`: every action is refused.
    public var readOnly: Bool
    /// Why actions are impossible (no runtime API configured), or nil.
    public var actionsUnavailable: String?
    /// One line for the operator: a result, a refusal, a prompt. A key press clears it.
    public var message: String?
    /// A line under the title for whoever runs the dashboard (the demo's simulated users).
    public var banner: String?

    public init(interval: Duration = .seconds(1), readOnly: Bool = false, actionsUnavailable: String? = nil) {
        self.interval = interval
        self.readOnly = readOnly
        self.actionsUnavailable = actionsUnavailable
    }

    /// Handles one key; `instances` are the rows in display order.
    public mutating func handle(_ key: DashboardKey, instances: [String]) -> DashboardAction? {
        if !instances.isEmpty { selected = min(max(0, selected), instances.count - 1) }
        if confirming == nil { message = nil }
        if let confirmation = confirming {
            confirming = nil
            guard key == .character("y") || key == .character("Y") else {
                message = "\(confirmation.kind.rawValue) \(confirmation.instance): cancelled"
                return nil
            }
            message = "\(confirmation.kind.rawValue) \(confirmation.instance): sending…"
            return confirmation.kind == .drain ? .drain(confirmation.instance) : .makeReady(confirmation.instance)
        }
        if editingFilter {
            switch key {
            case .character(let character): filter.append(character)
            case .backspace: if !filter.isEmpty { filter.removeLast() }
            case .enter: editingFilter = false
            case .escape:
                editingFilter = false
                filter = ""
            default: break
            }
            detailOffset = 0
            return nil
        }
        switch key {
        case .character("q"), .character("Q"):
            return .quit
        case .character("?"), .character("h"):
            screen = screen == .help ? .main : .help
        case .escape:
            screen = .main
        case .character("p"), .character(" "):
            paused.toggle()
            message = paused ? "paused: numbers frozen, p resumes" : "resumed"
            return .setPaused(paused)
        case .character("+"), .character("="):
            return changeInterval(by: 1)
        case .character("-"), .character("_"):
            return changeInterval(by: -1)
        case .tab:
            let panels = Panel.allCases
            focus = panels[(panels.firstIndex(of: focus)! + 1) % panels.count]
        case .up, .down, .pageUp, .pageDown, .home, .end:
            move(key, count: instances.count)
        case .enter:
            if screen == .main, focus == .instances, instances.indices.contains(selected) {
                screen = .detail(instances[selected])
                detailOffset = 0
            }
        case .character("/"):
            if case .detail = screen { editingFilter = true }
        case .character("d"), .character("r"):
            let kind: Confirmation.Kind = key == .character("d") ? .drain : .ready
            let target: String?
            if case .detail(let name) = screen { target = name } else { target = instances.indices.contains(selected) ? instances[selected] : nil }
            guard let target else { break }
            if readOnly {
                message = "read-only: \(kind.rawValue) is disabled (started with --read-only)"
            } else if let reason = actionsUnavailable {
                message = "cannot \(kind.rawValue): \(reason)"
            } else {
                confirming = Confirmation(kind: kind, instance: target)
                message = kind == .drain
                    ? "Drain \(target)? HAProxy sends it no new connections; its chats go on. [y/N]"
                    : "Make \(target) ready? HAProxy sends it new connections again. [y/N]"
            }
        default:
            break
        }
        return nil
    }

    private mutating func changeInterval(by step: Int) -> DashboardAction? {
        let index = Self.intervals.firstIndex { $0 >= interval } ?? Self.intervals.count - 1
        let next = Self.intervals[min(max(0, index + step), Self.intervals.count - 1)]
        guard next != interval else {
            message = "interval stays \(interval.humanReadable)"
            return nil
        }
        interval = next
        message = "refreshing every \(interval.humanReadable)"
        return .setInterval(next)
    }

    private mutating func move(_ key: DashboardKey, count: Int) {
        let step: Int
        switch key {
        case .up: step = -1
        case .down: step = 1
        case .pageUp: step = -10
        case .pageDown: step = 10
        case .home: step = -1_000_000
        default: step = 1_000_000
        }
        switch screen {
        case .detail: detailOffset = max(0, detailOffset + step)
        case .help: break
        case .main:
            switch focus {
            case .instances: selected = count == 0 ? 0 : min(max(0, selected + step), count - 1)
            case .alerts: alertsOffset = max(0, alertsOffset + step)
            case .services: break
            }
        }
    }
}
