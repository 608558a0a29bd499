import Foundation

/// `whisperctl bundle`: everything a bug report or a post-mortem needs from a deployment, read
/// once (the metrics several times over `duration`), every piece concurrently and each bounded
/// by the environment's timeout. Reads only: it changes nothing and takes no lock, so it works
/// while a stuck operation holds one.
public struct SupportBundle: Sendable {
    public var inventory: Inventory
    /// `config show --json`, built by the command that renders it.
    public var configuration: JSONValue
    /// Over how long the servers' /metrics are sampled.
    public var duration: Duration
    /// How many samples: the first at once, the last at `duration`.
    public var snapshots: Int
    /// The last lines of each service's log.
    public var logLines: Int
    /// The audit log's last lines.
    public var auditLines = 10_000
    /// /proc and /sys are read below this directory.
    public var root = "/"

    public init(inventory: Inventory, configuration: JSONValue, duration: Duration, snapshots: Int, logLines: Int) {
        self.inventory = inventory
        self.configuration = configuration
        self.duration = duration
        self.snapshots = max(1, snapshots)
        self.logLines = logLines
    }

    /// Collects it all. A piece that cannot be read is a gap with its reason, never the end:
    /// a bundle is most wanted when things are broken. Cancelled (Ctrl-C), it stops at once.
    public func collect(in environment: ProbeEnvironment) async -> BundleContents {
        let sources = BundleSources(inventory: inventory, environment: environment, root: root)
        let pieces = await withTaskGroup(of: BundleContents.self) { group in
            group.addTask { await metricSnapshots(sources) }
            group.addTask { await sources.status() }
            group.addTask { await sources.diagnosis() }
            group.addTask { await sources.haproxy() }
            group.addTask { await sources.redis() }
            group.addTask { await sources.nats() }
            group.addTask { await sources.postgres() }
            group.addTask { await sources.logs(lines: logLines) }
            group.addTask { await sources.auditLog(lines: auditLines) }
            group.addTask { sources.kernel() }
            var all: [BundleContents] = []
            for await piece in group { all.append(piece) }
            return all
        }
        var contents = BundleContents()
        contents.add("config.json", json: configuration)
        if let path = inventory.configPath {
            do {
                contents.add("inventory/" + (path as NSString).lastPathComponent, text: try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                contents.gap("inventory", "cannot read \(path): \(error.localizedDescription)")
            }
        }
        for piece in pieces { contents.merge(piece) }
        return contents
    }

    /// `snapshots` samples of every server's /metrics, evenly spread over `duration`.
    func metricSnapshots(_ sources: BundleSources) async -> BundleContents {
        var contents = BundleContents()
        let clock = ContinuousClock()
        let start = clock.now
        for index in 1...snapshots {
            if index > 1 {
                let due = start + duration * (Double(index - 1) / Double(snapshots - 1))
                do { try await clock.sleep(until: due) } catch { return contents }
            }
            contents.merge(await sources.metrics(snapshot: index))
        }
        return contents
    }

    /// The manifest's opening fields.
    public func header(created: Date) -> [(String, JSONValue)] {
        [
            ("bundle_format", .int(1)), ("created_at", .string(StatusReport.iso8601(created))),
            ("deployment", .string(inventory.deployment)), ("config_file", inventory.absoluteConfigPath.map(JSONValue.string) ?? .null),
            ("whisperctl", BuildInfo.json), ("host", .string(ProcessInfo.processInfo.hostName)),
            ("metrics", .object([("duration_seconds", .double(duration.seconds)), ("snapshots", .int(snapshots))])),
            ("log_lines", .int(logLines)),
            ("not_configured", .array(inventory.unconfiguredComponents.map { .string($0.rawValue) })),
        ]
    }
}
