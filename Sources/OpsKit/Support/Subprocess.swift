import Foundation
import NIOPosix

/// A child program (pg_dump, pg_restore): started with posix_spawn, default signal handling, stdin
/// from /dev/null, stdout to a pipe the caller reads (or to /dev/null), stderr to a private file
/// read once it ends (a pipe nobody drains would block the child).
public final class Subprocess: @unchecked Sendable {
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var succeeded: Bool { self == .exited(0) }

        public var description: String {
            switch self {
            case .exited(let code): return "exited with \(code)"
            case .signalled(let signal): return "was killed by signal \(signal)"
            }
        }
    }

    public let pid: pid_t
    public let executable: String
    /// The read end of the child's stdout, when it was asked for.
    public let standardOutput: Int32?
    private let errorPath: String
    private var terminated: Termination?

    private init(pid: pid_t, executable: String, standardOutput: Int32?, errorPath: String) {
        self.pid = pid
        self.executable = executable
        self.standardOutput = standardOutput
        self.errorPath = errorPath
    }

    deinit {
        if let standardOutput { close(standardOutput) }
        unlink(errorPath)
    }

    /// - Parameters:
    ///   - captureOutput: stdout to a pipe (`standardOutput`), else to /dev/null.
    ///   - environment: the child's whole environment.
    /// - Throws: `OpsError(.io)` naming the program when it cannot be started.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], captureOutput: Bool
    ) throws -> Subprocess {
        var template = Array("/tmp/whisperctl-stderr-XXXXXX".utf8CString)
        let errorFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard errorFD >= 0 else { throw OpsError(.io, "cannot create a file for \(executable)'s errors: \(String(cString: strerror(errno)))") }
        let errorPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        close(errorFD)
        var pipeFDs: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&pipeFDs) == 0 else { throw OpsError(.io, "pipe: \(String(cString: strerror(errno)))") }
            _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_TRUNC, 0o600)
        let cArguments = ([executable] + arguments).map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid = pid_t()
        let result = CleanSpawn.withAttributes { posix_spawn(&pid, executable, &actions, &$0, cArguments, cEnvironment) }
        if captureOutput { close(pipeFDs[1]) }
        guard result == 0 else {
            if captureOutput { close(pipeFDs[0]) }
            unlink(errorPath)
            throw OpsError(.io, "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return Subprocess(pid: pid, executable: executable, standardOutput: captureOutput ? pipeFDs[0] : nil, errorPath: errorPath)
    }

    /// Waits for the child to end (blocking: call it off the event loops, on a thread pool).
    func waitBlocking() -> Termination {
        if let terminated { return terminated }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED, WEXITSTATUS and WTERMSIG, which Swift does not import.
        let outcome: Termination = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        terminated = outcome
        return outcome
    }

    public func wait(on pool: NIOThreadPool = .singleton) async throws -> Termination {
        try await pool.runIfActive { self.waitBlocking() }
    }

    public func signal(_ number: Int32) { kill(pid, number) }

    /// What the child wrote on stderr, at most the last 8 KiB.
    var errorOutput: String {
        guard let data = FileManager.default.contents(atPath: errorPath) else { return "" }
        return String(decoding: data.suffix(8192), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a program to its end and returns its stdout (for `--version`, `pg_restore --list`).
    public static func output(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], pool: NIOThreadPool = .singleton
    ) async throws -> (termination: Termination, output: String, errors: String) {
        let child = try spawn(executable, arguments, environment: environment, captureOutput: true)
        let fd = child.standardOutput!
        let output: [UInt8] = try await pool.runIfActive {
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                collected += buffer[0..<count]
            }
            return collected
        }
        let termination = try await child.wait(on: pool)
        return (termination, String(decoding: output, as: UTF8.self), child.errorOutput)
    }
}
