import Foundation
import OpsKit

/// A real nats-server with its monitoring port, both on free loopback ports.
package final class NATSServer: StoppableService {
    package let port: Int
    package let monitorPort: Int
    package let process: ServiceProcess
    package let directory: TemporaryDirectory
    package var url: String { "nats://127.0.0.1:\(port)" }
    package var monitorURL: String { "http://127.0.0.1:\(monitorPort)" }

    private init(port: Int, monitorPort: Int, process: ServiceProcess, directory: TemporaryDirectory) {
        self.port = port
        self.monitorPort = monitorPort
        self.process = process
        self.directory = directory
    }

    package static func start(extraArguments: [String] = []) async throws -> NATSServer {
        try await retryingStart { try await startOnce(extraArguments: extraArguments) }
    }

    private static func startOnce(extraArguments: [String] = []) async throws -> NATSServer {
        let binary = try Executables.require("nats-server")
        let directory = try TemporaryDirectory(prefix: "whisper-nats")
        let port = try FreePort.next()
        let monitorPort = try FreePort.next()
        let process = try ServiceProcess(
            name: "nats", executable: binary,
            arguments: ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort)] + extraArguments,
            logPath: directory.file("nats.log"))
        let server = NATSServer(port: port, monitorPort: monitorPort, process: process, directory: directory)
        return try await awaitReady(server, process: process, "nats-server on \(port)") {
            (try? await HTTPClient().get(server.monitorURL + "/healthz", timeout: .milliseconds(500)))?.status == 200
        }
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}
