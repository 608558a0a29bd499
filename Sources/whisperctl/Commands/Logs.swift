import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import OpsKit

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every service's log as one stream, in time order; -f follows.",
        discussion: """
            Reads each service's log where the inventory's logs: says (on each server and on haproxy, redis, nats, \
            postgres): a file, journald:UNIT, docker:CONTAINER or k8s:NAMESPACE/SELECTOR. whisper-server's JSON \
            lines are read as level, message and fields; Redis, NATS, PostgreSQL, HAProxy and syslog lines by their \
            own formats; any other line passes through tagged with its service. A line with no time of its own goes \
            with the line before it. Following survives log rotation (renamed or truncated files are reopened, no \
            line lost or shown twice); Ctrl-C stops.
            Exit status: 0, 2 when a log could not be read (the others are still shown), 3 when no service has logs:.

            Examples:
              whisperctl logs
              whisperctl logs ws1 ws2 --since 10m --level warning
              whisperctl logs -f --grep session_id=4f2a
              whisperctl logs --json --since 2026-12-03T08:00:00Z | jq .
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Argument(help: ArgumentHelp("Services to read (servers by name, haproxy, redis, nats, postgres); all with logs: when none.", valueName: "service"),
              completion: .custom { words, _, _ in ["haproxy", "redis", "nats", "postgres"] + Completions.serverNames(words) })
    var services: [String] = []

    @Flag(name: [.customShort("f"), .long], help: "Keep reading new lines as they are written.")
    var follow = false

    @Option(help: ArgumentHelp("Only lines from this long ago (10m, 2h) or this time (RFC 3339) on.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Only this severity and worse: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var level: String?

    @Option(help: ArgumentHelp("Only lines containing this text (any case).", valueName: "text"))
    var grep: String?

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("The last lines of each log to start with.", valueName: "n"))
    var lines = 100

    @Flag(help: "One JSON object per line: a service's own JSON line as it is, with \"service\" added; others normalised.")
    var json = false

    @Option(help: ArgumentHelp("Time limit for each request (the Docker Engine API).", valueName: "duration"))
    var timeout: Duration = .seconds(5)

    func validate() throws {
        if let level, LogLevel(named: level) == nil {
            throw ValidationError("--level is one of trace, debug, info, notice, warning, error, critical, not '\(level)'")
        }
        if let since, LogSince.parse(since, now: Date()) == nil {
            throw ValidationError("--since takes a duration (10m, 2h) or an RFC 3339 time (2026-12-03T08:00:00Z), not '\(since)'")
        }
        guard (0...1_000_000).contains(lines) else { throw ValidationError("--lines is 0 to 1000000, not \(lines)") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let configured = deployment.serviceLogs
        let known = deployment.servers.map(\.name) + ["haproxy", "redis", "nats", "postgres"]
        for name in services where !known.contains(name) {
            let hint = closestMatch(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw ValidationError("'\(name)' is not a service of this deployment\(hint): \(known.joined(separator: ", "))")
        }
        let chosen = services.isEmpty ? configured : configured.filter { services.contains($0.service) }
        for name in services where !configured.contains(where: { $0.service == name }) {
            printError("\(name): no logs: in the inventory, so it is not read (docs/configuration.md: logs:)")
        }
        guard !chosen.isEmpty else {
            printError("no service has a logs: source in the inventory: nothing to read (docs/configuration.md: logs:)")
            throw ExitStatus.unknown
        }
        let pool = NIOThreadPool(numberOfThreads: chosen.count + 4)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let environment = ProbeEnvironment(timeout: timeout, pool: pool)
        var feeds: [LogFeed] = []
        var failed = false
        for log in chosen {
            do {
                feeds.append(LogFeed(service: log.service, source: try log.source(), environment: environment))
            } catch {
                printError("\(log.service): logs: \(error)")
                failed = true
            }
        }
        let filter = LogFilter(since: since.flatMap { LogSince.parse($0, now: Date()) }, level: level.flatMap(LogLevel.init(named:)), grep: grep)
        let streamer = LogStreamer(feeds: feeds, filter: filter)
        let printer = LogPrinter(json: json, terminal: Terminal.standardOutput(), width: feeds.map(\.service.count).max() ?? 0)
        let history = await streamer.history(lines)
        printer.write(history.entries)
        for failure in history.failures { printError(failure.description) }
        failed = failed || !history.failures.isEmpty
        if follow, !history.positions.isEmpty {
            let followFailed = NIOLockedValueBox(false)
            _ = try await Interruptible.run {
                await streamer.follow(from: history, emit: { printer.write($0) }, failed: { failure in
                    followFailed.withLockedValue { $0 = true }
                    printError(failure.description)
                })
            }
            failed = failed || followFailed.withLockedValue { $0 }
        }
        if failed { throw ExitStatus.failed }
    }
}

/// `--since`: a duration back from now, or a time.
enum LogSince {
    static func parse(_ text: String, now: Date) -> Date? {
        if let duration = Duration(parsing: text), duration > .zero { return now.addingTimeInterval(-duration.seconds) }
        return LogTime.parseISO(Substring(text))
    }
}

/// Writes records as they come, one batch at a time so lines never interleave mid-line,
/// unbuffered so a follower sees each as soon as it is read. Secrets are masked.
final class LogPrinter: Sendable {
    let json: Bool
    let terminal: Terminal
    let width: Int
    private let lock = NIOLock()

    init(json: Bool, terminal: Terminal, width: Int) {
        self.json = json
        self.terminal = terminal
        self.width = width
    }

    func write(_ entries: [LogMerge.Entry]) {
        guard !entries.isEmpty else { return }
        let text = entries.map { line($0.record) }.joined(separator: "\n") + "\n"
        lock.withLock { FileHandle.standardOutput.write(Data(SecretRegistry.shared.scrub(text).utf8)) }
    }

    func line(_ record: LogRecord) -> String {
        if json { return record.json.serialized() }
        let time = record.time.map(LogTime.format) ?? String(repeating: " ", count: 24)
        let service = terminal.paint(record.service.padding(toLength: max(width, record.service.count), withPad: " ", startingAt: 0), .bold)
        guard record.original != nil || record.level != nil else { return "\(time) \(service) \(record.raw)" }
        let levelName = (record.level?.label ?? "-").padding(toLength: 5, withPad: " ", startingAt: 0)
        let level: String = switch record.level {
        case .critical?, .error?: terminal.paint(levelName, .red)
        case .warning?: terminal.paint(levelName, .yellow)
        case .debug?, .trace?: terminal.paint(levelName, .dim)
        default: levelName
        }
        let fields = record.fields.map { key, value in "\(key)=\(value.stringValue ?? value.serialized())" }.joined(separator: " ")
        return "\(time) \(service) \(level) \(record.message)" + (fields.isEmpty ? "" : " " + terminal.paint(fields, .dim))
    }
}
