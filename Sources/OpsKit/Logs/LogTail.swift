import Foundation
import NIOPosix

/// The last lines of a service's log, from whichever source the inventory names.
public struct LogTail: Sendable {
    public var environment: ProbeEnvironment
    /// Where `journalctl` and `kubectl` are looked for (PATH, then the sbin directories).
    public var searchPath: String

    public init(environment: ProbeEnvironment, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") {
        self.environment = environment
        self.searchPath = searchPath
    }

    /// - Throws: `OpsError` naming the source: a file that is missing or unreadable, a program
    ///   that is not installed or that failed (with what it said), an Engine API that refused.
    public func lastLines(_ count: Int, of source: LogSource) async throws -> [String] {
        switch source {
        case .file(let path):
            return try await environment.pool.runIfActive { try Self.lastLines(count, ofFile: path) }
        case .journald(let unit):
            let output = try await run("journalctl", ["-u", unit, "-o", "json", "-n", String(count), "--no-pager", "-q"], for: source)
            return output.split(separator: "\n").map(String.init)
        case .docker(let container):
            return try await dockerLines(tail: count, container: container)
        case .kubernetes(let namespace, let selector):
            let output = try await run(
                "kubectl", ["logs", "-n", namespace, "-l", selector, "--tail=\(count)", "--timestamps", "--prefix", "--all-containers"], for: source)
            return output.split(separator: "\n").map(String.init)
        }
    }

    static func openLog(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpsError(.io, "cannot read log \(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw OpsError(.io, "cannot read log \(path): not a regular file")
        }
        return fd
    }

    /// At most the last `count` lines of `path`.
    static func lastLines(_ count: Int, ofFile path: String) throws -> [String] {
        let fd = try openLog(path)
        defer { close(fd) }
        var status = stat()
        fstat(fd, &status)
        return try lastLines(count, fd: fd, end: Int(status.st_size), path: path)
    }

    /// The last `count` lines before `end`, read backwards in blocks so a large log costs only
    /// what is shown.
    static func lastLines(_ count: Int, fd: Int32, end: Int, path: String) throws -> [String] {
        guard count > 0 else { return [] }
        var start = end
        var tail: [UInt8] = []
        let block = 64 << 10
        // count + 1 newlines: the last line's own, and one before the first line kept.
        while start > 0, tail.count(where: { $0 == UInt8(ascii: "\n") }) <= count, tail.count < 16 << 20 {
            let from = max(0, start - block)
            var buffer = [UInt8](repeating: 0, count: start - from)
            let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, start - from, off_t(from)) }
            guard read >= 0 else { throw OpsError(.io, "cannot read log \(path): \(String(cString: strerror(errno)))") }
            tail = Array(buffer[..<read]) + tail
            start = from
        }
        let lines = String(decoding: tail, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastIfEmpty()
        // The first piece may be the end of a longer line when reading stopped mid-file.
        let whole = start > 0 ? Array(lines.dropFirst()) : lines
        return Array(whole.suffix(count))
    }

    /// The program's path, or an error that says it is not installed and where it was looked for.
    func locate(_ program: String, for source: LogSource) throws -> String {
        let directories: [String] = searchPath.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        let candidates: [String] = directories.map { directory in directory + "/" + program }
        guard let executable = candidates.first(where: { candidate in access(candidate, X_OK) == 0 }) else {
            throw OpsError(.io, "\(source): \(program) is not installed (not on PATH: \(searchPath))")
        }
        return executable
    }

    func run(_ program: String, _ arguments: [String], for source: LogSource) async throws -> String {
        let executable = try locate(program, for: source)
        var childEnvironment = ProcessInfo.processInfo.environment
        childEnvironment["PATH"] = searchPath
        let result = try await Subprocess.output(executable, arguments, environment: childEnvironment, pool: environment.pool)
        guard result.termination.succeeded else {
            let said = result.errors.isEmpty ? "" : ": \(result.errors.split(separator: "\n").last ?? "")"
            throw OpsError(.io, "\(source): \(program) \(result.termination)\(said)")
        }
        return result.output
    }

    func dockerLines(tail count: Int, container: String) async throws -> [String] {
        try await dockerLines(query: "tail=\(count)", container: container)
    }

    /// Lines from `since` (an RFC 3339 time stamp as Docker writes them) on, that one included.
    func dockerLines(since: String?, container: String) async throws -> [String] {
        guard let since, let time = LogTime.parseISO(Substring(since)) else { return try await dockerLines(query: "tail=all", container: container) }
        return try await dockerLines(query: "since=\(String(format: "%.6f", time.timeIntervalSince1970))", container: container)
    }

    func dockerLines(query: String, container: String) async throws -> [String] {
        let socket = ProcessInfo.processInfo.environment["DOCKER_HOST"].flatMap { $0.hasPrefix("unix://") ? String($0.dropFirst(7)) : nil } ?? "/var/run/docker.sock"
        let request = HTTPRequest(
            url: "http://localhost/containers/\(container)/logs?stdout=1&stderr=1&timestamps=1&\(query)",
            timeout: environment.timeout, unixSocketPath: socket)
        let response: HTTPResponse
        do {
            response = try await environment.http.execute(request)
        } catch {
            throw OpsError(.io, "docker:\(container): the Engine API at \(socket) did not answer: \(error)")
        }
        guard response.isSuccess else {
            let message = (try? JSONValue.parse(response.body))?["message"]?.stringValue ?? "HTTP \(response.status)"
            throw OpsError(.io, "docker:\(container): \(message)")
        }
        return DockerLogStream.lines(response.body)
    }
}
