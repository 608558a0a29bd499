import Foundation

/// A backup of the deployment's database, .env and certificates, then its quick verify
/// (checksums, `pg_restore --list`). Ctrl-C removes the partial backup.
public struct TakeBackup: OpsOperation {
    public let databaseURL: String
    public let store: BackupStore
    public let source: BackupWriter.Source
    public let whisperctlVersion: String
    /// `check` counts a verified backup taken at or after this moment as this operation's.
    let notBefore: Date
    /// Progress every so often while pg_dump streams.
    var progressEvery: Bool

    public init(inventory: Inventory, directory: String? = nil, whisperctlVersion: String, notBefore: Date = Date(), progress: Bool = false) throws {
        guard let url = inventory.postgresURL else { throw OpsError(.invalidInput, "no postgres.url in the inventory (or DATABASE_URL, --database-url)") }
        databaseURL = url
        store = BackupStore(directory: directory ?? inventory.backupDirectory)
        source = BackupWriter.Source(
            databaseURL: url, deployment: inventory.deployment, dotenvPath: inventory.dotenvPath, certificatePaths: inventory.certificatePaths)
        self.whisperctlVersion = whisperctlVersion
        self.notBefore = notBefore
        progressEvery = progress
    }

    public var command: String { "backup" }
    public var action: String { "backup" }
    public var target: String { store.directory }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let endpoint = (try? PostgresConnectionInfo(parsing: databaseURL)).map { "\($0.database) at \($0.endpoint)" } ?? "the database"
        var steps = ["pg_dump --format=custom of \(endpoint) into a new backup in \(store.directory)"]
        if let dotenv = source.dotenvPath { steps.append("copy \(dotenv) (mode 0600)") }
        steps += source.certificatePaths.map { "copy \($0) (mode 0600)" }
        steps.append("verify it: every checksum, pg_restore --list")
        return OperationPlan(steps: steps)
    }

    /// A verified backup taken since `notBefore` exists.
    public func check(in context: OperationContext) async throws -> Bool {
        try store.list().entries.contains { $0.isVerified && $0.manifest.createdAt >= notBefore.addingTimeInterval(-1) }
    }

    public func run(in context: OperationContext) async throws -> BackupStore.Entry {
        let writer = BackupWriter(store: store, source: source, whisperctlVersion: whisperctlVersion)
        let cancellation = BackupWriter.Cancellation()
        context.interruption.onInterrupt { _ in cancellation.cancel() }
        let progress = context.progress
        let every = progressEvery
        let entry = try await writer.run(cancellation: cancellation) { update in
            guard every else { return }
            let seconds = max(update.elapsed.seconds, 0.001)
            progress("backup: \(ByteCount.format(update.bytes)) at \(ByteCount.format(Int(Double(update.bytes) / seconds)))/s, \(DisplayFormat.age(seconds))")
        }
        return try await BackupVerifier(store: store, databaseURL: databaseURL).verify(entry, restoreTest: false).entry
    }

    public func audit(_ entry: BackupStore.Entry) -> OperationRecord {
        OperationRecord(
            outcome: .succeeded, target: entry.path,
            details: [("size", .int(entry.manifest.totalSize)), ("sha256", .string(entry.manifest.dumpFile?.sha256 ?? ""))])
    }
}

/// Deletes the backups past the retention (never the newest verified one) and partial backups a
/// killed run left behind.
public struct PruneBackups: OpsOperation {
    public let store: BackupStore
    public let retention: BackupStore.Retention

    public init(store: BackupStore, retention: BackupStore.Retention) {
        self.store = store
        self.retention = retention
    }

    public var command: String { "backup" }
    public var action: String { "prune" }
    public var target: String { store.directory }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let plan = try store.prunePlan(retention)
        return OperationPlan(
            steps: plan.delete.map { "delete \($0.id) (\(ISO8601DateFormatter().string(from: $0.manifest.createdAt)))" }
                + plan.abandoned.map { "delete \($0) (a backup that never finished)" })
    }

    /// Nothing is left to delete.
    public func check(in context: OperationContext) async throws -> Bool {
        let plan = try store.prunePlan(retention)
        return plan.delete.isEmpty && plan.abandoned.isEmpty
    }

    public func run(in context: OperationContext) async throws -> BackupStore.PrunePlan {
        let plan = try store.prunePlan(retention)
        for entry in plan.delete {
            try store.remove(entry.path)
            context.record("prune", entry.path, .succeeded, [])
        }
        for partial in plan.abandoned {
            try store.remove(partial)
            context.record("prune", partial, .succeeded, [("partial", .bool(true))])
        }
        return plan
    }

    public func audit(_ plan: BackupStore.PrunePlan) -> OperationRecord {
        OperationRecord(outcome: .succeeded, details: [("deleted", .int(plan.delete.count + plan.abandoned.count)), ("kept", .int(plan.keep.count))])
    }
}

/// A backup checked: checksums and `pg_restore --list`, and with `restoreTest` a restore into a
/// scratch database (which is why that variant takes the lock).
public struct VerifyBackup: OpsOperation {
    public let store: BackupStore
    public let entry: BackupStore.Entry
    public let databaseURL: String
    public let restoreTest: Bool

    public init(store: BackupStore, entry: BackupStore.Entry, databaseURL: String, restoreTest: Bool) {
        self.store = store
        self.entry = entry
        self.databaseURL = databaseURL
        self.restoreTest = restoreTest
    }

    public var command: String { "backup" }
    public var action: String { "verify" }
    public var target: String { entry.path }
    public var takesLock: Bool { restoreTest }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        var steps = ["check the size and SHA-256 of \(entry.manifest.files.count) files", "pg_restore --list the dump"]
        if restoreTest { steps.append("restore into a scratch database, compare every table's rows with the manifest, drop it") }
        return OperationPlan(steps: steps)
    }

    /// The manifest records a passed verification at least as thorough as this one.
    public func check(in context: OperationContext) async throws -> Bool {
        guard let verification = try store.entry(entry.id).manifest.verification, verification.passed else { return false }
        return !restoreTest || verification.method == .restoreTest
    }

    public func run(in context: OperationContext) async throws -> BackupVerifier.Report {
        try await BackupVerifier(store: store, databaseURL: databaseURL).verify(entry, restoreTest: restoreTest)
    }

    public func audit(_ report: BackupVerifier.Report) -> OperationRecord {
        OperationRecord(outcome: .succeeded, details: [("method", .string(report.method.rawValue))])
    }
}

/// A backup restored into the database (or another on the same server), all or nothing:
/// pg_restore in one transaction, so a failure or Ctrl-C leaves the database as it was. A backup
/// that cannot be found or whose checksums differ is refused before anything is asked.
public struct RestoreBackup: OpsOperation {
    public struct Outcome: Sendable {
        public var entry: BackupStore.Entry
        public var report: RestoreRunner.Report
        /// One line per configuration file: restored, unchanged, kept.
        public var configFiles: [String]
    }

    public let store: BackupStore
    public let id: String
    public let databaseURL: String
    public let targetDatabase: String?
    public let withConfig: Bool

    public init(store: BackupStore, id: String, databaseURL: String, targetDatabase: String?, withConfig: Bool) {
        self.store = store
        self.id = id
        self.databaseURL = databaseURL
        self.targetDatabase = targetDatabase
        self.withConfig = withConfig
    }

    public var command: String { "restore" }
    public var action: String { "restore" }
    public var target: String { "\(id) -> \((try? RestoreRunner(databaseURL: databaseURL).targetDatabase(targetDatabase)) ?? "?")" }

    /// The backup, its checksums checked.
    /// - Throws: `OpsError` saying it refuses, and why.
    public func entry() throws -> BackupStore.Entry {
        do {
            let entry = try store.entry(id)
            try BackupVerifier.checkFiles(entry)
            return entry
        } catch let error as OpsError {
            throw OpsError(error.code, "refusing: \(error.message)", endpoint: error.endpoint)
        }
    }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let entry = try entry()
        let database = try RestoreRunner(databaseURL: databaseURL).targetDatabase(targetDatabase)
        let endpoint = (try? PostgresConnectionInfo(parsing: databaseURL))?.endpoint ?? "?"
        let manifest = entry.manifest
        let rows = manifest.tables.values.reduce(0, +)
        var steps = ["pg_restore --clean --single-transaction backup \(entry.id) into database '\(database)' on \(endpoint)",
            "compare every table's rows with the manifest (\(manifest.tables.count) tables, \(rows) rows)"]
        if withConfig { steps += manifest.files.compactMap { $0.kind == .database ? nil : $0.source.map { "put back \($0)" } } }
        return OperationPlan(
            steps: steps,
            confirmation: "Restore backup \(entry.id) (taken \(ISO8601DateFormatter().string(from: manifest.createdAt)) from \(manifest.database), "
                + "\(manifest.tables.count) tables, \(rows) rows) into database '\(database)' on \(endpoint)? Its current contents are replaced.")
    }

    /// The target database holds exactly the manifest's row counts.
    public func check(in context: OperationContext) async throws -> Bool {
        let entry = try entry()
        let runner = RestoreRunner(databaseURL: databaseURL)
        let restored = try await RestoreRunner.rowCounts(url: databaseURL, database: try runner.targetDatabase(targetDatabase), pool: runner.pool)
        return entry.manifest.tables.allSatisfy { restored[$0.key] == $0.value }
    }

    public func run(in context: OperationContext) async throws -> Outcome {
        let entry = try entry()
        let interruption = RestoreRunner.Interruption()
        // Ctrl-C reaches pg_restore, which gives up: its single transaction rolls back.
        context.interruption.onInterrupt { number in interruption.interrupt(number == SIGINT ? SIGINT : SIGTERM) }
        let report = try await RestoreRunner(databaseURL: databaseURL).restore(entry, target: targetDatabase, interruption: interruption)
        if let signal = interruption.signal { throw OpsError(.io, "interrupted (signal \(signal)) as pg_restore finished") }
        return Outcome(entry: entry, report: report, configFiles: withConfig ? try restoreConfig(entry, context) : [])
    }

    public func audit(_ outcome: Outcome) -> OperationRecord {
        OperationRecord(outcome: outcome.report.matches ? .succeeded : .failed("row counts differ from the manifest"))
    }

    /// Puts the .env and certificates back where they came from; a different existing file is
    /// replaced only when confirmed.
    private func restoreConfig(_ entry: BackupStore.Entry, _ context: OperationContext) throws -> [String] {
        var lines: [String] = []
        for file in entry.manifest.files where file.kind != .database {
            guard let target = file.source else { continue }
            let stored = (entry.path as NSString).appendingPathComponent(file.name)
            guard let data = FileManager.default.contents(atPath: stored) else { throw OpsError(.io, "cannot read", endpoint: stored) }
            if let current = FileManager.default.contents(atPath: target) {
                if current == data {
                    lines.append("\(target): unchanged")
                    continue
                }
                guard context.confirm("Replace \(target) with the backup's copy (\(data.count) bytes, now \(current.count))?") else {
                    lines.append("\(target): kept (not confirmed)")
                    continue
                }
            }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(Array(data), to: target, mode: 0o600)
            context.record("restore-file", target, .succeeded, [])
            lines.append("\(target): restored (mode 0600)")
        }
        return lines
    }
}
