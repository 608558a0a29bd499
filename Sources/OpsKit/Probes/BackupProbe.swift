import Foundation

/// The age of the newest verified backup: a backup job that silently stopped shows the next
/// morning (warning after 26 h, critical after 50 h, as configured).
public struct BackupProbe: Sendable {
    public var directory: String
    var warnAge: Duration
    var criticalAge: Duration

    public init(directory: String, warnAge: Duration = .seconds(26 * 3600), criticalAge: Duration = .seconds(50 * 3600)) {
        self.directory = directory
        self.warnAge = warnAge
        self.criticalAge = criticalAge
    }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let store = BackupStore(directory: directory)
        let listing: (entries: [BackupStore.Entry], unreadable: [BackupStore.Unreadable])
        do {
            listing = try store.list()
        } catch {
            return .failed(name: "backup", kind: .backup, endpoint: directory, error: error)
        }
        return evaluate(listing.entries, unreadable: listing.unreadable.count, now: environment.now())
    }

    public func evaluate(_ entries: [BackupStore.Entry], unreadable: Int, now: Date) -> ComponentReport {
        let newest = entries.first
        // A backup newer than the newest verified one that failed its verify: the job runs, but
        // what it makes does not restore.
        let failed = entries.prefix { !$0.isVerified }.first { $0.failedVerification != nil }
        guard let verified = entries.first(where: \.isVerified) else {
            let detail = failed.map { "no verified backup: \($0.id) FAILED its verify (\($0.failedVerification?.failure ?? ""))" }
                ?? newest.map { "no verified backup (newest, unverified: \($0.id)); run whisperctl backup verify" } ?? "no backup in \(directory)"
            return ComponentReport(
                name: "backup", kind: .backup, status: .critical, detail: detail, endpoint: directory,
                facts: [("backups", .int(entries.count)), ("newest_verified", .null), ("age_seconds", .null)])
        }
        let age = now.timeIntervalSince(verified.manifest.createdAt)
        var status: HealthStatus = age > criticalAge.seconds ? .critical : (age > warnAge.seconds ? .warning : .ok)
        var notes = ["newest verified \(verified.id), \(DisplayFormat.age(age)) old", "\(ByteCount.format(verified.manifest.totalSize))"]
        if let failed {
            status = HealthStatus.worst([status, .warning])
            notes.insert("newer backup \(failed.id) FAILED its verify (\(failed.failedVerification?.failure ?? ""))", at: 0)
        }
        if status != .ok { notes.append("over \(status == .critical ? criticalAge.humanReadable : warnAge.humanReadable)") }
        if unreadable > 0 { notes.append("\(unreadable) unreadable") }
        return ComponentReport(
            name: "backup", kind: .backup, status: unreadable > 0 ? HealthStatus.worst([status, .warning]) : status,
            detail: notes.joined(separator: ", "), endpoint: directory,
            facts: [
                ("backups", .int(entries.count)), ("newest_verified", .string(verified.id)), ("age_seconds", .int(Int(age))),
                ("newest_failed", failed.map { .string($0.id) } ?? .null),
                ("verification", .string(verified.manifest.verification?.method.rawValue ?? "")),
                ("migration_version", verified.manifest.migrationVersion.map(JSONValue.int) ?? .null),
            ])
    }
}

/// Migrations not yet applied, or one left dirty, are a warning.
public struct MigrationsProbe: Sendable {
    public var url: String
    public var directory: String

    public init(url: String, directory: String) {
        self.url = url
        self.directory = directory
    }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let endpoint = (try? PostgresConnectionInfo(parsing: url))?.endpoint
        do {
            let migrations = try MigrationDirectory.load(directory)
            let connection = try await PostgresConnection.connect(url: url, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            let statuses = try await MigrationRunner(connection: connection, migrations: migrations).status()
            return evaluate(statuses, endpoint: endpoint)
        } catch {
            return .failed(name: "migrations", kind: .migrations, endpoint: endpoint ?? directory, error: error)
        }
    }

    public func evaluate(_ statuses: [MigrationRunner.Status], endpoint: String?) -> ComponentReport {
        let applied = statuses.filter(\.isApplied)
        let pending = statuses.filter { $0.appliedAt == nil }
        let dirty = statuses.filter(\.dirty)
        let modified = statuses.filter(\.modified)
        var notes = ["\(applied.count) applied", "\(pending.count) pending"]
        var status: HealthStatus = .ok
        if !pending.isEmpty {
            status = .warning
            notes[1] += " (" + pending.prefix(3).map { String(format: "%03d_%@", $0.version, $0.name) }.joined(separator: ", ") + (pending.count > 3 ? ", …" : "") + ")"
        }
        if let first = dirty.first {
            status = .warning
            notes.append("\(first.version) dirty: whisperctl migrate status")
        }
        if !modified.isEmpty {
            status = .warning
            let names = modified.map { String(format: "%03d_%@", $0.version, $0.name) }
            notes.append((names.count == 1 ? "migration \(names[0]) changed" : "migrations \(names.joined(separator: ", ")) changed") + " after being applied")
        }
        return ComponentReport(
            name: "migrations", kind: .migrations, status: status, detail: notes.joined(separator: ", "), endpoint: endpoint,
            facts: [
                ("applied", .int(applied.count)), ("pending", .array(pending.map { .int($0.version) })),
                ("dirty", dirty.first.map { .int($0.version) } ?? .null), ("current", applied.last.map { .int($0.version) } ?? .null),
                ("modified", .array(modified.map { .int($0.version) })),
            ])
    }
}
