import Foundation

/// posix_spawn attributes for a child that starts clean: an empty signal mask and default
/// dispositions (a parent ignoring SIGTERM while it traps Ctrl-C must not hand that on), and
/// optionally a session of its own (so the operator's Ctrl-C never reaches it).
package enum CleanSpawn {
    static let defaulted = [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2]

    package static func withAttributes<T>(newSession: Bool = false, _ body: (inout posix_spawnattr_t) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in defaulted { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // POSIX_SPAWN_SETSID (0x80) is glibc's; Swift does not import the macro.
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? 0x80 : 0)
        posix_spawnattr_setflags(&attributes, Int16(flags))
        return try body(&attributes)
    }
}
