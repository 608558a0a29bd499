import Logging
import ServiceLifecycle

/// A whisper-server running inside another process (`whisperctl demo`): the same services as the
/// binary, no signal handling of its own, stopped with `stop()` (a graceful drain).
package final class InProcessServer: Sendable {
    /// The port it listens on (the free one picked when LISTEN_ADDR asked for port 0).
    package let port: Int
    private let serviceGroup: ServiceGroup
    private let finished: Task<Void, Never>

    private init(port: Int, serviceGroup: ServiceGroup, finished: Task<Void, Never>) {
        self.port = port
        self.serviceGroup = serviceGroup
        self.finished = finished
    }

    /// Starts a server configured from `environment` (the variables whisper-server reads) and
    /// returns once it listens.
    /// - Throws: `InvalidSetting` for a bad variable, or the bind error.
    package static func start(environment: [String: String], logger: Logger) async throws -> InProcessServer {
        let configuration = try ServerConfiguration.fromEnvironment(environment)
        let (outcomes, report) = AsyncStream.makeStream(of: Result<Int, Error>.self)
        let assembly = try await ServerAssembly(configuration: configuration, logger: logger) { port in
            report.yield(.success(port))
        }
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: assembly.services, gracefulShutdownSignals: [], logger: logger))
        let finished = Task {
            do {
                try await serviceGroup.run()
            } catch {
                report.yield(.failure(error))
            }
            report.finish()
            await assembly.shutdown()
        }
        var first = outcomes.makeAsyncIterator()
        guard let outcome = await first.next() else {
            throw ServerConfiguration.InvalidSetting(variable: "LISTEN_ADDR", value: configuration.host, expected: "an address to listen on")
        }
        return InProcessServer(port: try outcome.get(), serviceGroup: serviceGroup, finished: finished)
    }

    /// Drains (clients get `draining` and a close 1012) and waits until every service stopped.
    package func stop() async {
        await serviceGroup.triggerGracefulShutdown()
        await finished.value
    }
}
