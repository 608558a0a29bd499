import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

// whisper-server: configuration from the environment, then serve until SIGTERM/SIGINT and drain.
let configuration: ServerConfiguration
do {
    configuration = try ServerConfiguration.fromEnvironment()
} catch {
    FileHandle.standardError.write(Data("whisper-server: \(error)\n".utf8))
    exit(78)
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
let hub = ChatHub(
    configuration: configuration, metrics: ServerMetrics(), moderation: moderation, reports: InMemoryReportStore(),
    logger: logger)
let server = ChatServer(configuration: configuration, hub: hub, group: group, logger: logger)
let services = ServiceGroup(
    configuration: ServiceGroupConfiguration(
        services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
do {
    try await services.run()
} catch {
    logger.error("server.failed", metadata: ["error": "\(error)"])
    exit(1)
}
try? await group.shutdownGracefully()
exit(0)
