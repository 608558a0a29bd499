import Foundation
import OpsKit

/// A real redis-server on a free loopback port, without persistence.
package final class RedisServer: StoppableService {
    package let port: Int
    package let process: ServiceProcess
    package let directory: TemporaryDirectory
    package var address: String { "127.0.0.1:\(port)" }

    private init(port: Int, process: ServiceProcess, directory: TemporaryDirectory) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    /// - Parameter password: sets `requirepass` when given.
    package static func start(password: String? = nil, extraArguments: [String] = []) async throws -> RedisServer {
        try await retryingStart { try await startOnce(password: password, extraArguments: extraArguments) }
    }

    private static func startOnce(password: String? = nil, extraArguments: [String] = []) async throws -> RedisServer {
        let binary = try Executables.require("redis-server")
        let directory = try TemporaryDirectory(prefix: "whisper-redis")
        let port = try FreePort.next()
        var arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--daemonize", "no", "--protected-mode", "no",
        ]
        if let password { arguments += ["--requirepass", password] }
        let process = try ServiceProcess(
            name: "redis", executable: binary, arguments: arguments + extraArguments, logPath: directory.file("redis.log"))
        let server = RedisServer(port: port, process: process, directory: directory)
        var address = try RedisAddress(parsing: server.address)
        address.password = password
        return try await awaitReady(server, process: process, "redis-server on \(port)") {
            guard let connection = try? await RedisConnection.connect(to: address, timeout: .milliseconds(500)) else { return false }
            defer { connection.close() }
            return (try? await connection.send(["PING"])) == .status("PONG")
        }
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}
