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
    /// - Parameter interruptAfter: sends SIGINT after this long, as Ctrl-C would.
    package static func capture(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
        interruptAfter: Duration? = nil
    ) throws -> ProgramRun {
        let scratch = try TemporaryDirectory(prefix: "whisper-run")
        defer { scratch.remove() }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, scratch.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, scratch.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // coreutils' env -C changes directory: glibc's addchdir_np is not visible to Swift.
        let argv = (["/usr/bin/env", "-C", directory, executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let started = ContinuousClock.now
        let result = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        guard result == 0 else { throw SupportError("cannot run \(executable): \(String(cString: strerror(result)))") }
        if let interruptAfter {
            usleep(UInt32(interruptAfter.components.seconds * 1_000_000 + interruptAfter.components.attoseconds / 1_000_000_000_000))
            kill(pid, SIGINT)
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
