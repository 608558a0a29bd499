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

    @Argument(help: "The backup's id (see 'backup list').", completion: .custom { words, _, _ in Completions.backupIDs(words) })
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
