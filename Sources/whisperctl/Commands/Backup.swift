import ArgumentParser
import Foundation
import OpsKit

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up the abuse-report database, the .env and the certificates; list, verify and prune backups.",
        discussion: """
            'whisperctl backup' streams pg_dump --format=custom (of the server's major version) into the backup \
            directory (--dir, backup.dir; default backups/ beside the inventory) with its SHA-256 computed on the \
            way, adds the .env and the inventory's certificates (mode 0600), counts every table's rows in the \
            snapshot it dumps, writes a manifest, and only then makes the backup visible (written under a \
            temporary name, fsynced, renamed). It then verifies it (checksums, pg_restore --list) and prunes by \
            the retention (--keep-days 30, --keep-last); the newest verified backup is never deleted.
            Each backup, prune and restore takes the operations lock and is written to the audit log.

            Examples:
              whisperctl backup
              whisperctl backup list
              whisperctl backup verify --restore-test
              whisperctl backup prune --dry-run
              whisperctl backup --install-schedule systemd
            """,
        subcommands: [BackupCreate.self, BackupList.self, BackupVerify.self, BackupPrune.self],
        defaultSubcommand: BackupCreate.self
    )

    static func retention(_ deployment: Inventory, keepDays: Int?, keepLast: Int?) throws -> BackupStore.Retention {
        BackupStore.Retention(
            keepDays: try keepDays ?? deployment.integer(.backupKeepDays, default: Inventory.defaultKeepDays),
            keepLast: try keepLast ?? deployment.integer(.backupKeepLast, default: Inventory.defaultKeepLast))
    }

    static func describe(_ entry: BackupStore.Entry) -> [String] {
        let manifest = entry.manifest
        let verified = manifest.verification.map { $0.passed ? $0.method.rawValue : "FAILED" } ?? "no"
        return [
            entry.id, ISO8601DateFormatter().string(from: manifest.createdAt), DisplayFormat.age(Date().timeIntervalSince(manifest.createdAt)),
            ByteCount.format(manifest.totalSize), manifest.database, manifest.migrationVersion.map(String.init) ?? "-", verified,
        ]
    }

    static func json(_ entry: BackupStore.Entry) -> JSONValue {
        var object = entry.manifest.json
        if case .object(var pairs) = object {
            pairs.insert(("path", .string(entry.path)), at: 0)
            object = .object(pairs)
        }
        return object
    }
}

struct BackupOptions: ParsableArguments {
    @OptionGroup var inventory: InventoryOptions

    @Option(help: ArgumentHelp("The backup directory (default: backup.dir, else backups/ beside the inventory).", valueName: "path"), completion: .directory)
    var dir: String?

    @Flag(help: "Print JSON.")
    var json = false

    func directory(_ deployment: Inventory) -> String { dir ?? deployment.backupDirectory }
}

struct BackupCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Take a backup now (what 'whisperctl backup' does).")

    @OptionGroup var options: BackupOptions
    @OptionGroup var lock: LockOptions

    @Flag(help: "Print nothing but errors (for cron).")
    var quiet = false

    @Option(name: .customLong("keep-days"), help: ArgumentHelp("Delete backups older than this many days (default: backup.keep_days, else 30).", valueName: "n"))
    var keepDays: Int?

    @Option(name: .customLong("keep-last"), help: ArgumentHelp("Always keep the newest N.", valueName: "n"))
    var keepLast: Int?

    @Option(
        name: .customLong("install-schedule"),
        help: ArgumentHelp("Instead of backing up, write the daily backup and verify as a cron entry or a systemd timer.", valueName: "cron|systemd"))
    var installSchedule: BackupSchedule.Kind?

    @Option(help: ArgumentHelp("The schedule's time of day, HH:MM.", valueName: "time"))
    var at = "03:15"

    @Option(name: .customLong("schedule-dir"), help: ArgumentHelp("Write the schedule here instead of /etc/cron.d or /etc/systemd/system.", valueName: "path"))
    var scheduleDirectory: String?

    @Flag(help: "With --install-schedule: print the files, write nothing.")
    var dryRun = false

    func run() async throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        if let kind = installSchedule { return try await install(kind, deployment) }
        let silent = quiet || options.json
        let backup: TakeBackup
        do {
            backup = try TakeBackup(inventory: deployment, directory: options.dir, whisperctlVersion: WhisperctlVersion.current, progress: !silent)
        } catch {
            printError("whisperctl backup: \(error)")
            throw ExitStatus.failed
        }
        let runner = Mutation.runner(deployment, wait: lock.wait, yes: true, quiet: silent, progress: silent ? { _ in } : Mutation.overwriting)
        let entry: BackupStore.Entry
        do {
            entry = try await Mutation.run(runner, backup, command: "backup")
            Mutation.clearProgress()
        } catch {
            Mutation.clearProgress()
            throw error
        }
        let prune = PruneBackups(store: backup.store, retention: try BackupCommand.retention(deployment, keepDays: keepDays, keepLast: keepLast))
        let plan = try await Mutation.run(Mutation.runner(deployment, wait: lock.wait, yes: true, quiet: silent), prune, command: "backup")
        if options.json {
            print(BackupCommand.json(entry).prettyPrinted())
        } else if !quiet {
            let manifest = entry.manifest
            print("backup \(entry.id): \(ByteCount.format(manifest.totalSize)) in \(entry.path)")
            print("  database \(manifest.database) (PostgreSQL \(manifest.serverVersion), pg_dump \(manifest.pgDumpVersion)), migration \(manifest.migrationVersion.map(String.init) ?? "-")")
            print("  \(manifest.tables.count) tables, \(manifest.tables.values.reduce(0, +)) rows; \(manifest.files.count) files; verified (checksums, pg_restore --list)")
            if !plan.delete.isEmpty { print("  pruned \(plan.delete.count) older backups") }
        }
    }

    private func install(_ kind: BackupSchedule.Kind, _ deployment: Inventory) async throws {
        let schedule = BackupSchedule(
            kind: kind, whisperctl: ThisExecutable.path, configPath: deployment.absoluteConfigPath, workingDirectory: deployment.baseDirectory,
            deployment: deployment.deployment, time: at)
        let files: [(path: String, content: String)]
        do {
            files = try schedule.files(directory: scheduleDirectory)
        } catch {
            throw ValidationError("\(error)")
        }
        for file in files {
            if dryRun {
                print("# \(file.path)\n\(file.content)")
                continue
            }
            try await Mutation.run(
                Mutation.runner(deployment, wait: nil, yes: true, quiet: true), InstallSchedule(command: "backup", file: file), command: "backup --install-schedule")
            print("wrote \(file.path)")
        }
        if !dryRun { print(schedule.nextStep) }
    }
}

extension BackupSchedule.Kind: ExpressibleByArgument {}

struct BackupList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every backup, newest first.")

    @OptionGroup var options: BackupOptions

    func run() async throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        let store = BackupStore(directory: options.directory(deployment))
        let (entries, unreadable) = try store.list()
        if options.json {
            print(JSONValue.object([
                ("directory", .string(store.directory)), ("backups", .array(entries.map(BackupCommand.json))),
                ("unreadable", .array(unreadable.map { .object([("path", .string($0.path)), ("reason", .string($0.reason))]) })),
            ]).prettyPrinted())
        } else {
            if entries.isEmpty { print("no backups in \(store.directory)") } else {
                print(Table(headers: ["ID", "CREATED", "AGE", "SIZE", "DATABASE", "MIGRATION", "VERIFIED"], rows: entries.map(BackupCommand.describe)).render())
            }
            for bad in unreadable { printError("unreadable: \(bad.path): \(bad.reason)") }
        }
        if !unreadable.isEmpty { throw ExitStatus.warning }
    }
}

struct BackupVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a backup (default: the newest): checksums and pg_restore --list; --restore-test restores it into a scratch database.")

    @Argument(help: "The backup's id (see 'backup list').", completion: .custom { words, _, _ in Completions.backupIDs(words) })
    var id: String?

    @OptionGroup var options: BackupOptions
    @OptionGroup var lock: LockOptions

    @Flag(help: "Restore into a scratch database on the same server, compare every table's rows with the manifest, drop it.")
    var restoreTest = false

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func run() async throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        guard let url = deployment.postgresURL else {
            printError("whisperctl backup verify: no postgres.url in the inventory")
            throw ExitStatus.unknown
        }
        let store = BackupStore(directory: options.directory(deployment))
        let entry: BackupStore.Entry
        do {
            entry = try store.entry(id)
        } catch {
            printError("whisperctl backup verify: \(error)")
            throw ExitStatus.refused
        }
        // A restore test creates a database: it takes the lock like the other mutations.
        let verify = VerifyBackup(store: store, entry: entry, databaseURL: url, restoreTest: restoreTest)
        let runner = Mutation.runner(deployment, wait: lock.wait, yes: true, quiet: quiet || options.json)
        let report: BackupVerifier.Report
        do {
            report = try await runner.run(verify)
        } catch {
            printError("whisperctl backup verify: \(entry.id): \(error)")
            throw ExitStatus(error)
        }
        if options.json {
            print(JSONValue.object([
                ("id", .string(entry.id)), ("ok", .bool(true)), ("method", .string(report.method.rawValue)),
                ("tables", .array(report.tables.map { .object([("table", .string($0.table)), ("expected", .int($0.expected)), ("restored", $0.restored.map(JSONValue.int) ?? .null)]) })),
                ("warnings", .array(report.warnings.map(JSONValue.string))),
            ]).prettyPrinted())
        } else if !quiet {
            print("backup \(entry.id): OK (\(entry.manifest.files.count) files match their checksums, pg_restore reads the dump\(restoreTest ? ", restored into a scratch database with the same rows" : ""))")
            for table in report.tables { print("  \(table.table): \(table.expected) rows") }
        }
        // Left behind even when quiet: someone has to clean it up.
        for warning in report.warnings { printError("warning: \(warning)") }
    }
}

struct BackupPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete backups past the retention; the newest verified one is always kept.")

    @OptionGroup var options: BackupOptions
    @OptionGroup var lock: LockOptions

    @Option(name: .customLong("keep-days"), help: ArgumentHelp("Delete backups older than this many days (default: backup.keep_days, else 30).", valueName: "n"))
    var keepDays: Int?

    @Option(name: .customLong("keep-last"), help: ArgumentHelp("Always keep the newest N.", valueName: "n"))
    var keepLast: Int?

    @Flag(help: "Say what would be deleted; delete nothing.")
    var dryRun = false

    func run() async throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        let store = BackupStore(directory: options.directory(deployment))
        let retention = try BackupCommand.retention(deployment, keepDays: keepDays, keepLast: keepLast)
        let plan: BackupStore.PrunePlan
        if dryRun {
            plan = try store.prunePlan(retention)
        } else {
            plan = try await Mutation.run(
                Mutation.runner(deployment, wait: lock.wait, yes: true, quiet: options.json), PruneBackups(store: store, retention: retention), command: "backup prune")
        }
        if options.json {
            print(JSONValue.object([
                ("dry_run", .bool(dryRun)), ("deleted", .array(plan.delete.map { .string($0.id) })), ("kept", .array(plan.keep.map { .string($0.id) })),
                ("abandoned_partials", .array(plan.abandoned.map(JSONValue.string))), ("partials_in_progress", .array(plan.inProgress.map(JSONValue.string))),
            ]).prettyPrinted())
        } else {
            let verb = dryRun ? "would delete" : "deleted"
            for entry in plan.delete { print("\(verb) \(entry.id) (\(ISO8601DateFormatter().string(from: entry.manifest.createdAt)))") }
            for partial in plan.abandoned { print("\(verb) \(partial) (a backup that never finished)") }
            for partial in plan.inProgress { print("kept \(partial) (a backup in progress: its process still runs)") }
            print("\(plan.keep.count) kept (older than \(retention.keepDays) days go; the newest \(retention.keepLast) and the newest verified stay)")
        }
    }
}
