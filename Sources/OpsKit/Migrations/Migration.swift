import Foundation

/// One numbered schema change: `NNN_name.up.sql` and, to revert it, `NNN_name.down.sql`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    var upPath: String
    public var up: String
    var downPath: String?
    public var down: String?

    /// SHA-256 of the up script: an applied migration whose file later changed is reported.
    public var checksum: String { Digest.sha256Hex(up) }

    /// The header comment that runs a script outside a transaction, statement by statement
    /// (`CREATE INDEX CONCURRENTLY` cannot run inside one).
    public static let noTransactionMarker = "-- whisper:no-transaction"

    /// Whether `script` runs in a transaction: yes, unless its leading comments hold the marker.
    public static func isTransactional(_ script: String) -> Bool {
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard trimmed.hasPrefix("--") else { return true }
            if trimmed.lowercased().hasPrefix(noTransactionMarker) { return false }
        }
        return true
    }

    var upIsTransactional: Bool { Migration.isTransactional(up) }
    var downIsTransactional: Bool { down.map(Migration.isTransactional) ?? true }

    /// "002_add_index".
    public var label: String { String(format: "%03d_%@", version, name) }
}

/// The migrations of a directory, in version order.
public enum MigrationDirectory {
    /// Reads every `NNN_name.up.sql` / `.down.sql` pair in `path`.
    /// - Throws: `OpsError(.invalidInput)` naming the file for a badly named file, a version used
    ///   twice, a down script without its up script, or an unreadable file.
    public static func load(_ path: String) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw OpsError(.invalidInput, "cannot read the migrations directory", endpoint: path)
        }
        var ups: [Int: (name: String, path: String)] = [:]
        var downs: [Int: (name: String, path: String)] = [:]
        for file in names.sorted() where file.hasSuffix(".sql") {
            let full = (path as NSString).appendingPathComponent(file)
            guard let (version, name, direction) = parse(file) else {
                throw OpsError(.invalidInput, "migration file names look like 001_create_table.up.sql or .down.sql", endpoint: full)
            }
            if direction == "up" {
                if let other = ups[version] { throw OpsError(.invalidInput, "version \(version) is also used by \(other.path)", endpoint: full) }
                ups[version] = (name, full)
            } else {
                if let other = downs[version] { throw OpsError(.invalidInput, "version \(version) is also used by \(other.path)", endpoint: full) }
                downs[version] = (name, full)
            }
        }
        for (version, down) in downs where ups[version] == nil {
            throw OpsError(.invalidInput, "a down migration without its up migration", endpoint: down.path)
        }
        return try ups.keys.sorted().map { version in
            let up = ups[version]!
            let down = downs[version]
            return Migration(
                version: version, name: up.name, upPath: up.path, up: try read(up.path),
                downPath: down?.path, down: try down.map { try read($0.path) })
        }
    }

    /// `001_create_abuse_reports.up.sql` → (1, "create_abuse_reports", "up").
    package static func parse(_ file: String) -> (Int, String, String)? {
        let parts = file.split(separator: ".")
        guard parts.count == 3, parts[2] == "sql", parts[1] == "up" || parts[1] == "down" else { return nil }
        guard let underscore = parts[0].firstIndex(of: "_"), let version = Int(parts[0][..<underscore]), version > 0 else { return nil }
        let name = String(parts[0][parts[0].index(after: underscore)...])
        guard !name.isEmpty else { return nil }
        return (version, name, String(parts[1]))
    }

    private static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw OpsError(.invalidInput, "cannot read the file as UTF-8", endpoint: path)
        }
        return text
    }
}
