import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

// whisper-server: configuration from the environment, then serve until SIGTERM/SIGINT and drain.
// `whisper-server --migrate` applies pending database migrations and exits.
let configuration: ServerConfiguration
do {
    configuration = try ServerConfiguration.fromEnvironment()
} catch {
    FileHandle.standardError.write(Data("whisper-server: \(error)\n".utf8))
    exit(78)
}
let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--version") {
    print("whisper-server \(ChatServer.version)")
    exit(0)
}
if arguments.contains("--migrate") {
    exit(await MigrateCommand.run(configuration))
}
if let unknown = arguments.first {
    FileHandle.standardError.write(Data("whisper-server: unknown argument '\(unknown)' (expected --migrate or --version)\n".utf8))
    exit(64)
}
let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
LoggingSystem.bootstrap { label in
    JSONLogHandler(logLevel: level, label: label, json: configuration.logFormat == "json")
}
let logger = Logger(label: "whisper-server")
let moderation: Moderation
do {
    moderation = try configuration.blockedWordsFile.map(Moderation.init(file:)) ?? Moderation()
} catch {
    FileHandle.standardError.write(Data("whisper-server: invalid BLOCKED_WORDS_FILE: \(error)\n".utf8))
    exit(78)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
let backend: ChatBackend =
    configuration.redisAddress != nil
    ? ClusterBackend(configuration: configuration, group: group, logger: logger) : EmbeddedBackend(configuration: configuration)
var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
let reports: ReportStore
if let url = configuration.databaseURL {
    let store = PostgresReportStore(url: url, limit: configuration.reportQueueLimit, logger: logger)
    await store.probe()
    reports = store
    // Listed first, so it stops last: reports made while the server drains are still written.
    services.append(.init(service: store))
} else {
    reports = InMemoryReportStore()
}
let hub = ChatHub(
    configuration: configuration, metrics: ServerMetrics(), moderation: moderation, reports: reports, backend: backend, logger: logger)
services.append(.init(service: ChatServer(configuration: configuration, hub: hub, group: group, logger: logger)))
let serviceGroup = ServiceGroup(
    configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
do {
    try await serviceGroup.run()
} catch {
    logger.error("server.failed", metadata: ["error": "\(error)"])
    await backend.shutdown()
    exit(1)
}
await backend.shutdown()
try? await group.shutdownGracefully()
exit(0)
