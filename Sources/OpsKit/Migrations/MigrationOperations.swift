import Foundation

/// A schema change: migrations applied up to a version, reverted down to one, or the
/// bookkeeping forced to one after a human repaired a dirty state. `plan` reads
/// `schema_migrations` only (it creates nothing); `check` says whether the schema is already
/// where the change would leave it.
public struct MigrateSchema: OpsOperation {
    public enum Change: Sendable, Equatable {
        /// Apply pending migrations up to and including this version (nil: all).
        case up(to: Int?)
        /// Revert the applied migrations above this version, newest first.
        case down(to: Int)
        /// Record the schema as exactly at this version, clean; runs no migration SQL.
        case force(Int)
    }

    public struct Outcome: Sendable {
        public var direction: MigrationRunner.Direction
        public var migrations: [Migration]
        /// The bookkeeping statements `force` ran.
        public var statements: [String]
        /// The backup taken first (`--backup-first`).
        public var backup: BackupStore.Entry?
    }

    public let runner: MigrationRunner
    public let change: Change
    /// The database's name, for the confirmation.
    public let database: String
    /// Taken under the same lock before anything changes.
    public let backupFirst: TakeBackup?
    /// The audit log's action ("up", "down", "goto 3", "force").
    public let action: String

    public init(runner: MigrationRunner, change: Change, database: String, action: String, backupFirst: TakeBackup? = nil) {
        self.runner = runner
        self.change = change
        self.database = database
        self.action = action
        self.backupFirst = backupFirst
    }

    public var command: String { "migrate" }
    public var target: String { database }

    /// The migrations the change applies (up) or reverts (down, newest first), from the
    /// database's own record; refuses a dirty schema and an edited applied migration as the run
    /// would.
    public func pending() async throws -> (direction: MigrationRunner.Direction, migrations: [Migration]) {
        let statuses = try await runner.status()
        if case .force = change {} else {
            if let dirty = statuses.first(where: \.dirty) { throw MigrationDirtyError(version: dirty.version, name: dirty.name) }
            if let edited = statuses.first(where: \.modified), let migration = runner.migrations.first(where: { $0.version == edited.version }) {
                throw MigrationChecksumError(version: edited.version, path: migration.upPath)
            }
        }
        let applied = Set(statuses.filter { $0.appliedAt != nil }.map(\.version))
        switch change {
        case .up(let target):
            return (.up, runner.migrations.filter { !applied.contains($0.version) && $0.version <= (target ?? .max) })
        case .down(let target):
            let reverting = try applied.filter { $0 > target }.sorted(by: >).map { version in
                guard let migration = runner.migrations.first(where: { $0.version == version }) else {
                    throw OpsError(.invalidInput, "migration \(version) is applied but its files are gone")
                }
                guard migration.down != nil else { throw OpsError(.invalidInput, "migration \(version) has no down script", endpoint: migration.upPath) }
                return migration
            }
            return (.down, reverting)
        case .force:
            return (.up, [])
        }
    }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        if case .force(let version) = change {
            return OperationPlan(
                steps: ["record version \(version) as applied and clean, versions above it as not applied (no migration SQL runs)"],
                confirmation: "Record the schema as at version \(version), clean? No migration SQL runs: only the bookkeeping changes.")
        }
        let (direction, migrations) = try await pending()
        guard !migrations.isEmpty else { return OperationPlan(steps: []) }
        var steps = try await backupFirst?.plan(in: context).steps ?? []
        steps += migrations.map { "\(direction == .up ? "apply" : "revert") \($0.label)" }
        let confirmation = direction == .down
            ? "Revert \(migrations.map(\.label).joined(separator: ", ")) on \(database)? Their down scripts may drop data." : nil
        return OperationPlan(steps: steps, confirmation: confirmation)
    }

    /// The schema is where the change leaves it: nothing pending for up or down; for force, the
    /// highest applied version is the forced one and nothing is dirty.
    public func check(in context: OperationContext) async throws -> Bool {
        if case .force(let version) = change {
            let statuses = try await runner.status()
            return !statuses.contains(where: \.dirty) && (statuses.filter { $0.appliedAt != nil }.map(\.version).max() ?? 0) == version
        }
        return try await pending().migrations.isEmpty
    }

    public func run(in context: OperationContext) async throws -> Outcome {
        var backup: BackupStore.Entry?
        if let backupFirst {
            let entry = try await backupFirst.run(in: context)
            let record = backupFirst.audit(entry)
            context.record("backup", record.target ?? entry.path, .succeeded, record.details)
            backup = entry
        }
        switch change {
        case .up(let target):
            return Outcome(direction: .up, migrations: try await runner.up(to: target), statements: [], backup: backup)
        case .down(let target):
            let done = try await runner.goto(target)
            return Outcome(direction: done.direction, migrations: done.migrations, statements: [], backup: backup)
        case .force(let version):
            return Outcome(direction: .up, migrations: [], statements: try await runner.force(version), backup: backup)
        }
    }

    public func audit(_ outcome: Outcome) -> OperationRecord {
        if case .force(let version) = change { return OperationRecord(outcome: .succeeded, target: String(version)) }
        return OperationRecord(outcome: .succeeded, target: outcome.migrations.map(\.label).joined(separator: ","))
    }
}
