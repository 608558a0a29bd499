import Foundation

/// Waits for a non-blocking socket to become readable or writable, up to a deadline.
/// Used by the libpq client on thread-pool threads, never on an event loop.
enum SocketWait {
    enum Interest { case read, write, readOrWrite }

    /// - Returns: false when the deadline passed first.
    static func wait(fd: Int32, for interest: Interest, until deadline: ContinuousClock.Instant) throws -> Bool {
        var events: Int16
        switch interest {
        case .read: events = Int16(POLLIN)
        case .write: events = Int16(POLLOUT)
        case .readOrWrite: events = Int16(POLLIN | POLLOUT)
        }
        while true {
            let remaining = deadline - .now
            if remaining <= .zero { return false }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let millis = Int32(clamping: max(remaining.milliseconds, 1))
            let ready = poll(&descriptor, 1, millis)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR {
                throw OpsError(.io, "poll failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}
