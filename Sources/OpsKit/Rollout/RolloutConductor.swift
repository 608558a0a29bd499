import Foundation
import NIOConcurrencyHelpers

/// The rolling update: for each server, drain it in HAProxy, drain the server itself through its
/// driver, restart it, wait until it is ready and UP, put it back, soak it. Every wait is bounded;
/// a failed gate stops with the fleet serving; Ctrl-C brings the server in hand back first.
public struct RolloutConductor: Sendable {
    public var servers: [ServerEntry]
    var drivers: [String: RestartDriver]
    public var observer: FleetObserver
    var dependencies: [(name: String, check: @Sendable () async -> ComponentReport)]
    public var options: RolloutOptions
    public var emit: @Sendable (RolloutEvent) -> Void
    /// True once the operator asked to stop (Ctrl-C).
    public var interrupted: @Sendable () -> Bool

    public init(
        servers: [ServerEntry], drivers: [String: RestartDriver], observer: FleetObserver,
        dependencies: [(name: String, check: @Sendable () async -> ComponentReport)], options: RolloutOptions,
        emit: @escaping @Sendable (RolloutEvent) -> Void, interrupted: @escaping @Sendable () -> Bool
    ) {
        self.servers = servers
        self.drivers = drivers
        self.observer = observer
        self.dependencies = dependencies
        self.options = options
        self.emit = emit
        self.interrupted = interrupted
    }

    /// The conductor for an inventory's servers: their restart blocks as drivers, HAProxy's
    /// runtime API to drain through, and Redis and NATS (which carry resumes) as dependencies.
    /// - Throws: `OpsError(.invalidInput)` when `haproxy.runtime_api` is missing or malformed.
    public init(
        inventory: Inventory, options: RolloutOptions, emit: @escaping @Sendable (RolloutEvent) -> Void,
        interrupted: @escaping @Sendable () -> Bool
    ) throws {
        guard let runtimeText = inventory.haproxyRuntimeAPI else {
            throw OpsError(.invalidInput, "haproxy.runtime_api is not set: the rollout drains servers through HAProxy's runtime API (docs/rollout.md)")
        }
        let runtime: HAProxyRuntimeAPI
        do { runtime = try HAProxyRuntimeAPI(parsing: runtimeText) } catch {
            throw OpsError(.invalidInput, "haproxy.runtime_api: \(error)")
        }
        self.init(
            servers: inventory.servers,
            drivers: Dictionary(uniqueKeysWithValues: inventory.servers.compactMap { entry in
                entry.restart.map { (entry.name, RestartDrivers.make($0, server: entry.name, baseDirectory: inventory.baseDirectory)) }
            }),
            observer: FleetObserver(servers: inventory.servers, runtime: runtime, backend: inventory.haproxyBackend),
            dependencies: Self.dependencies(inventory), options: options, emit: emit, interrupted: interrupted)
    }

    /// Redis and NATS carry resumes: the rollout needs them healthy.
    static func dependencies(_ inventory: Inventory) -> [(name: String, check: @Sendable () async -> ComponentReport)] {
        var checks: [(name: String, check: @Sendable () async -> ComponentReport)] = []
        let environment = ProbeEnvironment()
        if let address = try? inventory.redisAddress() {
            checks.append(("redis", { await RedisProbe(address: address).run(in: environment) }))
        }
        if let monitor = inventory.natsMonitorURL {
            checks.append(("nats", { await NATSProbe(monitorURL: monitor).run(in: environment) }))
        } else if let url = inventory.natsURL {
            // No monitoring port: the client protocol's PING says whether NATS answers.
            checks.append(("nats", { await NATSClientProbe(url: url).run(in: environment) }))
        }
        return checks
    }

    // MARK: Preflight

    public func preflight() async -> RolloutPreflight {
        var problems: [String] = []
        var notes: [String] = []
        let selected = options.only.isEmpty ? servers.map(\.name) : options.only
        for name in options.only where !servers.contains(where: { $0.name == name }) {
            problems.append("\(name): not a server of the inventory (\(servers.map(\.name).joined(separator: ", ")))")
        }
        for name in selected where drivers[name] == nil && servers.contains(where: { $0.name == name }) {
            problems.append("\(name): no restart block in the inventory (servers[].restart: {driver: ...}); see docs/rollout.md")
        }
        if options.autoRollback {
            for name in selected where drivers[name].map({ !$0.canRollBack }) == true {
                problems.append("\(name): --auto-rollback needs a rollback command in its restart block")
            }
        }
        var observations: [ServerObservation] = []
        // A health check that fails once under load flaps a server DOWN for a moment: a server
        // not serving is looked at again before it counts.
        for attempt in 0..<3 {
            do {
                observations = try await observer.observeAll()
            } catch {
                return RolloutPreflight(order: [], observations: [], problems: problems + ["HAProxy: \(error)"], notes: notes)
            }
            if observations.allSatisfy(\.isServing) || attempt == 2 { break }
            try? await Task.sleep(for: .seconds(1))
        }
        // Every server, whatever --only says: with two URLs swapped, the rollout would drain and
        // restart one server while it watches the other.
        for observation in observations {
            guard let entry = servers.first(where: { $0.name == observation.name }) else { continue }
            let mismatches = [
                ServerIdentity.nameMismatch(entry, reported: observation.reportedName, fleet: servers.map(\.name)),
                ServerIdentity.addressMismatch(entry, haproxyAddress: observation.haproxyAddress),
            ]
            for mismatch in mismatches.compactMap({ $0 }) { problems.append("\(observation.name): \(mismatch)") }
        }
        var unhealthy: [String] = []
        for observation in observations where selected.contains(observation.name) || options.only.isEmpty {
            guard observation.haproxyState != nil else {
                problems.append("\(observation.name): not a server of HAProxy backend \(observer.backend)")
                continue
            }
            if !observation.isServing || observation.health == "unhealthy" {
                let why = [
                    observation.reachable ? nil : "/health unreachable",
                    observation.ready || !observation.reachable ? nil : "/ready not 200",
                    observation.haproxyState == .up ? nil : "HAProxy \(observation.haproxyState?.rawValue ?? "?")",
                    observation.health == "unhealthy" ? "unhealthy" : nil,
                ].compactMap { $0 }.joined(separator: ", ")
                unhealthy.append(observation.name)
                if options.startWithUnhealthy {
                    notes.append("\(observation.name) is not serving (\(why)): updated first")
                } else {
                    problems.append("\(observation.name) is not serving (\(why)): fix it first, or --start-with-unhealthy to update it first")
                }
            }
        }
        for dependency in dependencies {
            let report = await dependency.check()
            if report.status != .ok {
                problems.append("\(dependency.name) is \(report.status.rawValue.uppercased()): \(report.detail) (clients resume through it)")
            }
        }
        // A server already on the expected version and serving is not restarted again.
        var upToDate: [String] = []
        if let expected = options.expectVersion {
            for observation in observations where selected.contains(observation.name) && observation.isServing && observation.version == expected {
                upToDate.append(observation.name)
                notes.append("\(observation.name) already runs \(expected): skipped")
            }
        }
        // Headroom: while up to maxUnavailable servers are out, the others take their clients.
        let serving = observations.filter(\.isServing)
        // With --start-with-unhealthy those go first: once updated they serve (checked again
        // before the next server is drained).
        let comingBack = options.startWithUnhealthy ? unhealthy.filter { selected.contains($0) } : []
        for observation in observations where selected.contains(observation.name) && observation.isServing && !upToDate.contains(observation.name) {
            let others = serving.filter { $0.name != observation.name }
            let moving = (observation.connections ?? observation.haproxySessions ?? 0) * max(1, options.maxUnavailable)
            guard !others.isEmpty else {
                if comingBack.isEmpty {
                    problems.append("\(observation.name): no other server serving to take its clients")
                } else {
                    notes.append("\(observation.name): its clients go to \(comingBack.joined(separator: ", ")) once updated; checked again before it is drained")
                }
                continue
            }
            let roomParts = others.map(\.headroom)
            if roomParts.contains(where: { $0 == nil }) {
                notes.append("\(observation.name): headroom unknown (a server does not report max_connections)")
                continue
            }
            let room = roomParts.compactMap { $0 }.sorted().dropLast(max(0, options.maxUnavailable - 1)).reduce(0, +)
            if room < moving {
                problems.append("\(observation.name): \(moving) connections to move, room for \(room) on the others (MAX_CONNECTIONS, HAProxy maxconn)")
            }
        }
        // A driver that could not act on a serving server (a stale pid file) would fail mid-rollout.
        for observation in observations where selected.contains(observation.name) && observation.isServing && !upToDate.contains(observation.name) {
            if let problem = drivers[observation.name]?.readinessProblem() { problems.append("\(observation.name): \(problem)") }
        }
        let order = (unhealthy.filter { selected.contains($0) } + selected.filter { !unhealthy.contains($0) }).filter { !upToDate.contains($0) }
        var preflight = RolloutPreflight(order: order, observations: observations, problems: problems, notes: notes)
        for name in order { preflight.commands[name] = drivers[name]?.plannedCommands }
        return preflight
    }

    // MARK: The procedure

    /// Runs the plan in batches of `maxUnavailable`. `updated` collects the servers done, for a rollback.
    public func run(order: [String]) async -> RolloutOutcome {
        var updated: [String] = []
        var index = 0
        while index < order.count {
            let batch = Array(order[index..<min(order.count, index + max(1, options.maxUnavailable))])
            index += batch.count
            let results = await withTaskGroup(of: (String, ServerResult).self) { group in
                for name in batch {
                    group.addTask { (name, await update(name)) }
                }
                var all: [(String, ServerResult)] = []
                for await result in group { all.append(result) }
                return all
            }
            var failure: RolloutOutcome?
            // Nothing speaks against the new version: no rollback for that alone.
            var notJudged = false
            for (name, result) in results {
                switch result {
                case .updated: updated.append(name)
                case .stopped(let why):
                    updated.append(name)
                    failure = failure ?? .stopped("\(name): \(why)")
                case .notJudged(let why):
                    updated.append(name)
                    notJudged = true
                    failure = failure ?? .stopped("\(name): \(why)")
                case .stoppedBefore(let why): failure = failure ?? .stopped("\(name): \(why)")
                case .unsafe(let why): failure = .unsafe("\(name): \(why)")
                }
            }
            if let failure {
                if case .stopped = failure, options.autoRollback, !interrupted(), !notJudged {
                    return await rollBack(updated.reversed(), after: failure)
                }
                return failure
            }
            if interrupted(), index < order.count {
                return .stopped("interrupted: \(updated.joined(separator: ", ")) updated, \(order[index...].joined(separator: ", ")) not touched")
            }
        }
        return .completed
    }

    enum ServerResult {
        /// Updated and soaked.
        case updated
        /// Updated (the new version runs) but a later gate failed or the operator stopped.
        case stopped(String)
        /// Updated, but the soak saw no traffic to judge it by, and idle soaks are not accepted.
        case notJudged(String)
        /// Stopped before the server was changed.
        case stoppedBefore(String)
        case unsafe(String)
    }

    private func entry(_ name: String) -> ServerEntry { servers.first { $0.name == name }! }

    func setState(_ state: String, _ name: String) async throws {
        try await observer.runtime.setState(state, server: name, backend: observer.backend)
        emit(RolloutEvent(.step, server: name, step: "haproxy", "HAProxy \(observer.backend)/\(name) set to \(state.uppercased())"))
    }

    func update(_ name: String) async -> ServerResult {
        let driver = drivers[name]!
        let server = entry(name)
        let started = ContinuousClock.now
        let rows = try? await observer.haproxyRows()
        let before = await observer.observe(server, rows: rows)
        // Never drain the last server serving: its clients would have nowhere to go.
        if before.isServing {
            var othersServing = false
            for other in servers where other.name != name {
                if await observer.observe(other, rows: rows).isServing {
                    othersServing = true
                    break
                }
            }
            if !othersServing { return .stoppedBefore("no other server serving to take its clients; it was not touched") }
        }
        emit(RolloutEvent(.info, server: name, step: "begin", "updating \(name) (\(driver.description)), \(before.connections ?? 0) connections, version \(before.version ?? "?")"))

        // 1. No new users from HAProxy.
        do {
            try await setState("drain", name)
        } catch {
            return .stoppedBefore("could not drain in HAProxy: \(error)")
        }
        if interrupted() {
            do {
                try await setState("ready", name)
                return .stoppedBefore("interrupted before the drain signal; back to READY")
            } catch {
                return .unsafe("interrupted, and HAProxy did not take it back to READY: \(error); run: set server \(observer.backend)/\(name) state ready")
            }
        }

        // 2. The server evicts its clients (paced over DRAIN_SPREAD); they resume elsewhere.
        // A server that is down (a crash, a stopped rollout) has nothing to drain: it is started.
        var notRunning = false
        if !before.reachable, let stopped = try? await driver.isStopped() { notRunning = stopped == true }
        let drainedItself: Bool
        do {
            if notRunning { emit(RolloutEvent(.info, server: name, step: "drain", "not running: nothing to drain")) }
            drainedItself = notRunning ? false : try await driver.sendDrain()
        } catch {
            let back = (try? await setState("ready", name)) != nil
            return back
                ? .stoppedBefore("the drain signal failed: \(error); HAProxy state back to READY")
                : .unsafe("the drain signal failed: \(error), and HAProxy did not take it back to READY")
        }
        if drainedItself {
            emit(RolloutEvent(.step, server: name, step: "drain", "drain signal sent through \(driver.description)"))
            await waitDrained(server, driver: driver)
        }

        // 3. The new version.
        emit(RolloutEvent(.step, server: name, step: "restart", "starting the new version"))
        do {
            try await driver.start()
        } catch {
            return .stopped("restart failed: \(error); it stays drained in HAProxy, the others serve")
        }

        // 4. Ready, UP, the expected version.
        if let problem = await waitReady(server) {
            let exited = (try? await driver.isStopped()) == true ? "; the new process is not running (see its log)" : ""
            return .stopped("\(problem)\(exited); it stays drained in HAProxy, the others serve")
        }

        // 5. Users again.
        do {
            try await setState("ready", name)
        } catch {
            return .stopped("it is ready but HAProxy did not take it back: \(error); run: set server \(observer.backend)/\(name) state ready")
        }
        if interrupted() { return .stopped("interrupted; \(name) was brought back and serves") }

        // 6. Soak.
        if options.soak > .zero {
            switch await soak(server) {
            case .success(let verdict) where verdict.sawTraffic:
                emit(RolloutEvent(.done, server: name, step: "soak", "soak passed: \(verdict.summary)", data: [("soak", verdict.json)]))
            case .success(let verdict) where options.acceptIdleSoak:
                emit(RolloutEvent(
                    .warning, server: name, step: "soak", "soak not judged: \(verdict.summary); accepted (--soak-idle-ok)", data: [("soak", verdict.json)]))
            case .success(let verdict):
                return .notJudged(
                    "soak not judged: \(verdict.summary); nothing to judge the new version by. With no users to reach it, "
                        + "--soak-idle-ok accepts that (or --no-soak); with users, a longer --soak lets new connections arrive")
            case .failure(let problem):
                return .stopped("soak failed: \(problem)")
            case .interrupted(let seconds):
                return .stopped(String(format: "interrupted %.0f s into the soak, before a verdict; %@ serves", seconds, name))
            }
        }
        let elapsed = ContinuousClock.now - started
        emit(RolloutEvent(.done, server: name, step: "done", String(format: "%@ updated in %.1f s", name, elapsed.seconds), data: [("seconds", .double(elapsed.seconds))]))
        return .updated
    }

    /// Until HAProxy's sessions and the server's connections reach 0 and the old process is
    /// gone, or the drain timeout, after which it is stopped by force.
    func waitDrained(_ server: ServerEntry, driver: RestartDriver) async {
        let deadline = ContinuousClock.now + options.drainTimeout
        var lastShown = -1
        while ContinuousClock.now < deadline {
            let observation = await observer.observe(server, rows: try? await observer.haproxyRows())
            let remaining = max(observation.reachable ? observation.connections ?? 0 : 0, observation.haproxySessions ?? 0)
            let stopped = (try? await driver.isStopped()) ?? nil
            if remaining != lastShown {
                emit(RolloutEvent(.progress, server: server.name, step: "drain", "\(remaining) connections left", data: [("connections", .int(remaining))]))
                lastShown = remaining
            }
            if remaining == 0 && (stopped ?? !observation.reachable) { return }
            try? await Task.sleep(for: options.poll)
        }
        emit(RolloutEvent(.warning, server: server.name, step: "drain", "still running after \(options.drainTimeout.humanReadable): stopping it by force"))
        do {
            try await driver.forceStop()
        } catch {
            emit(RolloutEvent(.warning, server: server.name, step: "drain", "the forced stop failed: \(error)"))
        }
        let grace = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < grace, (try? await driver.isStopped()) == false { try? await Task.sleep(for: options.poll) }
    }

    /// nil once /ready is 200, HAProxy says UP and the version is the expected one.
    func waitReady(_ server: ServerEntry) async -> String? {
        let deadline = ContinuousClock.now + options.readyTimeout
        var last: ServerObservation?
        while ContinuousClock.now < deadline {
            let observation = await observer.observe(server, rows: try? await observer.haproxyRows())
            last = observation
            // Drained in HAProxy (administrative state) while its checks pass: reported as DRAIN.
            let checksPass = observation.haproxyState == .drain || observation.haproxyState == .up
            if observation.ready && checksPass {
                if let expected = options.expectVersion, observation.version != expected {
                    return "it reports version \(observation.version ?? "none"), not \(expected)"
                }
                emit(RolloutEvent(.step, server: server.name, step: "ready", "ready, version \(observation.version ?? "?")", data: [("version", observation.version.map(JSONValue.string) ?? .null)]))
                return nil
            }
            try? await Task.sleep(for: options.poll)
        }
        let state = last.map { "\($0.reachable ? ($0.ready ? "ready" : "not ready") : "unreachable"), HAProxy \($0.haproxyState?.rawValue ?? "?")" } ?? "never observed"
        return "not ready after \(options.readyTimeout.humanReadable) (\(state))"
    }

    enum SoakResult {
        case success(SoakVerdict)
        case failure(String)
        /// Ctrl-C before the window ended: no verdict.
        case interrupted(seconds: Double)
    }

    func soak(_ server: ServerEntry) async -> SoakResult {
        emit(RolloutEvent(.step, server: server.name, step: "soak", "soaking for \(options.soak.humanReadable)"))
        let started = ContinuousClock.now
        guard let before = try? await observer.metrics(server) else { return .failure("its /metrics could not be read") }
        let deadline = started + options.soak
        var missed = 0
        while ContinuousClock.now < deadline {
            if interrupted() { return .interrupted(seconds: (ContinuousClock.now - started).seconds) }
            try? await Task.sleep(for: min(options.poll * 4, deadline - ContinuousClock.now))
            let observation = await observer.observe(server, rows: try? await observer.haproxyRows())
            missed = observation.isServing ? 0 : missed + 1
            // Twice in a row: one failed check under load is a flap, not a verdict.
            if missed >= 2 {
                return .failure("it stopped serving during the soak (\(observation.reachable ? "not ready" : "unreachable"), HAProxy \(observation.haproxyState?.rawValue ?? "?"))")
            }
        }
        if interrupted() { return .interrupted(seconds: (ContinuousClock.now - started).seconds) }
        guard let after = try? await observer.metrics(server) else { return .failure("its /metrics could not be read") }
        let verdict = SoakVerdict(
            before: before, after: after, seconds: (ContinuousClock.now - started).seconds, maxP99: options.maxP99, maxErrorRate: options.maxErrorRate)
        return verdict.passed ? .success(verdict) : .failure(verdict.problems.joined(separator: "; ") + " (\(verdict.summary))")
    }

    // MARK: Rollback

    func rollBack(_ names: [String], after failure: RolloutOutcome) async -> RolloutOutcome {
        emit(RolloutEvent(.warning, step: "rollback", "rolling back \(names.joined(separator: ", "))"))
        var saved = options
        saved.expectVersion = nil
        let plain = RolloutConductor(
            servers: servers, drivers: drivers, observer: observer, dependencies: dependencies, options: saved, emit: emit, interrupted: interrupted)
        for name in names {
            if let problem = await plain.rollBackOne(name) {
                return .unsafe("rollback of \(name) failed: \(problem)")
            }
        }
        guard case .stopped(let reason) = failure else { return failure }
        return .stopped("\(reason); rolled back: \(names.joined(separator: ", "))")
    }

    /// Drain, stop, the rollback command, ready, back in HAProxy: nil when it serves again.
    func rollBackOne(_ name: String) async -> String? {
        let driver = drivers[name]!
        let server = entry(name)
        do {
            try await setState("drain", name)
            if try await driver.sendDrain() { await waitDrained(server, driver: driver) }
            emit(RolloutEvent(.step, server: name, step: "rollback", "running the rollback command"))
            try await driver.rollback()
        } catch {
            return "\(error)"
        }
        if let problem = await waitReady(server) { return problem }
        do {
            try await setState("ready", name)
        } catch {
            return "ready, but HAProxy did not take it back: \(error)"
        }
        emit(RolloutEvent(.done, server: name, step: "rollback", "\(name) rolled back and serving"))
        return nil
    }
}
