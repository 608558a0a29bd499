import Foundation
import NIOPosix
import OpsKit
import NIOConcurrencyHelpers

/// A real server process started for a test, its output kept in a log file for failure reports.
///
/// Spawned with posix_spawn and an empty signal mask: threads of the test process block some
/// signals, and a child inheriting that mask would ignore the SIGTERM that stops it.
package final class ServiceProcess: @unchecked Sendable {
    // `pid` never changes; `status` is only read and written under its lock.
    package let pid: pid_t
    private let status = NIOLockedValueBox<Int32?>(nil)
    package let name: String
    package let logPath: String

    /// - Parameter environment: the child's whole environment; nil inherits ours.
    package init(name: String, executable: String, arguments: [String], logPath: String, environment: [String: String]? = nil) throws {
        self.name = name
        self.logPath = logPath
        // setpriv makes the kernel kill the service if the test process dies without stopping it.
        var argv = [executable] + arguments
        var program = executable
        if let setpriv = Executables.find("setpriv") {
            program = setpriv
            argv = [setpriv, "--pdeathsig", "KILL", "--"] + argv
        }
        let (spawnProgram, spawnArguments) = (program, argv)
        pid = try Spawner.run {
            try spawnWithCleanSignals(program: spawnProgram, arguments: spawnArguments, outputPath: logPath, environment: environment)
        }
    }

    deinit { stop() }

    package var isRunning: Bool {
        status.withLockedValue { status in
            if status != nil { return false }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid || reaped < 0 { status = raw }
            return status == nil
        }
    }

    /// The last lines of the log, for error messages.
    package var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process is gone.
    package func stop(grace: Duration = .seconds(5)) {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if !waitForExit(grace) {
            kill(pid, SIGKILL)
            _ = waitForExit(.seconds(5))
        }
    }

    /// SIGKILL now, as a crash would.
    package func kill9() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        _ = waitForExit(.seconds(5))
    }

    private func waitForExit(_ limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// SIGSTOP / SIGCONT: a frozen server that accepts connections but never answers.
    package func pause() { kill(pid, SIGSTOP) }
    package func signal(_ number: Int32) { kill(pid, number) }

    /// The exit status once it has exited (nil while running or when killed by a signal).
    package func waitForExitCode(timeout: Duration) -> Int32? {
        guard waitForExit(timeout) else { return nil }
        return status.withLockedValue { raw in
            guard let raw, raw & 0x7f == 0 else { return nil }
            return (raw >> 8) & 0xff
        }
    }
    package func resume() { kill(pid, SIGCONT) }
}

/// Spawns services from one thread that lives as long as the test process. The kernel's
/// parent-death signal (setpriv --pdeathsig) fires when the *thread* that spawned a child exits,
/// and the threads behind Swift concurrency come and go: a server spawned from one was killed
/// some seconds later, when that thread retired.
enum Spawner {
    private static let thread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = NIOLockedValueBox<Result<T, Error>?>(nil)
        thread.submit { state in
            let outcome: Result<T, Error> =
                state == .active ? Result { try body() } : .failure(SupportError("the spawner thread is not running"))
            result.withLockedValue { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLockedValue { $0! }.get()
    }
}

/// Starts `program` with default signal dispositions and an empty mask, stdin from /dev/null,
/// stdout appended to `outputPath` and stderr to `errorPath` (or the same file).
package func spawnWithCleanSignals(
    program: String, arguments: [String], outputPath: String, errorPath: String? = nil, environment: [String: String]? = nil
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    if let errorPath {
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    markDescriptorsCloseOnExec()
    var child = pid_t()
    let cArguments = arguments.map { strdup($0) } + [nil]
    // Without an explicit environment the child inherits ours.
    let variables = environment ?? ProcessInfo.processInfo.environment
    let cEnvironment = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        cArguments.forEach { free($0) }
        cEnvironment.forEach { free($0) }
    }
    let result = CleanSpawn.withAttributes { posix_spawn(&child, program, &actions, &$0, cArguments, cEnvironment) }
    guard result == 0 else {
        throw SupportError("cannot start \(program): \(String(cString: strerror(result)))")
    }
    return child
}

/// Sets close-on-exec on every descriptor above stderr, so a child never inherits the test
/// process's sockets: an inherited client socket would keep a connection open after the test
/// closed it, and the server would never see the peer go.
private func markDescriptorsCloseOnExec() {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
    for entry in entries {
        guard let fd = Int32(entry), fd > 2 else { continue }
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }
}

/// Runs a short command to completion.
package enum Command {
    /// - Returns: its output (stdout and stderr).
    /// - Throws: when it exits non-zero, with the output. Output goes through a file rather than a
    ///   pipe, so a daemon the command leaves behind (pg_ctl start) cannot hold it open.
    @discardableResult
    package static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let directory = try TemporaryDirectory(prefix: "whisper-cmd")
        defer { directory.remove() }
        let outputPath = directory.file("output")
        let pid = try spawnWithCleanSignals(program: executable, arguments: [executable] + arguments, outputPath: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        let exitedNormally = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exitedNormally && code == 0 else {
            let how = exitedNormally ? "exited \(code)" : "was killed by signal \(status & 0x7f)"
            throw SupportError("\(executable) \(arguments.joined(separator: " ")) \(how): \(text)")
        }
        return text
    }
}

package enum Executables {
    package static func find(_ name: String, extraDirectories: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = extraDirectories + path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin"]
        return directories.map { ($0 as NSString).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    package static func require(_ name: String, extraDirectories: [String] = []) throws -> String {
        guard let found = find(name, extraDirectories: extraDirectories) else {
            throw SupportError("\(name) is not installed: run scripts/test, which installs it")
        }
        return found
    }
}

/// Starts a service, runs `body`, and stops the service whether `body` succeeds or throws.
package func withService<Service: StoppableService, Result>(
    _ start: () async throws -> Service, _ body: (Service) async throws -> Result
) async throws -> Result {
    let service = try await start()
    do {
        let result = try await body(service)
        await service.stop()
        return result
    } catch {
        await service.stop()
        throw error
    }
}

/// Starts a service, trying again on fresh ports when an attempt does not come up: on a loaded
/// machine a port can still be taken between choosing it and the server binding it.
package func retryingStart<Service>(attempts: Int = 3, _ start: () async throws -> Service) async throws -> Service {
    var lastError: Error?
    for _ in 0..<attempts {
        do {
            return try await start()
        } catch {
            lastError = error
        }
    }
    throw lastError!
}

/// Waits until `ready` holds; otherwise stops the half-started service and fails with its log.
package func awaitReady<Service: StoppableService>(
    _ service: Service, process: ServiceProcess, _ what: String, _ ready: () async -> Bool
) async throws -> Service {
    do {
        try await eventually(what, ready)
        return service
    } catch {
        await service.stop()
        throw SupportError("\(error)\n\(process.logTail)")
    }
}

package protocol StoppableService: Sendable {
    func stop() async
}
