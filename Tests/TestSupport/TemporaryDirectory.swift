import Foundation
import NIOConcurrencyHelpers

/// A directory under /tmp removed when the test is done with it.
package final class TemporaryDirectory: Sendable {
    package let path: String

    package init(prefix: String = "whisper-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw SupportError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: created)
    }

    package func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `text` to `name` inside the directory and returns its path.
    @discardableResult
    package func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        guard FileManager.default.createFile(atPath: target, contents: Data(text.utf8)) else {
            throw SupportError("cannot write \(target)")
        }
        return target
    }

    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

package struct SupportError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Free loopback TCP ports for test servers.
package enum FreePort {
    private static let handedOut = NIOLockedValueBox<Set<Int>>([])

    /// A port below the kernel's ephemeral range (32768 and up), so the many outgoing connections
    /// of parallel tests can never take it between this check and the server's bind.
    package static func next() throws -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 10_000..<32_000)
            // Never hand out a port twice: two servers starting at once must not race for it.
            guard handedOut.withLockedValue({ $0.insert(candidate).inserted }) else { continue }
            if let (fd, port) = try? boundSocket(port: candidate) {
                close(fd)
                return port
            }
        }
        throw SupportError("no free port found below 32000")
    }

    /// A TCP socket bound to 127.0.0.1 on `port`, or one the kernel picks.
    package static func boundSocket(port: Int = 0) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SupportError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw SupportError("bind failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// Polls `condition` until it holds or `timeout` passes.
package func eventually(
    timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50), _ what: String,
    _ condition: () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw SupportError("timed out after \(timeout) waiting for \(what)")
}
