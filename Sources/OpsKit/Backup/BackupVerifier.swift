import Foundation
import NIOPosix

/// Checks a backup: every file's size and SHA-256 against the manifest, `pg_restore --list` on the
/// dump, and with a restore test, a real restore into a scratch database whose row counts must
/// match the manifest's.
public struct BackupVerifier: Sendable {
    public struct Report: Sendable {
        public var entry: BackupStore.Entry
        public var method: BackupManifest.Verification.Method
        /// Rows per table after the restore test: (manifest, restored).
        public var tables: [(table: String, expected: Int, restored: Int?)]
        /// What the check left behind that needs a hand (a scratch database it could not drop).
        public var warnings: [String] = []
    }

    public let store: BackupStore
    public let databaseURL: String
    public var pool: NIOThreadPool

    public init(store: BackupStore, databaseURL: String, pool: NIOThreadPool = .singleton) {
        self.store = store
        self.databaseURL = databaseURL
        self.pool = pool
    }

    /// Size and SHA-256 of every file.
    /// - Throws: `OpsError(.invalidInput)` naming the first file that differs, and how.
    public static func checkFiles(_ entry: BackupStore.Entry) throws {
        for file in entry.manifest.files {
            let path = (entry.path as NSString).appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: path) else { throw OpsError(.invalidInput, "missing from the backup", endpoint: path) }
            let (digest, size) = try Digest.sha256Hex(file: path)
            guard size == file.size else {
                throw OpsError(.invalidInput, "size \(size) bytes, the manifest says \(file.size): the file is damaged", endpoint: path)
            }
            guard digest == file.sha256 else {
                throw OpsError(.invalidInput, "SHA-256 \(digest.prefix(16))… differs from the manifest's \(file.sha256.prefix(16))…: the file is damaged", endpoint: path)
            }
        }
    }

    /// The matching pg_restore for the database server.
    func pgRestore() async throws -> PostgresClientTool {
        let connection = try await PostgresConnection.connect(url: databaseURL, timeout: .seconds(10), pool: pool)
        defer { connection.close() }
        return try await PostgresClientTools.find("pg_restore", serverMajor: connection.serverVersionNumber / 10_000)
    }

    /// Checksums and `pg_restore --list`; with `restoreTest`, a restore into a scratch database
    /// (created and always dropped) compared table by table. Records the outcome in the
    /// manifest: a pass, or a backup found damaged (or not restoring), so `status` and `backup
    /// list` stop counting it as verified. A check that could not run (the database unreachable,
    /// no pg_restore) says nothing about the backup and records nothing.
    public func verify(_ entry: BackupStore.Entry, restoreTest: Bool) async throws -> Report {
        do {
            return try await check(entry, restoreTest: restoreTest)
        } catch let error as OpsError where error.code == .invalidInput {
            var manifest = entry.manifest
            manifest.verification = .init(at: Date(), method: restoreTest ? .restoreTest : .list, failure: SecretRegistry.shared.scrub(error.description))
            do { try store.save(manifest, in: entry) } catch let recordError {
                throw OpsError(.invalidInput, "\(error); and it could not be recorded in the manifest (\(recordError)): status may still count this backup as verified")
            }
            throw error
        }
    }

    private func check(_ entry: BackupStore.Entry, restoreTest: Bool) async throws -> Report {
        try Self.checkFiles(entry)
        guard let dump = entry.manifest.dumpFile else { throw OpsError(.invalidInput, "the manifest lists no database dump", endpoint: entry.path) }
        let dumpPath = (entry.path as NSString).appendingPathComponent(dump.name)
        let tool = try await pgRestore()
        let list = try await Subprocess.output(tool.path, ["--list", dumpPath], environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"], pool: pool)
        guard list.termination.succeeded else {
            throw OpsError(.invalidInput, "pg_restore --list \(list.termination): \(list.errors)", endpoint: dumpPath)
        }
        var tables: [(String, Int, Int?)] = []
        var warnings: [String] = []
        if restoreTest {
            let scratch = try await restoreIntoScratch(entry, dumpPath: dumpPath, tool: tool)
            tables = scratch.tables
            warnings += scratch.leftover.map { [$0] } ?? []
            let mismatches = tables.filter { $0.1 != $0.2 }
            guard mismatches.isEmpty else {
                let text = mismatches.map { "\($0.0): \($0.1) in the manifest, \($0.2.map(String.init) ?? "missing") restored" }.joined(separator: "; ")
                throw OpsError(.invalidInput, "the restore test differs: \(text)", endpoint: entry.path)
            }
        }
        var manifest = entry.manifest
        manifest.verification = BackupManifest.Verification(at: Date(), method: restoreTest ? .restoreTest : .list)
        try store.save(manifest, in: entry)
        var verified = entry
        verified.manifest = manifest
        return Report(entry: verified, method: restoreTest ? .restoreTest : .list, tables: tables.map { ($0.0, $0.1, $0.2) }, warnings: warnings)
    }

    /// - Returns: the row counts, and what to do by hand when the scratch database could not be dropped.
    private func restoreIntoScratch(
        _ entry: BackupStore.Entry, dumpPath: String, tool: PostgresClientTool
    ) async throws -> (tables: [(String, Int, Int?)], leftover: String?) {
        let scratch = "whisperctl_verify_\(entry.id.lowercased().filter { $0.isLetter || $0.isNumber })_\(getpid())"
        let admin = try await PostgresConnection.connect(url: databaseURL, timeout: .seconds(10), pool: pool)
        defer { admin.close() }
        do {
            try await admin.query("CREATE DATABASE \(BackupWriter.quoteIdentifier(scratch))")
        } catch {
            throw OpsError(.serverError, "cannot create the scratch database \(scratch) for the restore test (the role needs CREATEDB): \(error)")
        }
        do {
            let info = try PostgresConnectionInfo(parsing: databaseURL)
            try await RestoreRunner.pgRestore(tool: tool, dumpPath: dumpPath, info: info, database: scratch, clean: false, pool: pool)
            let restored = try await RestoreRunner.rowCounts(url: databaseURL, database: scratch, pool: pool)
            return (RestoreRunner.compare(entry.manifest.tables, restored), await drop(scratch, on: admin))
        } catch {
            if let leftover = await drop(scratch, on: admin) {
                throw OpsError(.serverError, "\(error); and \(leftover)")
            }
            throw error
        }
    }

    /// Drops the scratch database; says what is left to do by hand when it cannot.
    private func drop(_ scratch: String, on admin: PostgresConnection) async -> String? {
        let statement = "DROP DATABASE IF EXISTS \(BackupWriter.quoteIdentifier(scratch))"
        do {
            try await admin.query(statement, timeout: .seconds(60))
            return nil
        } catch {
            return "the scratch database \(scratch) could not be dropped (\(error)): run \(statement)"
        }
    }
}
