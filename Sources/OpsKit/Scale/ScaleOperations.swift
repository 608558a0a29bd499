import Foundation

/// What a scale operation did: the HAProxy steps taken and the file changes (written with
/// `--write`, else only shown).
public struct ScaleOutcome: Sendable {
    public var server: String
    public var steps: [String]
    public var changes: [FileChange]
    public var written: Bool
    /// A condition that stopped it short (nil: done).
    public var stopped: String?

    public var json: JSONValue {
        // The inventory's change (the first) is always written; the others only with --write.
        let files = changes.enumerated().map { index, change in
            JSONValue.object([("path", .string(change.path)), ("diff", .string(change.diff)), ("written", .bool(stopped == nil && (written || index == 0)))])
        }
        return .object([
            ("server", .string(server)), ("steps", .array(steps.map { .string($0) })), ("files", .array(files)),
            ("stopped", stopped.map { .string($0) } ?? .null),
        ])
    }
}

/// What both scale operations need: HAProxy's runtime API and backend, and the observer the
/// rollout uses.
struct ScaleFleet: Sendable {
    let runtime: HAProxyRuntimeAPI
    let backend: String

    init(_ inventory: Inventory) throws {
        guard let text = inventory.haproxyRuntimeAPI else {
            throw OpsError(.invalidInput, "haproxy.runtime_api is not set: scale adds and removes servers through HAProxy's runtime API (docs/scaling.md)")
        }
        do { runtime = try HAProxyRuntimeAPI(parsing: text) } catch { throw OpsError(.invalidInput, "haproxy.runtime_api: \(error)") }
        backend = inventory.haproxyBackend
    }

    func rows() async throws -> [String: HAProxyStats.Row] {
        try await FleetObserver(servers: [], runtime: runtime, backend: backend).haproxyRows()
    }

    /// A runtime command whose answer must contain `expected`; HAProxy answers refusals in
    /// plain text, which the generic check does not all know.
    func execute(_ command: String, expecting expected: String) async throws {
        let answer = try await runtime.execute(command)
        guard answer.contains(expected) else {
            throw OpsError(.serverError, "'\(command)': \(answer.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))", endpoint: "haproxy runtime API \(runtime.address)")
        }
    }
}

/// `whisperctl scale add NAME --url URL`: the new server into HAProxy's backend at run time
/// (`add server`, `enable health`, `state ready` once its /ready is 200), into the inventory,
/// and the matching changes to the HAProxy config, the Prometheus targets and the Compose file,
/// shown as a diff or, with `write`, applied, so a restart keeps the new shape.
public struct ScaleAdd: OpsOperation {
    public let name: String
    public let url: String
    public let write: Bool
    public var readyTimeout: Duration = .seconds(60)
    public var poll: Duration = .milliseconds(250)

    public init(name: String, url: String, write: Bool) {
        self.name = name
        self.url = url
        self.write = write
    }

    public var command: String { "scale" }
    public var action: String { "add" }
    public var target: String { "\(name) \(url)" }

    var server: FleetShapeEdits.Server { .init(name: name, url: url) }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let (fleet, address, changes) = try prepare(context.inventory)
        var steps = [
            "add server \(fleet.backend)/\(name) \(address) (HAProxy runtime API \(fleet.runtime.address)); it starts in MAINT",
            "enable health \(fleet.backend)/\(name)",
            "wait until \(url)/ready is 200 (at most \(readyTimeout.humanReadable)), then set server \(fleet.backend)/\(name) state ready",
        ]
        steps += changes.map { change in
            change.path == changes.first?.path ? "append \(name) to \(change.path)" : (write ? "write \(change.path)" : "show the change to \(change.path) (--write applies it)")
        }
        return OperationPlan(steps: steps, confirmation: "Add \(name) (\(url)) to HAProxy backend \(fleet.backend)?")
    }

    /// HAProxy serves it (not in MAINT) and the inventory lists it.
    public func check(in context: OperationContext) async throws -> Bool {
        let fleet = try ScaleFleet(context.inventory)
        guard let row = try await fleet.rows()[name] else { return false }
        return HAProxyServerState(haproxyStatus: row.status) != .maint && context.inventory.servers.contains { $0.name == name }
    }

    /// HOST:PORT and the options `add server` gets (those of the config's other servers).
    private func prepare(_ inventory: Inventory) throws -> (ScaleFleet, String, [FileChange]) {
        let fleet = try ScaleFleet(inventory)
        let config = inventory.haproxyConfig.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
        let options = config.map { FleetShapeEdits.runtimeOptions($0, backend: fleet.backend) } ?? ["check"]
        guard Self.isName(name) else {
            throw OpsError(.invalidInput, "'\(name)' is not a server name (letters, digits, '-', '_', '.')")
        }
        if let existing = inventory.servers.first(where: { $0.name == name }) {
            throw OpsError(.invalidInput, "the inventory has a server \(name) already (\(existing.url))")
        }
        if let existing = inventory.servers.first(where: { $0.url == url }) {
            throw OpsError(.invalidInput, "\(url) is in the inventory already, as \(existing.name)")
        }
        return (fleet, ([try server.hostPort] + options).joined(separator: " "), try ScaleFiles(inventory: inventory).adding(server))
    }

    public func run(in context: OperationContext) async throws -> ScaleOutcome {
        let (fleet, address, changes) = try prepare(context.inventory)
        var outcome = ScaleOutcome(server: name, steps: [], changes: changes, written: write)
        func step(_ line: String) {
            outcome.steps.append(line)
            context.progress(line)
        }
        let addedNow = try await fleet.rows()[name] == nil
        if addedNow {
            try await fleet.execute("add server \(fleet.backend)/\(name) \(address)", expecting: "New server registered")
            step("added \(fleet.backend)/\(name) \(address) (MAINT)")
        } else {
            step("\(fleet.backend)/\(name) is in HAProxy already")
        }
        do {
            _ = try await fleet.runtime.execute("enable health \(fleet.backend)/\(name)")
            step("health checks enabled")
            try await waitReady(context)
        } catch {
            // Nothing half-added stays behind: it was never given traffic.
            if addedNow { try? await fleet.execute("del server \(fleet.backend)/\(name)", expecting: "Server deleted") }
            throw OpsError(.unreachable, "\(error); \(addedNow ? "\(fleet.backend)/\(name) removed from HAProxy again, " : "")nothing changed", endpoint: url)
        }
        try await fleet.runtime.setState("ready", server: name, backend: fleet.backend)
        step("\(url)/ready is 200: \(fleet.backend)/\(name) set to READY")
        // The inventory records the fleet as it now runs; the other files follow with --write.
        try changes[0].apply()
        step("\(name) appended to \(changes[0].path)")
        if write {
            for change in changes.dropFirst() {
                try change.apply()
                step("wrote \(change.path)")
            }
        }
        return outcome
    }

    private func waitReady(_ context: OperationContext) async throws {
        let deadline = ContinuousClock.now + readyTimeout
        while ContinuousClock.now < deadline {
            if context.interruption.signal != nil { throw OpsError(.unreachable, "interrupted before /ready answered 200", endpoint: url) }
            if (try? await HTTPClient().get(url + "/ready", timeout: .seconds(2)))?.status == 200 { return }
            try? await Task.sleep(for: poll)
        }
        throw OpsError(.unreachable, "/ready was not 200 within \(readyTimeout.humanReadable)", endpoint: url)
    }

    public func audit(_ outcome: ScaleOutcome) -> OperationRecord {
        OperationRecord(outcome: .succeeded, details: [("url", .string(url)), ("files_written", .bool(write))])
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}

/// `whisperctl scale remove NAME`: drained as a rollout drains (HAProxy DRAIN, the server's own
/// drain through its restart driver, its connections waited out), then MAINT and `del server`,
/// out of the inventory, and the matching file changes.
public struct ScaleRemove: OpsOperation {
    public let name: String
    public let write: Bool
    public var drainTimeout: Duration = .seconds(120)
    public var poll: Duration = .milliseconds(250)

    public init(name: String, write: Bool) {
        self.name = name
        self.write = write
    }

    public var command: String { "scale" }
    public var action: String { "remove" }
    public var target: String { name }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let (fleet, server, changes) = try prepare(context.inventory)
        let driver = server.restart.map { RestartDrivers.make($0, server: name, baseDirectory: context.inventory.baseDirectory) }
        var steps = ["set server \(fleet.backend)/\(name) state drain (no new users)"]
        steps.append(driver.map { "drain \(name) through \($0.description): its users resume on the others" } ?? "no restart block: wait for \(name)'s users to leave")
        steps.append("wait until \(name) has no connections (at most \(drainTimeout.humanReadable))")
        steps.append("set server \(fleet.backend)/\(name) state maint, then del server \(fleet.backend)/\(name)")
        steps += changes.map { change in
            change.path == changes.first?.path ? "remove \(name) from \(change.path)" : (write ? "write \(change.path)" : "show the change to \(change.path) (--write applies it)")
        }
        return OperationPlan(steps: steps, confirmation: "Remove \(name) (\(server.url)) from HAProxy backend \(fleet.backend), draining its users?")
    }

    /// HAProxy no longer has it and the inventory no longer lists it.
    public func check(in context: OperationContext) async throws -> Bool {
        let fleet = try ScaleFleet(context.inventory)
        return try await fleet.rows()[name] == nil && !context.inventory.servers.contains { $0.name == name }
    }

    private func prepare(_ inventory: Inventory) throws -> (ScaleFleet, ServerEntry, [FileChange]) {
        let fleet = try ScaleFleet(inventory)
        guard let server = inventory.servers.first(where: { $0.name == name }) else {
            throw OpsError(.invalidInput, "the inventory has no server \(name) (it has \(inventory.servers.map(\.name).joined(separator: ", ")))")
        }
        guard inventory.servers.count > 1 else {
            throw OpsError(.invalidInput, "\(name) is the only server: removing it would leave no one to serve")
        }
        return (fleet, server, try ScaleFiles(inventory: inventory).removing(server))
    }

    public func run(in context: OperationContext) async throws -> ScaleOutcome {
        let (fleet, server, changes) = try prepare(context.inventory)
        var outcome = ScaleOutcome(server: name, steps: [], changes: changes, written: write)
        func step(_ line: String) {
            outcome.steps.append(line)
            context.progress(line)
        }
        let observer = FleetObserver(servers: context.inventory.servers, runtime: fleet.runtime, backend: fleet.backend)
        let rows = try await fleet.rows()
        if rows[name] != nil {
            // Its users need somewhere to go.
            var othersServing = false
            for other in context.inventory.servers where other.name != name {
                if await observer.observe(other, rows: rows).isServing { othersServing = true }
            }
            guard othersServing else {
                throw OpsError(.invalidInput, "no other server serving to take \(name)'s users; nothing was changed")
            }
            try await fleet.runtime.setState("drain", server: name, backend: fleet.backend)
            step("\(fleet.backend)/\(name) set to DRAIN")
            if context.interruption.signal != nil {
                try await fleet.runtime.setState("ready", server: name, backend: fleet.backend)
                throw OpsError(.invalidInput, "interrupted before the drain; \(name) is READY again, nothing else changed")
            }
            let driver = server.restart.map { RestartDrivers.make($0, server: name, baseDirectory: context.inventory.baseDirectory) }
            if let driver, try await driver.sendDrain() { step("drain signal sent through \(driver.description)") }
            let deadline = ContinuousClock.now + drainTimeout
            var remaining = Int.max
            while ContinuousClock.now < deadline {
                let observation = await observer.observe(server, rows: try? await fleet.rows())
                remaining = max(observation.reachable ? observation.connections ?? 0 : 0, observation.haproxySessions ?? 0)
                if remaining == 0 || context.interruption.signal != nil { break }
                try? await Task.sleep(for: poll)
            }
            guard remaining == 0 else {
                let why = context.interruption.signal != nil ? "interrupted" : "still \(remaining) connections after \(drainTimeout.humanReadable)"
                outcome.stopped = "\(why); \(name) stays in DRAIN (no new users), nothing removed: run scale remove again, or set it ready"
                return outcome
            }
            step("\(name) has no connections left")
            try await fleet.runtime.setState("maint", server: name, backend: fleet.backend)
            try await fleet.execute("del server \(fleet.backend)/\(name)", expecting: "Server deleted")
            step("\(fleet.backend)/\(name) deleted from HAProxy")
        } else {
            step("\(fleet.backend)/\(name) is not in HAProxy")
        }
        try changes[0].apply()
        step("\(name) removed from \(changes[0].path)")
        if write {
            for change in changes.dropFirst() {
                try change.apply()
                step("wrote \(change.path)")
            }
        }
        return outcome
    }

    public func audit(_ outcome: ScaleOutcome) -> OperationRecord {
        OperationRecord(outcome: outcome.stopped.map { .failed($0) } ?? .succeeded, details: [("files_written", .bool(write))])
    }
}
