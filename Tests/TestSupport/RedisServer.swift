import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// A real redis-server on a free loopback port, without persistence. It can be killed and started
/// again on the same port, as a crashed and restarted server would be.
package final class RedisServer: StoppableService {
    package let port: Int
    package let password: String?
    package let directory: TemporaryDirectory
    private let arguments: [String]
    private let current: NIOLockedValueBox<ServiceProcess>
    package var process: ServiceProcess { current.withLockedValue { $0 } }
    package var address: String { "127.0.0.1:\(port)" }

    private init(port: Int, password: String?, arguments: [String], process: ServiceProcess, directory: TemporaryDirectory) {
        self.port = port
        self.password = password
        self.arguments = arguments
        self.current = NIOLockedValueBox(process)
        self.directory = directory
    }

    /// - Parameter password: sets `requirepass` when given.
    package static func start(password: String? = nil, extraArguments: [String] = []) async throws -> RedisServer {
        try await retryingStart { try await startOnce(password: password, extraArguments: extraArguments) }
    }

    private static func startOnce(password: String? = nil, extraArguments: [String] = []) async throws -> RedisServer {
        let directory = try TemporaryDirectory(prefix: "whisper-redis")
        let port = try FreePort.next()
        var arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--daemonize", "no", "--protected-mode", "no",
        ]
        if let password { arguments += ["--requirepass", password] }
        arguments += extraArguments
        let process = try spawn(arguments, directory: directory)
        let server = RedisServer(port: port, password: password, arguments: arguments, process: process, directory: directory)
        return try await awaitReady(server, process: process, "redis-server on \(port)") { await server.answersPing() }
    }

    private static func spawn(_ arguments: [String], directory: TemporaryDirectory) throws -> ServiceProcess {
        try ServiceProcess(
            name: "redis", executable: try Executables.require("redis-server"), arguments: arguments,
            logPath: directory.file("redis.log"))
    }

    private func answersPing() async -> Bool {
        guard var address = try? RedisAddress(parsing: address) else { return false }
        address.password = password
        guard let connection = try? await RedisConnection.connect(to: address, timeout: .milliseconds(500)) else { return false }
        defer { connection.close() }
        return (try? await connection.send(["PING"])) == .status("PONG")
    }

    /// Kills the server (SIGKILL); its data is gone, as after a crash without persistence.
    package func kill() async {
        let process = self.process
        _ = try? await Offload.run { process.kill9() }
    }

    /// Starts the server again on the same port after `kill()`.
    package func restart() async throws {
        let process = try RedisServer.spawn(arguments, directory: directory)
        current.withLockedValue { $0 = process }
        try await eventually("redis-server back on \(port)") { await answersPing() }
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}
