import Foundation

/// The outcome of running a program as an operator would.
package struct ProgramRun: Sendable {
    package var status: Int32
    package var stdout: String
    package var stderr: String
    package var elapsed: Duration
}

extension Command {
    /// Runs `executable` in `directory` with exactly `environment`, capturing stdout and stderr apart.
    /// - Parameters:
    ///   - interruptAfter: sends SIGINT after this long, as Ctrl-C would.
    ///   - started: told the process id once it runs, for a test that signals it on an event.
    package static func capture(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
        interruptAfter: Duration? = nil, signal: Int32 = SIGINT, started onStart: (@Sendable (pid_t) -> Void)? = nil
    ) throws -> ProgramRun {
        let scratch = try TemporaryDirectory(prefix: "whisper-run")
        defer { scratch.remove() }
        let started = ContinuousClock.now
        // coreutils' env -C changes directory: glibc's addchdir_np is not visible to Swift.
        let pid = try spawnWithCleanSignals(
            program: "/usr/bin/env", arguments: ["/usr/bin/env", "-C", directory, executable] + arguments,
            outputPath: scratch.file("stdout"), errorPath: scratch.file("stderr"), environment: environment)
        onStart?(pid)
        if let interruptAfter {
            usleep(UInt32(interruptAfter.components.seconds * 1_000_000 + interruptAfter.components.attoseconds / 1_000_000_000_000))
            kill(pid, signal)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let elapsed = ContinuousClock.now - started
        let exitCode = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ProgramRun(
            status: exitCode,
            stdout: (try? String(contentsOfFile: scratch.file("stdout"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: scratch.file("stderr"), encoding: .utf8)) ?? "",
            elapsed: elapsed)
    }
}
