import Foundation
import OpsKit
import Logging
import NIOPosix
import ServiceLifecycle

/// whisper-server's entry point: configuration from the environment, then serve until SIGTERM or
/// SIGINT and drain. `--migrate` applies pending database migrations and exits.
package enum WhisperServerApp {
    /// - Returns: the process exit code: 0 done, 1 failed, 64 usage error, 78 bad configuration.
    package static func main(arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) async -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(ServerConfiguration.usage)
            return 0
        }
        if arguments.contains("--version") {
            print("whisper-server \(BuildInfo.summary)")
            return 0
        }
        if let unknown = arguments.first(where: { $0 != "--migrate" }) {
            FileHandle.standardError.write(Data("whisper-server: unknown argument '\(unknown)' (expected --migrate, --version or --help)\n".utf8))
            return 64
        }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.fromEnvironment(environment)
        } catch {
            FileHandle.standardError.write(Data("whisper-server: \(error)\n".utf8))
            return 78
        }
        if arguments.contains("--migrate") { return await MigrateCommand.run(configuration) }
        return await serve(configuration)
    }

    private static func serve(_ configuration: ServerConfiguration) async -> Int32 {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            JSONLogHandler(logLevel: level, label: label, json: configuration.logFormat == "json")
        }
        let logger = Logger(label: "whisper-server")
        let assembly: ServerAssembly
        do {
            assembly = try await ServerAssembly(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("whisper-server: \(error)\n".utf8))
            return 78
        }
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: assembly.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var status: Int32 = 0
        do {
            try await serviceGroup.run()
        } catch {
            logger.error("server.failed", metadata: ["error": "\(error)"])
            status = 1
        }
        await assembly.shutdown()
        return status
    }
}

/// The server's parts wired together as lifecycle services, in the order they stop: the report
/// store last (reports made while the server drains are still written), then the backend jobs
/// (jobs the drain starts still run), the listener first.
struct ServerAssembly {
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    let backend: ChatBackend
    let group: MultiThreadedEventLoopGroup

    /// - Throws: `InvalidSetting` when BLOCKED_WORDS_FILE cannot be read.
    init(configuration: ServerConfiguration, logger: Logger, listening: (@Sendable (Int) -> Void)? = nil) async throws {
        let moderation: Moderation
        do {
            moderation = try configuration.blockedWordsFile.map(Moderation.init(file:)) ?? Moderation()
        } catch {
            throw ServerConfiguration.InvalidSetting(
                variable: "BLOCKED_WORDS_FILE", value: configuration.blockedWordsFile ?? "", expected: "a readable word list (\(error))")
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        backend =
            configuration.redisAddress != nil
            ? ClusterBackend(configuration: configuration, group: group, logger: logger) : EmbeddedBackend(configuration: configuration)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let reports: ReportStore
        if let url = configuration.databaseURL {
            let store = PostgresReportStore(url: url, limit: configuration.reportQueueLimit, logger: logger)
            await store.probe()
            reports = store
            services.append(.init(service: store))
        } else {
            reports = InMemoryReportStore()
        }
        let jobs = BackendJobs()
        services.append(.init(service: jobs))
        let hub = ChatHub(
            configuration: configuration, metrics: ServerMetrics(), moderation: moderation, reports: reports, backend: backend, jobs: jobs,
            logger: logger)
        var server = ChatServer(configuration: configuration, hub: hub, group: group, logger: logger)
        server.listening = listening
        services.append(.init(service: server))
        self.services = services
    }

    func shutdown() async {
        await backend.shutdown()
        // Process exit follows: an event loop that will not stop has nothing left to lose.
        try? await group.shutdownGracefully()
    }
}
