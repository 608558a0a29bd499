import Foundation

/// What a backup holds, written last: a backup without its manifest is not a backup.
public struct BackupManifest: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public enum Kind: String, Sendable { case database, env, certificate }
        /// The name inside the backup's directory.
        public var name: String
        public var kind: Kind
        /// Where it came from (the .env's or certificate's path); nil for the dump.
        public var source: String?
        public var size: Int
        public var sha256: String
    }

    public struct Verification: Sendable, Equatable {
        public enum Method: String, Sendable {
            /// Checksums match and `pg_restore --list` reads the dump.
            case list
            /// Also restored into a scratch database with the same row counts.
            case restoreTest = "restore-test"
        }
        public var at: Date
        public var method: Method
        /// Why the last verification failed (the backup is damaged or does not restore); nil
        /// when it passed. A failed one replaces an earlier pass: the files were checked again.
        public var failure: String?

        public init(at: Date, method: Method, failure: String? = nil) {
            self.at = at
            self.method = method
            self.failure = failure
        }

        public var passed: Bool { failure == nil }
    }

    public static let format = 1

    public var id: String
    public var createdAt: Date
    var completedAt: Date
    public var whisperctlVersion: String
    public var deployment: String
    public var database: String
    /// host:port, no credentials.
    public var endpoint: String
    public var serverVersion: String
    public var pgDumpVersion: String
    /// The highest clean migration applied, if the database has schema_migrations.
    public var migrationVersion: Int?
    public var files: [File]
    /// Rows per table ("public.abuse_reports"), counted in the snapshot pg_dump dumped.
    public var tables: [String: Int]
    public var verification: Verification?

    var dumpFile: File? { files.first { $0.kind == .database } }
    public var totalSize: Int { files.map(\.size).reduce(0, +) }

    public var json: JSONValue {
        let formatter = BackupManifest.dateFormatter
        var object: [(String, JSONValue)] = [
            ("format", .int(Self.format)), ("id", .string(id)), ("created_at", .string(formatter.string(from: createdAt))),
            ("completed_at", .string(formatter.string(from: completedAt))), ("whisperctl_version", .string(whisperctlVersion)),
            ("deployment", .string(deployment)), ("database", .string(database)), ("endpoint", .string(endpoint)),
            ("server_version", .string(serverVersion)), ("pg_dump_version", .string(pgDumpVersion)),
            ("migration_version", migrationVersion.map(JSONValue.int) ?? .null),
            ("files", .array(files.map { file in
                .object([
                    ("name", .string(file.name)), ("kind", .string(file.kind.rawValue)), ("source", file.source.map(JSONValue.string) ?? .null),
                    ("size", .int(file.size)), ("sha256", .string(file.sha256)),
                ])
            })),
            ("tables", .object(tables.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        object.append(("verification", verification.map { verification in
            var fields: [(String, JSONValue)] = [("at", .string(formatter.string(from: verification.at))), ("method", .string(verification.method.rawValue))]
            fields.append(("passed", .bool(verification.passed)))
            if let failure = verification.failure { fields.append(("failure", .string(failure))) }
            return .object(fields)
        } ?? .null))
        return .object(object)
    }

    /// - Throws: `OpsError(.invalidInput)` naming the field that is missing or wrong.
    public init(json: JSONValue, path: String) throws {
        func field<T>(_ name: String, _ read: (JSONValue) -> T?) throws -> T {
            guard let value = json[name], let typed = read(value) else {
                throw OpsError(.invalidInput, "manifest field '\(name)' is missing or malformed", endpoint: path)
            }
            return typed
        }
        let formatter = BackupManifest.dateFormatter
        func date(_ name: String) throws -> Date { try field(name) { $0.stringValue.flatMap(formatter.date(from:)) } }
        guard json["format"]?.intValue == Self.format else {
            throw OpsError(.invalidInput, "manifest format \(json["format"]?.serialized() ?? "missing") is not \(Self.format)", endpoint: path)
        }
        id = try field("id") { $0.stringValue }
        createdAt = try date("created_at")
        completedAt = try date("completed_at")
        whisperctlVersion = try field("whisperctl_version") { $0.stringValue }
        deployment = try field("deployment") { $0.stringValue }
        database = try field("database") { $0.stringValue }
        endpoint = try field("endpoint") { $0.stringValue }
        serverVersion = try field("server_version") { $0.stringValue }
        pgDumpVersion = try field("pg_dump_version") { $0.stringValue }
        migrationVersion = json["migration_version"]?.intValue
        files = try field("files") { $0.arrayValue }.map { item in
            guard let name = item["name"]?.stringValue, !name.isEmpty, !name.contains("/"), name != "..", name != ".", let kind = item["kind"]?.stringValue.flatMap(File.Kind.init),
                let size = item["size"]?.intValue, let sha = item["sha256"]?.stringValue
            else { throw OpsError(.invalidInput, "manifest has a malformed file entry: \(item.serialized().prefix(120))", endpoint: path) }
            return File(name: name, kind: kind, source: item["source"]?.stringValue, size: size, sha256: sha)
        }
        guard case .object(let pairs)? = json["tables"] else { throw OpsError(.invalidInput, "manifest field 'tables' is missing", endpoint: path) }
        tables = Dictionary(pairs.compactMap { key, value in value.intValue.map { (key, $0) } }, uniquingKeysWith: { first, _ in first })
        if let verification = json["verification"], verification != .null {
            verification_: do {
                guard let at = verification["at"]?.stringValue.flatMap(formatter.date(from:)),
                    let method = verification["method"]?.stringValue.flatMap(Verification.Method.init)
                else { break verification_ }
                self.verification = Verification(at: at, method: method, failure: verification["failure"]?.stringValue)
            }
        }
    }

    public init(
        id: String, createdAt: Date, completedAt: Date, whisperctlVersion: String, deployment: String, database: String, endpoint: String,
        serverVersion: String, pgDumpVersion: String, migrationVersion: Int?, files: [File], tables: [String: Int], verification: Verification? = nil
    ) {
        self.id = id
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.whisperctlVersion = whisperctlVersion
        self.deployment = deployment
        self.database = database
        self.endpoint = endpoint
        self.serverVersion = serverVersion
        self.pgDumpVersion = pgDumpVersion
        self.migrationVersion = migrationVersion
        self.files = files
        self.tables = tables
        self.verification = verification
    }

    /// A new one each time: formatters are not Sendable.
    static var dateFormatter: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
