import Foundation
import NIOPosix

/// One service's log as lines: the last few, then (following) every new one as it is written,
/// each exactly once. Files are polled and reopened when rotated; journald and kubectl are
/// followed through their own `-f`; Docker's Engine API is asked for what came since the last
/// line seen.
public struct LogFeed: Sendable {
    public let service: String
    public let source: LogSource
    let tail: LogTail
    /// How often a file or the Engine API is looked at again while following.
    public var pollInterval: Duration = .milliseconds(200)

    public init(service: String, source: LogSource, environment: ProbeEnvironment, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") {
        self.service = service
        self.source = source
        self.tail = LogTail(environment: environment, searchPath: searchPath)
    }

    /// Where the history ended, so following starts at the next line.
    public enum Position: Sendable {
        case file(device: UInt64, inode: UInt64, offset: Int)
        /// journald's cursor of the last entry shown.
        case journal(cursor: String?)
        /// The time stamp of the last line shown (Docker, kubectl); nil: none yet.
        case time(String?)
    }

    /// The last `count` lines and where they end.
    public func history(_ count: Int) async throws -> (lines: [String], position: Position) {
        switch source {
        case .file(let path):
            return try await tail.environment.pool.runIfActive { try Self.fileHistory(count, path: path) }
        case .journald:
            let lines = try await tail.lastLines(count, of: source)
            let cursor = lines.last.flatMap { try? JSONValue.parse(Array($0.utf8)) }?["__CURSOR"]?.stringValue
            return (lines, .journal(cursor: cursor))
        case .docker, .kubernetes:
            let lines = try await tail.lastLines(count, of: source)
            return (lines, .time(lines.last.flatMap(Self.leadingTime)))
        }
    }

    /// Calls `emit` with each batch of new lines until cancelled (Ctrl-C), or throws when the
    /// source fails (a program that exits, a file that cannot be read).
    public func follow(from position: Position, _ emit: @escaping @Sendable ([String]) -> Void) async throws {
        switch (source, position) {
        case (.file(let path), .file(let device, let inode, let offset)):
            var follower = try FileFollower(path: path, device: device, inode: inode, offset: offset)
            defer { follower.close() }
            while !Task.isCancelled {
                let lines = try await tail.environment.pool.runIfActive { [follower] in
                    var copy = follower
                    let lines = try copy.poll()
                    return (lines, copy)
                }
                follower = lines.1
                if !lines.0.isEmpty { emit(lines.0) }
                do { try await Task.sleep(for: pollInterval) } catch { return }
            }
        case (.journald(let unit), .journal(let cursor)):
            var arguments = ["-u", unit, "-o", "json", "-f", "--no-pager", "-q"]
            arguments += cursor.map { ["--after-cursor=\($0)"] } ?? ["-n", "0"]
            try await stream("journalctl", arguments, emit)
        case (.kubernetes(let namespace, let selector), .time(let last)):
            var arguments = ["logs", "-f", "-n", namespace, "-l", selector, "--timestamps", "--prefix", "--all-containers", "--max-log-requests=20"]
            arguments += last.map { ["--since-time=\($0)"] } ?? ["--tail=0"]
            // --since-time repeats the lines of that very time stamp: the ones shown already go.
            try await stream("kubectl", arguments) { lines in
                emit(lines.filter { line in Self.isAfter(line, last) })
            }
        case (.docker(let container), .time(let last)):
            var seen = last
            while !Task.isCancelled {
                do { try await Task.sleep(for: pollInterval) } catch { return }
                let lines = try await tail.dockerLines(since: seen, container: container)
                let new = lines.filter { line in Self.isAfter(line, seen) }
                if let stamp = new.last.flatMap(Self.leadingTime) { seen = stamp }
                if !new.isEmpty { emit(new) }
            }
        default:
            throw OpsError(.invalidInput, "\(service): a position that does not belong to \(source)")
        }
    }

    /// Runs a program that follows a log and hands on its lines until cancelled.
    func stream(_ program: String, _ arguments: [String], _ emit: @escaping @Sendable ([String]) -> Void) async throws {
        let executable = try tail.locate(program, for: source)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = tail.searchPath
        let child = try Subprocess.spawn(executable, arguments, environment: environment, captureOutput: true)
        let fd = child.standardOutput!
        let pool = tail.environment.pool
        let ended = try await withTaskCancellationHandler {
            var partial: [UInt8] = []
            while true {
                let chunk = try await pool.runIfActive { () -> [UInt8] in
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = read(fd, &buffer, buffer.count)
                        if count < 0 && errno == EINTR { continue }
                        return count > 0 ? Array(buffer[..<count]) : []
                    }
                }
                if chunk.isEmpty { break }
                partial += chunk
                guard let last = partial.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let complete = String(decoding: partial[..<last], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                partial.removeSubrange(...last)
                emit(complete)
            }
            return try await child.wait(on: pool)
        } onCancel: {
            child.signal(SIGTERM)
        }
        Glibc.close(fd)
        if Task.isCancelled { return }
        let said = child.errorOutput.split(separator: "\n").last.map { ": \($0)" } ?? ""
        throw OpsError(.io, "\(source): \(program) \(ended)\(said)")
    }

    /// Whether the line's time stamp is after `last` (a line without one is kept).
    static func isAfter(_ line: String, _ last: String?) -> Bool {
        guard let last, let stamp = leadingTime(line) else { return true }
        return stamp > last
    }

    /// Docker's and kubectl's RFC 3339 time stamp at the start of a line (after kubectl's
    /// `[pod/…]` prefix): its text, which sorts as the time does (same zone, same digits).
    static func leadingTime(_ line: String) -> String? {
        var rest = Substring(line)
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { rest = rest[rest.index(after: close)...].drop { $0 == " " } }
        guard let space = rest.firstIndex(of: " ") else { return nil }
        let stamp = rest[..<space]
        return LogTime.parseISO(stamp) == nil ? nil : String(stamp)
    }

    static func fileHistory(_ count: Int, path: String) throws -> (lines: [String], position: Position) {
        let fd = try LogTail.openLog(path)
        defer { Glibc.close(fd) }
        var status = stat()
        fstat(fd, &status)
        let size = Int(status.st_size)
        let lines = try LogTail.lastLines(count, fd: fd, end: size, path: path)
        return (lines, .file(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), offset: size))
    }
}

/// A log file read from an offset on, across rotations: renamed away and recreated (logrotate's
/// create), truncated in place (copytruncate), or gone for a while. The old file is read to its
/// end before the new one is opened, so no line is lost or read twice.
struct FileFollower: Sendable {
    let path: String
    private(set) var fd: Int32
    private(set) var device: UInt64
    private(set) var inode: UInt64
    private(set) var offset: Int
    /// The start of a line whose end is not written yet.
    private var partial: [UInt8] = []

    init(path: String, device: UInt64, inode: UInt64, offset: Int) throws {
        self.path = path
        self.device = device
        self.inode = inode
        self.offset = offset
        fd = try LogTail.openLog(path)
        var status = stat()
        fstat(fd, &status)
        // Rotated between the history and now: the history's file is gone, start the new one.
        if UInt64(status.st_dev) != device || UInt64(status.st_ino) != inode {
            self.device = UInt64(status.st_dev)
            self.inode = UInt64(status.st_ino)
            self.offset = 0
        }
    }

    func close() { Glibc.close(fd) }

    /// The complete lines written since the last poll.
    mutating func poll() throws -> [String] {
        var lines = try readToEnd()
        var status = stat()
        if stat(path, &status) == 0 {
            if UInt64(status.st_dev) != device || UInt64(status.st_ino) != inode {
                // Renamed away and a new file made: what the old one got last is read above.
                if !partial.isEmpty { lines.append(String(decoding: partial, as: UTF8.self)) }
                partial = []
                let next = try LogTail.openLog(path)
                Glibc.close(fd)
                fd = next
                device = UInt64(status.st_dev)
                inode = UInt64(status.st_ino)
                offset = 0
                lines += try readToEnd()
            } else if Int(status.st_size) < offset {
                // Truncated in place: it starts again from nothing.
                partial = []
                offset = 0
                lines += try readToEnd()
            }
        }
        return lines
    }

    private mutating func readToEnd() throws -> [String] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var lines: [String] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw OpsError(.io, "cannot read log \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            offset += count
            partial += buffer[..<count]
            if let last = partial.lastIndex(of: UInt8(ascii: "\n")) {
                lines += String(decoding: partial[..<last], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                partial.removeSubrange(...last)
            }
        }
        return lines
    }
}
