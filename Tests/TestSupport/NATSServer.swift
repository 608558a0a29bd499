import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// A real nats-server with its monitoring port, both on free loopback ports. It can be killed and
/// started again on the same ports, as a crashed and restarted server would be.
package final class NATSServer: StoppableService {
    package let port: Int
    package let monitorPort: Int
    package let directory: TemporaryDirectory
    private let arguments: [String]
    private let current: NIOLockedValueBox<ServiceProcess>
    package var process: ServiceProcess { current.withLockedValue { $0 } }
    package var url: String { "nats://127.0.0.1:\(port)" }
    package var monitorURL: String { "http://127.0.0.1:\(monitorPort)" }

    private init(port: Int, monitorPort: Int, arguments: [String], process: ServiceProcess, directory: TemporaryDirectory) {
        self.port = port
        self.monitorPort = monitorPort
        self.arguments = arguments
        self.current = NIOLockedValueBox(process)
        self.directory = directory
    }

    /// - Parameters:
    ///   - extraArguments: e.g. `["--auth", TOKEN]`.
    ///   - configuration: nats-server configuration text for what has no flag, e.g. `max_payload: 1024`.
    package static func start(extraArguments: [String] = [], configuration: String? = nil) async throws -> NATSServer {
        try await retryingStart { try await startOnce(extraArguments: extraArguments, configuration: configuration) }
    }

    private static func startOnce(extraArguments: [String], configuration: String?) async throws -> NATSServer {
        let directory = try TemporaryDirectory(prefix: "whisper-nats")
        let port = try FreePort.next()
        let monitorPort = try FreePort.next()
        var arguments = ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort)] + extraArguments
        if let configuration {
            let path = directory.file("nats.conf")
            try configuration.write(toFile: path, atomically: true, encoding: .utf8)
            arguments += ["-c", path]
        }
        let process = try spawn(arguments, directory: directory)
        let server = NATSServer(port: port, monitorPort: monitorPort, arguments: arguments, process: process, directory: directory)
        return try await awaitReady(server, process: process, "nats-server on \(port)") { await server.isHealthy() }
    }

    private static func spawn(_ arguments: [String], directory: TemporaryDirectory) throws -> ServiceProcess {
        try ServiceProcess(
            name: "nats", executable: try Executables.require("nats-server"), arguments: arguments,
            logPath: directory.file("nats.log"))
    }

    private func isHealthy() async -> Bool {
        (try? await HTTPClient().get(monitorURL + "/healthz", timeout: .milliseconds(500)))?.status == 200
    }

    /// Kills the server (SIGKILL, no goodbye to clients).
    package func kill() async {
        let process = self.process
        _ = try? await Offload.run { process.kill9() }
    }

    /// Starts the server again on the same ports after `kill()`.
    package func restart() async throws {
        let process = try NATSServer.spawn(arguments, directory: directory)
        current.withLockedValue { $0 = process }
        try await eventually("nats-server back on \(port)") { await isHealthy() }
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}

extension NATSServer {
    /// `count` nats-servers routed to each other as one cluster, returned once every route is up.
    package static func startCluster(_ count: Int = 3) async throws -> [NATSServer] {
        let routes = try (0..<count).map { _ in try FreePort.next() }
        var nodes: [NATSServer] = []
        do {
            for (index, port) in routes.enumerated() {
                let others = routes.enumerated().filter { $0.offset != index }.map { "nats://127.0.0.1:\($0.element)" }.joined(separator: ",")
                nodes.append(try await NATSServer.start(extraArguments: [
                    "--cluster_name", "whisper", "--cluster", "nats://127.0.0.1:\(port)", "--routes", others,
                ]))
            }
            for node in nodes {
                try await eventually(timeout: .seconds(30), "every route of \(node.url) up") {
                    let routez = try? await HTTPClient().get(node.monitorURL + "/routez")
                    return (routez.flatMap { try? JSONValue.parse($0.body) }?["num_routes"]?.intValue ?? 0) >= count - 1
                }
            }
            return nodes
        } catch {
            for node in nodes { await node.stop() }
            throw error
        }
    }
}
