import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Takes one backup: `pg_dump --format=custom` streamed into the backup directory with its SHA-256
/// computed on the way, the inventory's .env and certificates beside it, row counts taken in the
/// very snapshot pg_dump dumps, then the manifest, and only then the rename that makes it a
/// backup. Anything that goes wrong (a full disk, pg_dump failing, Ctrl-C) removes the partial
/// directory; a kill -9 leaves one that `prune` recognises as abandoned.
public struct BackupWriter: Sendable {
    public struct Source: Sendable {
        public var databaseURL: String
        public var deployment: String
        /// The .env to keep (secrets: mode 0600), and certificate files.
        public var dotenvPath: String?
        public var certificatePaths: [String]

        public init(databaseURL: String, deployment: String, dotenvPath: String? = nil, certificatePaths: [String] = []) {
            self.databaseURL = databaseURL
            self.deployment = deployment
            self.dotenvPath = dotenvPath
            self.certificatePaths = certificatePaths
        }
    }

    public struct Progress: Sendable {
        public var bytes: Int
        public var elapsed: Duration
    }

    public let store: BackupStore
    public let source: Source
    public var whisperctlVersion: String
    public var pool: NIOThreadPool

    public init(store: BackupStore, source: Source, whisperctlVersion: String, pool: NIOThreadPool = .singleton) {
        self.store = store
        self.source = source
        self.whisperctlVersion = whisperctlVersion
        self.pool = pool
    }

    /// A cancellation flag the streaming loop checks between reads (it runs on a pool thread).
    public final class Cancellation: Sendable {
        private let box = NIOLockedValueBox(false)
        public init() {}
        public func cancel() { box.withLockedValue { $0 = true } }
        public var isCancelled: Bool { box.withLockedValue { $0 } }
    }

    static func newID(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: now)
    }

    /// - Returns: the finished backup.
    /// - Throws: `OpsError` naming what failed (the database, pg_dump with its own words, the file
    ///   being written); no partial backup is left.
    public func run(cancellation: Cancellation = Cancellation(), progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> BackupStore.Entry {
        let created = Date()
        var id = Self.newID(now: created)
        let directory = store.directory
        try makeDirectory(directory, mode: 0o700)
        var suffix = 1
        while FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(id)) {
            suffix += 1
            id = Self.newID(now: created) + "-\(suffix)"
        }
        let partial = (directory as NSString).appendingPathComponent(".\(id).partial-\(getpid())")
        let final = (directory as NSString).appendingPathComponent(id)
        try makeDirectory(partial, mode: 0o700)
        do {
            let manifest = try await write(into: partial, id: id, created: created, cancellation: cancellation, progress: progress)
            try AtomicFile.write(Array((manifest.json.prettyPrinted() + "\n").utf8), to: (partial as NSString).appendingPathComponent(BackupStore.manifestName))
            guard rename(partial, final) == 0 else {
                throw OpsError(.io, "cannot rename the finished backup: \(String(cString: strerror(errno)))", endpoint: final)
            }
            AtomicFile.syncDirectory(directory)
            return BackupStore.Entry(id: id, path: final, manifest: manifest)
        } catch {
            // The failure is what matters; a partial left behind is removed by `backup prune` once this process is gone.
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    private func write(
        into partial: String, id: String, created: Date, cancellation: Cancellation, progress: @escaping @Sendable (Progress) -> Void
    ) async throws -> BackupManifest {
        let info = try PostgresConnectionInfo(parsing: source.databaseURL)
        let connection = try await PostgresConnection.connect(url: source.databaseURL, timeout: .seconds(10), pool: pool)
        defer { connection.close() }
        let serverNumber = connection.serverVersionNumber
        let serverMajor = serverNumber / 10_000
        let serverVersion = try await connection.query("SHOW server_version").rows.first?[0].string ?? String(serverNumber)
        let pgDump = try await PostgresClientTools.find("pg_dump", serverMajor: serverMajor)
        let migrationVersion = try await Self.migrationVersion(connection)

        // One snapshot for pg_dump and the row counts: the manifest's counts are what the dump holds.
        try await connection.execute(script: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        let snapshot = try await connection.query("SELECT pg_export_snapshot()").rows.first?[0].string ?? ""
        let (connectionString, passwordEnvironment) = info.forChildProcess()
        var environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        environment.merge(passwordEnvironment) { _, new in new }
        let dumpPath = (partial as NSString).appendingPathComponent("database.dump")
        let child = try Subprocess.spawn(
            pgDump.path, ["--format=custom", "--no-password", "--snapshot=\(snapshot)", "--dbname=\(connectionString)"],
            environment: environment, captureOutput: true)
        async let streamed = stream(child, to: dumpPath, cancellation: cancellation, progress: progress)
        let tables: [String: Int]
        do {
            tables = try await Self.rowCounts(connection)
        } catch {
            child.signal(SIGTERM)
            // The row count error is the one to report; pg_dump was stopped on purpose.
            _ = try? await streamed
            throw error
        }
        let (digest, size) = try await streamed
        let termination = try await child.wait(on: pool)
        // A read-only snapshot: ending it cannot lose anything, and the connection closes next.
        _ = try? await connection.execute(script: "COMMIT")
        if cancellation.isCancelled { throw OpsError(.io, "interrupted: the partial backup was removed") }
        guard termination.succeeded else {
            throw OpsError(.serverError, "pg_dump \(termination): \(child.errorOutput.isEmpty ? "no message" : child.errorOutput)", endpoint: info.endpoint)
        }
        var files = [BackupManifest.File(name: "database.dump", kind: .database, source: nil, size: size, sha256: digest)]
        if let dotenv = source.dotenvPath, FileManager.default.fileExists(atPath: dotenv) {
            files.append(try copy(dotenv, into: partial, as: "env", kind: .env))
        }
        for (index, certificate) in source.certificatePaths.enumerated() {
            let name = "cert-\(index + 1)-" + (certificate as NSString).lastPathComponent
            files.append(try copy(certificate, into: partial, as: name, kind: .certificate))
        }
        AtomicFile.syncDirectory(partial)
        return BackupManifest(
            id: id, createdAt: created, completedAt: Date(), whisperctlVersion: whisperctlVersion, deployment: source.deployment,
            database: info.database ?? info.user ?? "postgres", endpoint: info.endpoint, serverVersion: serverVersion,
            pgDumpVersion: pgDump.version, migrationVersion: migrationVersion, files: files, tables: tables)
    }

    /// Copies pg_dump's output to `path` (mode 0600), hashing it on the way; fsynced at the end.
    private func stream(
        _ child: Subprocess, to path: String, cancellation: Cancellation, progress: @escaping @Sendable (Progress) -> Void
    ) async throws -> (String, Int) {
        let input = child.standardOutput!
        return try await pool.runIfActive {
            let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard output >= 0 else { throw OpsError(.io, "cannot create: \(String(cString: strerror(errno)))", endpoint: path) }
            defer { close(output) }
            let hash = Digest.SHA256Stream()
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var total = 0
            let started = ContinuousClock.now
            var reported = started
            while true {
                if cancellation.isCancelled {
                    child.signal(SIGTERM)
                    throw OpsError(.io, "interrupted: the partial backup was removed")
                }
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw OpsError(.io, "reading pg_dump's output: \(String(cString: strerror(errno)))") }
                if count == 0 { break }
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + offset, count - offset) }
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else {
                        let reason = String(cString: strerror(errno))
                        child.signal(SIGTERM)
                        throw OpsError(.io, "cannot write the dump after \(ByteCount.format(total + offset)): \(reason)", endpoint: path)
                    }
                    offset += written
                }
                buffer.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
                total += count
                let now = ContinuousClock.now
                if now - reported >= .milliseconds(250) {
                    reported = now
                    progress(Progress(bytes: total, elapsed: now - started))
                }
            }
            guard fsync(output) == 0 else {
                let reason = String(cString: strerror(errno))
                throw OpsError(.io, "cannot sync the dump: \(reason)", endpoint: path)
            }
            progress(Progress(bytes: total, elapsed: ContinuousClock.now - started))
            return (hash.finish(), total)
        }
    }

    /// Copies a configuration file into the backup, mode 0600 (a .env and private keys are secrets).
    private func copy(_ path: String, into directory: String, as name: String, kind: BackupManifest.File.Kind) throws -> BackupManifest.File {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OpsError(.io, "cannot read \(kind.rawValue) file", endpoint: path)
        }
        let bytes = Array(data)
        try AtomicFile.write(bytes, to: (directory as NSString).appendingPathComponent(name), mode: 0o600)
        // Where it goes back to on a restore: an absolute path.
        let source = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return BackupManifest.File(
            name: name, kind: kind, source: (source as NSString).standardizingPath, size: bytes.count, sha256: Digest.hex(Digest.sha256(bytes)))
    }

    private func makeDirectory(_ path: String, mode: Int) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw OpsError(.io, "cannot create the directory: \((error as NSError).localizedDescription)", endpoint: path)
        }
        guard access(path, W_OK) == 0 else { throw OpsError(.io, "the directory is not writable", endpoint: path) }
    }

    /// Rows in every user table, in the connection's current transaction.
    static func rowCounts(_ connection: PostgresConnection) async throws -> [String: Int] {
        let tables = try await connection.query(
            "SELECT schemaname, relname FROM pg_stat_user_tables ORDER BY schemaname, relname")
        var counts: [String: Int] = [:]
        for row in tables.rows {
            guard let schema = row[0].string, let table = row[1].string else { continue }
            let quoted = "\(quoteIdentifier(schema)).\(quoteIdentifier(table))"
            counts["\(schema).\(table)"] = try await connection.query("SELECT count(*) FROM \(quoted)", timeout: .seconds(3600)).rows.first?[0].int ?? 0
        }
        return counts
    }

    static func quoteIdentifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// The highest clean migration, when the database keeps schema_migrations.
    static func migrationVersion(_ connection: PostgresConnection) async throws -> Int? {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists.rows.first?[0].bool == true else { return nil }
        let hasDirty = try await connection.query(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'schema_migrations' AND column_name = 'dirty'")
        let filter = hasDirty.rows.first?[0].int == 1 ? " WHERE NOT dirty" : ""
        return try await connection.query("SELECT max(version) FROM schema_migrations\(filter)").rows.first?[0].int
    }
}
