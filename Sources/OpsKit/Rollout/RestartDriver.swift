import Foundation
import NIOPosix

/// How `rollout` stops and starts one whisper-server: the drain signal (the server evicts its
/// clients paced over DRAIN_SPREAD, then exits), a start of the new version, and a rollback.
public protocol RestartDriver: Sendable {
    var description: String { get }
    /// Sends the drain signal and returns; false when this driver has none of its own (the
    /// `command` driver without `drain`: its restart command stops the server, which drains then).
    func sendDrain() async throws -> Bool
    /// Whether the old process is gone; nil when the driver cannot tell.
    func isStopped() async throws -> Bool?
    /// Ends a server that outlived its drain.
    func forceStop() async throws
    /// Starts (or restarts) the server: the new version.
    func start() async throws
    /// Brings the previous version back: the block's `rollback` command.
    func rollback() async throws
    /// Whether a rollback command is configured.
    var canRollBack: Bool { get }
    /// What the driver would run, for the dry run: the drain, the start.
    var plannedCommands: [String] { get }
    /// What would make it fail against a server that serves (a stale pid file), or nil.
    func readinessProblem() -> String?
}

public enum RestartDrivers {
    /// Threads for the drivers' blocking waits (a `docker compose stop` takes as long as the drain).
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    public static func make(_ spec: RestartSpec, server: String, baseDirectory: String) -> RestartDriver {
        let timeout = spec["stop_timeout"].flatMap { Duration(parsing: $0) } ?? .seconds(120)
        let shell = ShellRunner(timeout: timeout, directory: baseDirectory)
        let rollback = spec["rollback"]
        switch spec.driver {
        case .process:
            return ProcessDriver(
                pidFile: resolve(spec["pid_file"]!, in: baseDirectory), start: spec["start"]!,
                log: spec["log"].map { resolve($0, in: baseDirectory) }, rollbackCommand: rollback, directory: baseDirectory)
        case .command:
            return CommandDriver(restart: spec["command"]!, drain: spec["drain"], rollbackCommand: rollback, shell: shell)
        case .systemd:
            return SystemdDriver(unit: spec["unit"]!, rollbackCommand: rollback, shell: shell)
        case .compose:
            return ComposeDriver(
                service: spec["service"]!, file: spec["file"], project: spec["project"], command: spec["compose_command"] ?? "docker compose",
                rollbackCommand: rollback, shell: shell)
        case .docker:
            return DockerDriver(container: spec["container"]!, socket: spec["socket"] ?? "/var/run/docker.sock", rollbackCommand: rollback, shell: shell)
        }
    }

    static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }
}

/// Runs an inventory's shell command (`/bin/sh -c`) to its end, bounded in time; a failure
/// names the command and shows the end of what it printed.
struct ShellRunner: Sendable {
    var timeout: Duration
    var directory: String
    /// Added to whisperctl's own environment: how values (secrets too) reach a command without
    /// appearing on its command line.
    var environment: [String: String] = [:]

    @discardableResult
    func run(_ command: String, what: String) async throws -> String {
        let script = "cd \(Self.quote(directory)) 2>/dev/null; exec 2>&1; \(command)"
        let child = try Subprocess.spawn(
            "/bin/sh", ["-c", script], environment: ProcessInfo.processInfo.environment.merging(environment) { _, given in given }, captureOutput: true)
        let fd = child.standardOutput!
        let (termination, output) = try await withThrowingTaskGroup(of: Void.self) { watchdog in
            watchdog.addTask {
                // Cancelled means the command ended in time.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                child.signal(SIGKILL)
            }
            defer { watchdog.cancelAll() }
            async let output = Self.readToEnd(fd)
            let termination = try await child.wait(on: RestartDrivers.pool)
            watchdog.cancelAll()
            return (termination, try await output)
        }
        guard termination.succeeded else {
            let tail = output.split(separator: "\n").suffix(5).joined(separator: " | ")
            throw OpsError(.serverError, "\(what) failed (\(termination)): `\(command)`" + (tail.isEmpty ? "" : ": \(tail)"))
        }
        return output
    }

    /// Everything the command prints, until it closes its output.
    private static func readToEnd(_ fd: Int32) async throws -> String {
        try await RestartDrivers.pool.runIfActive { () -> String in
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                collected += buffer[0..<count]
            }
            // Not closed here: the Subprocess owns the descriptor and closes it when it goes. A
            // second close could end whatever socket had been given the number in between.
            return String(decoding: collected, as: UTF8.self)
        }
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

extension RestartDriver {
    public var plannedCommands: [String] { [description] }
    public func readinessProblem() -> String? { nil }
}

/// A driver whose rollback is the block's `rollback` shell command.
protocol ShellRollback: RestartDriver {
    var rollbackCommand: String? { get }
    var shell: ShellRunner { get }
}

extension ShellRollback {
    var canRollBack: Bool { rollbackCommand != nil }

    func rollback() async throws {
        guard let rollbackCommand else { throw OpsError(.invalidInput, "no rollback command in the restart block") }
        try await shell.run(rollbackCommand, what: "the rollback command")
    }
}

/// `process`: the server is a process whose pid is in `pid_file`; the drain is SIGTERM, the
/// start a shell command run detached (its own session, output appended to `log`), its pid
/// written to `pid_file`. What a bare-metal or test deployment uses.
struct ProcessDriver: RestartDriver {
    var pidFile: String
    var start: String
    var log: String?
    var rollbackCommand: String?
    var directory: String

    var description: String { "process (pid file \(pidFile))" }
    var canRollBack: Bool { rollbackCommand != nil }
    var plannedCommands: [String] { ["kill -TERM $(cat \(pidFile)) (its process group)", "/bin/sh -c '\(start)' (detached, output to \(log ?? "/dev/null"))"] }

    /// The pid file must name a running process: a stale one would send the drain nowhere.
    func readinessProblem() -> String? {
        do {
            guard let pid = try pid() else { return "pid_file \(pidFile) does not exist: the drain signal would go nowhere" }
            return Self.alive(pid) ? nil : "pid_file \(pidFile) names pid \(pid), which is not running (stale): the drain signal would go nowhere"
        } catch {
            return "\(error)"
        }
    }

    func pid() throws -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else {
            throw OpsError(.invalidInput, "does not hold a process id: '\(text.prefix(40))'", endpoint: pidFile)
        }
        return pid
    }

    func sendDrain() async throws -> Bool {
        guard let pid = try pid(), Self.alive(pid) else {
            throw OpsError(.invalidInput, "no running process to drain", endpoint: pidFile)
        }
        guard Self.signal(pid, SIGTERM) else { throw OpsError(.io, "kill -TERM \(pid): \(String(cString: strerror(errno)))", endpoint: pidFile) }
        return true
    }

    func isStopped() async throws -> Bool? {
        guard let pid = try pid() else { return true }
        return !Self.alive(pid)
    }

    func forceStop() async throws {
        if let pid = try pid(), Self.alive(pid) { _ = Self.signal(pid, SIGKILL) }
    }

    func start() async throws { try await launch(start) }

    func rollback() async throws {
        guard let rollbackCommand else { throw OpsError(.invalidInput, "no rollback command in the restart block") }
        try await launch(rollbackCommand)
    }

    /// A process this driver started leads its own group (the shell and the server it runs):
    /// the signal goes to the group. A pid written by something else gets it alone.
    static func signal(_ pid: pid_t, _ number: Int32) -> Bool {
        if kill(-pid, number) == 0 { return true }
        return kill(pid, number) == 0
    }

    /// Alive and not a zombie of ours (a server this run started and that has exited).
    static func alive(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
        if kill(-pid, 0) == 0 { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    private func launch(_ command: String) async throws {
        let logPath = log ?? "/dev/null"
        let script = "cd \(ShellRunner.quote(directory)) 2>/dev/null; \(command)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let words: [String] = ["/bin/sh", "-c", script]
        let arguments = words.map { strdup($0) } + [nil]
        let environment: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            environment.forEach { free($0) }
        }
        var pid = pid_t()
        // Its own session: Ctrl-C in the operator's terminal never reaches the new server.
        let result = CleanSpawn.withAttributes(newSession: true) { posix_spawn(&pid, "/bin/sh", &actions, &$0, arguments, environment) }
        guard result == 0 else { throw OpsError(.io, "cannot start `\(command)`: \(String(cString: strerror(result)))") }
        // The server's own pid, not the shell's: what an operator's `kill $(cat pid_file)` and a
        // PIDFile= expect. The drain signal still reaches the whole group when the shell leads it.
        let server = await Self.serverProcess(startedBy: pid)
        try AtomicFile.write(Array("\(server)\n".utf8), to: pidFile, mode: 0o644)
    }

    /// The process a start command runs: the shell itself once it has exec'd the server, else
    /// the one process it forked, followed down through further shells. Waits up to a second for
    /// the shell to get there; then the shell's pid is the best there is.
    static func serverProcess(startedBy shell: pid_t) async -> pid_t {
        let deadline = ContinuousClock.now + .seconds(1)
        var current = shell
        while ContinuousClock.now < deadline {
            guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(current)/exe") else { return current }
            if !["sh", "dash", "bash", "ash", "busybox"].contains((executable as NSString).lastPathComponent) { return current }
            let children = (try? String(contentsOfFile: "/proc/\(current)/task/\(current)/children", encoding: .utf8))?
                .split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? []
            if children.count == 1 {
                current = children[0]
                continue
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return current
    }
}

/// `command`: any shell command restarts the server (the guide's `docker compose ... up -d
/// --no-deps wsserver-1`, a `kubectl` line); `drain`, when given, is run first.
struct CommandDriver: ShellRollback {
    var restart: String
    var drain: String?
    var rollbackCommand: String?
    var shell: ShellRunner

    var description: String { "command" }
    var plannedCommands: [String] { [drain, restart].compactMap { $0 } }

    func sendDrain() async throws -> Bool {
        guard let drain else { return false }
        try await shell.run(drain, what: "the drain command")
        return true
    }
    func isStopped() async throws -> Bool? { nil }
    func forceStop() async throws {}
    func start() async throws { try await shell.run(restart, what: "the restart command") }
}

/// `systemd`: the unit is stopped without blocking (systemd sends SIGTERM and waits
/// TimeoutStopSec, which must exceed DRAIN_TIMEOUT) and started again.
struct SystemdDriver: ShellRollback {
    var unit: String
    var rollbackCommand: String?
    var shell: ShellRunner

    var description: String { "systemd unit \(unit)" }
    private var quoted: String { ShellRunner.quote(unit) }

    func sendDrain() async throws -> Bool {
        try await shell.run("systemctl stop --no-block \(quoted)", what: "systemctl stop")
        return true
    }
    func isStopped() async throws -> Bool? {
        let state = (try? await shell.run("systemctl is-active \(quoted) || true", what: "systemctl is-active")) ?? ""
        let word = state.trimmingCharacters(in: .whitespacesAndNewlines)
        return word != "active" && word != "deactivating" && word != "reloading"
    }
    func forceStop() async throws { try await shell.run("systemctl kill --signal=SIGKILL \(quoted)", what: "systemctl kill") }
    func start() async throws { try await shell.run("systemctl start \(quoted)", what: "systemctl start") }
}

/// `compose`: `docker compose stop` (SIGTERM, then the drain, bounded by stop_timeout) in the
/// background, then `up -d --no-deps` creates the container again from the new image. Only
/// subcommands both Compose v2 and v1 (`compose_command: docker-compose`) know are used.
struct ComposeDriver: ShellRollback {
    var service: String
    var file: String?
    var project: String?
    /// The Compose program and any words before its subcommand: `docker compose`, `docker-compose`.
    var command: String
    var rollbackCommand: String?
    var shell: ShellRunner

    var description: String { "compose service \(service)" }

    private var compose: String {
        var words = [command]
        if let file { words += ["-f", ShellRunner.quote(file)] }
        if let project { words += ["-p", ShellRunner.quote(project)] }
        return words.joined(separator: " ")
    }

    func sendDrain() async throws -> Bool {
        let seconds = Int(shell.timeout.seconds)
        let stop = "\(compose) stop -t \(seconds) \(ShellRunner.quote(service))"
        // `stop` blocks for the whole drain, so it runs in the background, on its own, while the
        // conductor watches the connections; `isStopped` sees it finish.
        try await shell.run("\(stop) >/dev/null 2>&1 &", what: "docker compose stop")
        return true
    }
    func isStopped() async throws -> Bool? {
        let running = try await shell.run("\(compose) ps --services --filter status=running", what: "docker compose ps")
        return !running.split(whereSeparator: \.isNewline).contains { $0.trimmingCharacters(in: .whitespaces) == service }
    }
    func forceStop() async throws { try await shell.run("\(compose) kill \(ShellRunner.quote(service))", what: "docker compose kill") }
    func start() async throws { try await shell.run("\(compose) up -d --no-deps \(ShellRunner.quote(service))", what: "docker compose up") }
}

/// `docker`: the Docker Engine API on its unix socket: SIGTERM through `kill`, the state from
/// `inspect`, then `start`.
struct DockerDriver: ShellRollback {
    var container: String
    var socket: String
    var rollbackCommand: String?
    var shell: ShellRunner

    var description: String { "docker container \(container) (\(socket))" }

    private func call(_ method: String, _ path: String) async throws -> HTTPResponse {
        let name = container.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? container
        let request = HTTPRequest(
            method: method, url: "http://docker/v1.41/containers/\(name)\(path)", body: method == "POST" ? [] : nil,
            timeout: .seconds(30), unixSocketPath: socket)
        let response = try await HTTPClient().execute(request)
        guard response.isSuccess || response.status == 304 else {
            let message = (try? JSONValue.parse(response.body))?["message"]?.stringValue ?? response.text.prefix(200).description
            throw OpsError(.serverError, "\(method) /containers/\(container)\(path): HTTP \(response.status): \(message)", endpoint: socket)
        }
        return response
    }

    func sendDrain() async throws -> Bool {
        _ = try await call("POST", "/kill?signal=SIGTERM")
        return true
    }
    func isStopped() async throws -> Bool? {
        let state = try JSONValue.parse(try await call("GET", "/json").body)
        return state["State"]?["Running"]?.boolValue == false
    }
    func forceStop() async throws { _ = try await call("POST", "/kill?signal=SIGKILL") }
    func start() async throws { _ = try await call("POST", "/start") }
}
