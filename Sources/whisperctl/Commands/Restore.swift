import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
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
            throw ExitCode(3)
        }
        let store = BackupStore(directory: options.directory(deployment))
        let entry: BackupStore.Entry
        do {
            entry = try store.entry(id)
            try BackupVerifier.checkFiles(entry)
        } catch {
            printError("whisperctl restore: refusing: \(error)")
            Mutation.audit(deployment, command: "restore", action: "restore", target: id, outcome: .refused("\(error)"))
            throw ExitCode(2)
        }
        let runner = RestoreRunner(databaseURL: url)
        let database = try runner.targetDatabase(targetDatabase)
        let endpoint = (try? PostgresConnectionInfo(parsing: url))?.endpoint ?? "?"
        let manifest = entry.manifest
        let rows = manifest.tables.values.reduce(0, +)
        let question = "Restore backup \(entry.id) (taken \(ISO8601DateFormatter().string(from: manifest.createdAt)) from \(manifest.database), "
            + "\(manifest.tables.count) tables, \(rows) rows) into database '\(database)' on \(endpoint)? Its current contents are replaced."
        guard Mutation.confirm(question, yes: yes) else {
            Mutation.audit(deployment, command: "restore", action: "restore", target: "\(entry.id) -> \(database)", outcome: .refused("not confirmed"))
            throw ExitCode(1)
        }
        let held = try await Mutation.lock(deployment, command: "restore", wait: lock.wait, quiet: options.json)
        let interruption = RestoreRunner.Interruption()
        // Ctrl-C reaches pg_restore, which gives up: its single transaction rolls back.
        let trap = InterruptTrap { number in interruption.interrupt(number == SIGINT ? SIGINT : SIGTERM) }
        let report: RestoreRunner.Report
        do {
            report = try await runner.restore(entry, target: targetDatabase, interruption: interruption)
            if let signal = interruption.signal { throw OpsError(.io, "interrupted (signal \(signal)) as pg_restore finished") }
            trap.remove()
        } catch {
            trap.remove()
            await held.release()
            let interrupted = trap.received
            printError("whisperctl restore: \(error)" + (interrupted != nil ? " (interrupted)" : ""))
            Mutation.audit(deployment, command: "restore", action: "restore", target: "\(entry.id) -> \(database)", outcome: .failed("\(error)"))
            throw ExitCode(interrupted.map { 128 + $0 } ?? 2)
        }
        var restoredFiles: [String] = []
        if withConfig {
            restoredFiles = try restoreConfig(entry)
        }
        await held.release()
        Mutation.audit(
            deployment, command: "restore", action: "restore", target: "\(entry.id) -> \(database)",
            outcome: report.matches ? .succeeded : .failed("row counts differ from the manifest"))
        if options.json {
            print(JSONValue.object([
                ("id", .string(entry.id)), ("database", .string(database)), ("rows_match", .bool(report.matches)),
                ("tables", .array(report.tables.map { .object([("table", .string($0.table)), ("expected", .int($0.expected)), ("restored", $0.restored.map(JSONValue.int) ?? .null)]) })),
                ("config_files", .array(restoredFiles.map(JSONValue.string))),
            ]).prettyPrinted())
        } else {
            print("restored \(entry.id) into \(database):")
            let rows = report.tables.map { [$0.table, String($0.expected), $0.restored.map(String.init) ?? "missing", $0.expected == $0.restored ? "ok" : "DIFFERS"] }
            print(Table(headers: ["TABLE", "MANIFEST", "RESTORED", ""], rows: rows).render())
            for file in restoredFiles { print(file) }
        }
        if !report.matches {
            printError("whisperctl restore: the restored rows differ from the manifest")
            throw ExitCode(2)
        }
    }

    /// Puts the .env and certificates back where they came from; a different existing file is
    /// replaced only when confirmed.
    private func restoreConfig(_ entry: BackupStore.Entry) throws -> [String] {
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
                guard Mutation.confirm("Replace \(target) with the backup's copy (\(data.count) bytes, now \(current.count))?", yes: yes) else {
                    lines.append("\(target): kept (not confirmed)")
                    continue
                }
            }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(Array(data), to: target, mode: 0o600)
            lines.append("\(target): restored (mode 0600)")
        }
        return lines
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
        let backend = try OperationsLock.backend(for: deployment)
        let holder: LockHolder?
        do {
            holder = try await backend.current()
        } catch {
            printError("whisperctl lock status: \(backend.description): \(error)")
            throw ExitCode(2)
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
        if holder != nil { throw ExitCode(1) }
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
        let backend = try OperationsLock.backend(for: deployment)
        guard let holder = try await backend.current() else {
            print("the lock is free [\(backend.description)]")
            return
        }
        if let interval = backend.heartbeatInterval, let heartbeat = holder.heartbeatAt {
            let age = Date().timeIntervalSince(heartbeat)
            if age < 2 * interval.seconds && !force {
                printError("the holder is alive: \(holder.describe()), heartbeat \(DisplayFormat.age(age)) ago; --force breaks it anyway")
                throw ExitCode(1)
            }
        }
        guard Mutation.confirm("Break the lock held by \(holder.describe())? If it is still working, two operations may overlap.", yes: yes) else {
            throw ExitCode(1)
        }
        do {
            try await backend.breakLock(holder)
        } catch {
            printError("whisperctl lock break: \(error)")
            throw ExitCode(2)
        }
        Mutation.audit(deployment, command: "lock", action: "break", target: backend.description, outcome: .succeeded, details: [("holder", .string(holder.describe()))])
        print("broken: the lock is free")
    }
}
