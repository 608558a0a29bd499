import Foundation
import NIOConcurrencyHelpers

/// The lock as flock(2) on a file beside the inventory, the holder written inside: the kernel
/// releases it when the holder exits, however it exits. One host only.
public final class FileLockBackend: LockBackend, Sendable {
    public let path: String
    private let descriptor = NIOLockedValueBox<Int32?>(nil)

    public init(path: String) { self.path = path }

    public var description: String { "lock file \(path)" }
    public var heartbeatInterval: Duration? { nil }

    public func tryAcquire(_ holder: LockHolder) async throws -> LockHolder? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OpsError(.io, "cannot open: \(String(cString: strerror(errno)))", endpoint: path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return try await current() ?? LockHolder.current(command: "(unknown)").with(command: "(being written)")
        }
        let bytes = Array((holder.json.serialized() + "\n").utf8)
        ftruncate(fd, 0)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fsync(fd)
        descriptor.withLockedValue { $0 = fd }
        return nil
    }

    public func heartbeat(_ holder: LockHolder) async throws -> Bool { true }

    public func release(_ holder: LockHolder) async throws {
        guard let fd = descriptor.withLockedValue({ $0.take() }) else { return }
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The holder written in the file, if the file is locked now.
    public func current() async throws -> LockHolder? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Lockable means nobody holds it.
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path), let value = try? JSONValue.parse(Array(data)) else { return nil }
        return LockHolder(json: value)
    }

    public func breakLock(_ holder: LockHolder) async throws {
        throw OpsError(
            .invalidInput,
            "a lock file is held by a running process (pid \(holder.pid) on \(holder.host)) and goes when it exits; stop that process",
            endpoint: path)
    }
}
