import ArgumentParser
import Foundation
import OpsKit

struct AuditLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-log",
        abstract: "Read the audit log of every change, and verify its hash chain.",
        discussion: """
            Every mutation whisperctl made (who, when, from where, what, on what, how it ended) is one JSON line \
            of the audit log (the inventory's audit_log, default ~/.local/state/whisperctl/audit.log). Each line \
            carries the SHA-256 of the line before it: --verify checks the whole chain and names the first line \
            that does not follow, which is where the log was edited, cut or added to.

            Exit status: 0 read (or the chain holds), 1 no matching lines, 2 the chain is broken, 3 no log to read.

            Examples:
              whisperctl audit-log --since 24h
              whisperctl audit-log --run 20261202-101500-first-deployment-3f2a --json
              whisperctl audit-log --verify
            """)

    @OptionGroup var inventory: InventoryOptions
    @Option(help: ArgumentHelp("Only lines since then: an ISO 8601 time or a duration ago (24h, 30m).", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Only the lines of one runbook run.", valueName: "run-id"))
    var run: String?
    @Flag(help: "Verify the hash chain of the whole log (filters do not apply).")
    var verify = false
    @Flag(help: "Print the lines as JSON (with --verify, one JSON object).")
    var json = false

    func validate() throws {
        if let since, Self.start(since, now: Date()) == nil {
            throw ValidationError("--since '\(since)' is neither an ISO 8601 time nor a duration such as 24h")
        }
    }

    /// When `--since` begins.
    static func start(_ text: String, now: Date) -> Date? {
        if let duration = Duration(parsing: text) { return now.addingTimeInterval(-duration.seconds) }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let path = deployment.auditLogPath
        guard FileManager.default.fileExists(atPath: path) else {
            printError("whisperctl audit-log: no audit log at \(path): nothing has been changed through whisperctl here yet")
            throw ExitStatus.unknown
        }
        if verify { return try verifyChain(path) }
        let log = AuditLog(path: path, deployment: deployment.deployment)
        let since = self.since.flatMap { Self.start($0, now: Date()) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let records = try log.records().filter { record in
            if let run, record.runbookRun != run { return false }
            if let since, let time = formatter.date(from: record.time), time < since { return false }
            return true
        }
        if json {
            for record in records { print(record.line) }
        } else if !records.isEmpty {
            let rows = records.map { record in
                [record.time, record.user, record.command, record.action, record.target, record.result + (record.error.map { ": \($0)" } ?? ""), record.runbookRun ?? "-"]
            }
            print(Table(headers: ["TIME", "BY", "COMMAND", "ACTION", "TARGET", "RESULT", "RUN"], rows: rows).render())
        }
        if records.isEmpty {
            if !json { printError("no lines match in \(path)") }
            throw ExitStatus.nothingToDo
        }
    }

    private func verifyChain(_ path: String) throws {
        let verification: AuditLogVerification
        do { verification = try AuditLogVerification(path: path) } catch {
            printError("whisperctl audit-log: \(error)")
            throw ExitStatus.unknown
        }
        if json {
            print(verification.json.prettyPrinted())
        } else if verification.intact {
            let from = verification.chainedFrom.map { $0 == 1 ? "every line" : "lines \($0)-\(verification.lines) (the \($0 - 1) before predate the chain)" } ?? "no line carries a hash"
            print("\(path): \(verification.lines) lines, hash chain intact: \(from)")
        } else {
            print("\(path): \(verification.lines) lines, hash chain BROKEN:")
            for broken in verification.breaks { print("  line \(broken.line): \(broken.problem)") }
        }
        if !verification.intact { throw ExitStatus.critical }
        if verification.chainedFrom == nil && verification.lines > 0 { throw ExitStatus.unknown }
    }
}
