import ArgumentParser
import Foundation
import OpsKit

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into the database (or --target-db), all or nothing.",
        discussion: """
            Checks every checksum first and refuses a damaged backup; asks for confirmation naming the target \
            database (--yes); runs pg_restore --clean --if-exists --exit-on-error --single-transaction, so a \
            failed or interrupted restore (Ctrl-C) leaves the database as it was; then compares every table's \
            rows with the manifest. --with-config also puts back the .env and the certificates, each to the path \
            it came from, asking before it replaces a file that differs.
            Exit status: 0 restored and the rows match, 1 refused, 2 failed or the rows differ.

            Examples:
              whisperctl restore 20261129T031500Z
              whisperctl restore 20261129T031500Z --target-db whisper_copy --yes
            """
    )

    @Argument(help: "The backup's id (see 'backup list').")
    var id: String

    @OptionGroup var options: BackupOptions
    @OptionGroup var lock: LockOptions

    @Option(name: .customLong("target-db"), help: ArgumentHelp("Restore into this database on the same server (created when missing).", valueName: "name"))
    var targetDatabase: String?

    @Flag(name: .customLong("with-config"), help: "Also restore the .env and the certificates to their paths.")
    var withConfig = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        guard let url = deployment.postgresURL else {
            printError("whisperctl restore: no postgres.url in the inventory")
            throw ExitStatus.unknown
        }
        let store = BackupStore(directory: options.directory(deployment))
        let runner = Mutation.runner(deployment, wait: lock.wait, yes: yes, quiet: options.json)
        let restore = RestoreBackup(store: store, id: id, databaseURL: url, targetDatabase: targetDatabase, withConfig: withConfig)
        let outcome = try await Mutation.run(runner, restore, command: "restore")
        let report = outcome.report
        let entry = outcome.entry
        if options.json {
            print(JSONValue.object([
                ("id", .string(entry.id)), ("database", .string(report.database)), ("rows_match", .bool(report.matches)),
                ("tables", .array(report.tables.map { .object([("table", .string($0.table)), ("expected", .int($0.expected)), ("restored", $0.restored.map(JSONValue.int) ?? .null)]) })),
                ("config_files", .array(outcome.configFiles.map(JSONValue.string))),
            ]).prettyPrinted())
        } else {
            print("restored \(entry.id) into \(report.database):")
            let rows = report.tables.map { [$0.table, String($0.expected), $0.restored.map(String.init) ?? "missing", $0.expected == $0.restored ? "ok" : "DIFFERS"] }
            print(Table(headers: ["TABLE", "MANIFEST", "RESTORED", ""], rows: rows).render())
            for file in outcome.configFiles { print(file) }
        }
        if !report.matches {
            printError("whisperctl restore: the restored rows differ from the manifest")
            throw ExitStatus.failed
        }
    }
}

struct Lock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The deployment's operations lock: who holds it, and breaking a dead holder's.",
        discussion: """
            Backups, migrations, restores, certificate renewals, rollouts and dashboard actions take one lock so \
            they never overlap: a Redis key with a heartbeat when Redis is configured, else a PostgreSQL advisory \
            lock, else a lock file beside the inventory (lock.backend chooses).
            """,
        subcommands: [LockStatus.self, LockBreak.self]
    )
}

struct LockStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Who holds the operations lock. Exit 0 free, 1 held.")

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let backend: LockBackend
        do { backend = try OperationsLock.backend(for: deployment) } catch {
            printError("whisperctl lock status: \(error)")
            throw ExitStatus.unknown
        }
        let holder: LockHolder?
        do {
            holder = try await backend.current()
        } catch {
            printError("whisperctl lock status: \(backend.description): \(error)")
            throw ExitStatus.critical
        }
        if json {
            print(JSONValue.object([
                ("backend", .string(backend.description)), ("held", .bool(holder != nil)),
                ("holder", holder.map { h in
                    .object([
                        ("user", .string(h.user)), ("host", .string(h.host)), ("pid", .int(h.pid)), ("command", .string(h.command)),
                        ("started_at", .string(ISO8601DateFormatter().string(from: h.startedAt))),
                        ("heartbeat_age_seconds", h.heartbeatAt.map { .double(Date().timeIntervalSince($0)) } ?? .null),
                    ])
                } ?? .null),
            ]).prettyPrinted())
        } else if let holder {
            let heartbeat = holder.heartbeatAt.map { ", last heartbeat \(DisplayFormat.age(Date().timeIntervalSince($0))) ago" } ?? ""
            print("held by \(holder.describe())\(heartbeat) [\(backend.description)]")
        } else {
            print("free [\(backend.description)]")
        }
        if holder != nil { throw ExitStatus.warning }
    }
}

struct LockBreak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "break", abstract: "Remove the lock of a holder whose heartbeat stopped (a crashed or hung command).")

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Break it even though the holder's heartbeat is recent.")
    var force = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let backend: LockBackend
        do { backend = try OperationsLock.backend(for: deployment) } catch {
            printError("whisperctl lock break: \(error)")
            throw ExitStatus.unknown
        }
        let runner = Mutation.runner(deployment, wait: nil, yes: yes, quiet: false)
        let breaking = BreakLock(backend: backend, force: force)
        let holder: LockHolder?
        do { holder = try await backend.current() } catch {
            printError("whisperctl lock break: \(backend.description): \(error)")
            throw ExitStatus.failed
        }
        guard holder != nil else {
            print("the lock is free [\(backend.description)]")
            return
        }
        try await Mutation.run(runner, breaking, command: "lock break")
        print("broken: the lock is free")
    }
}
