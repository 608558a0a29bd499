import Foundation

/// The backup directory: one directory per backup (`20261129T031500Z/`: the dump, the .env, the
/// certificates and `manifest.json`). A backup is written as `.20261129T031500Z.partial-PID/` and
/// renamed when complete, so one cut short (disk full, kill -9) never looks like a backup.
public struct BackupStore: Sendable {
    public struct Entry: Sendable {
        public var id: String
        public var path: String
        public var manifest: BackupManifest

        /// Its last verification passed.
        public var isVerified: Bool { manifest.verification?.passed == true }
        /// Its last verification failed: damaged, or it did not restore.
        public var failedVerification: BackupManifest.Verification? { manifest.verification.flatMap { $0.passed ? nil : $0 } }
    }

    public struct Unreadable: Sendable {
        public var path: String
        public var reason: String
    }

    public let directory: String

    public init(directory: String) { self.directory = directory }

    static let manifestName = "manifest.json"

    /// Every backup, newest first, and the directories that look like backups but are not readable.
    public func list() throws -> (entries: [Entry], unreadable: [Unreadable]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return ([], []) }
        guard isDirectory.boolValue else { throw OpsError(.io, "not a directory", endpoint: directory) }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw OpsError(.io, "cannot read the backup directory: \(error.localizedDescription)", endpoint: directory)
        }
        var entries: [Entry] = []
        var unreadable: [Unreadable] = []
        for name in names where !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            let manifestPath = (path as NSString).appendingPathComponent(Self.manifestName)
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            do {
                guard let data = FileManager.default.contents(atPath: manifestPath) else {
                    throw OpsError(.invalidInput, "no manifest.json", endpoint: path)
                }
                let manifest = try BackupManifest(json: try JSONValue.parse(Array(data)), path: manifestPath)
                guard manifest.id == name else { throw OpsError(.invalidInput, "the manifest says id \(manifest.id)", endpoint: manifestPath) }
                entries.append(Entry(id: name, path: path, manifest: manifest))
            } catch {
                unreadable.append(Unreadable(path: path, reason: "\(error)"))
            }
        }
        return (entries.sorted { $0.manifest.createdAt > $1.manifest.createdAt }, unreadable)
    }

    /// One backup by id (or, with nil, the newest).
    public func entry(_ id: String?) throws -> Entry {
        let (entries, unreadable) = try list()
        if let id {
            if let entry = entries.first(where: { $0.id == id }) { return entry }
            if let bad = unreadable.first(where: { ($0.path as NSString).lastPathComponent == id }) {
                throw OpsError(.invalidInput, "backup \(id) is unreadable: \(bad.reason)", endpoint: bad.path)
            }
            throw OpsError(.invalidInput, "no backup \(id) (have: \(entries.prefix(5).map(\.id).joined(separator: ", ")))", endpoint: directory)
        }
        guard let newest = entries.first else { throw OpsError(.invalidInput, "no backups yet", endpoint: directory) }
        return newest
    }

    func newestVerified() throws -> Entry? { try list().entries.first { $0.isVerified } }

    /// Rewrites a backup's manifest (its verification), atomically.
    public func save(_ manifest: BackupManifest, in entry: Entry) throws {
        try AtomicFile.write(Array((manifest.json.prettyPrinted() + "\n").utf8), to: (entry.path as NSString).appendingPathComponent(Self.manifestName))
    }

    // MARK: Retention

    public struct Retention: Sendable {
        /// Backups older than this go (the guide keeps 30 days).
        public var keepDays: Int = 30
        /// ...unless they are among the newest this many.
        public var keepLast: Int = 0

        public init(keepDays: Int = 30, keepLast: Int = 0) {
            self.keepDays = keepDays
            self.keepLast = keepLast
        }
    }

    public struct PrunePlan: Sendable {
        public var delete: [Entry]
        public var keep: [Entry]
        /// Directories of backups that never finished, whose writer is gone.
        public var abandoned: [String]
        /// Partial backups whose process still runs: a backup in progress, left alone.
        public var inProgress: [String] = []
    }

    /// What pruning would delete. The newest verified backup is never deleted, whatever its age.
    public func prunePlan(_ retention: Retention, now: Date = Date()) throws -> PrunePlan {
        let entries = try list().entries
        let newestVerified = entries.first { $0.isVerified }?.id
        let cutoff = now.addingTimeInterval(-Double(retention.keepDays) * 86_400)
        var delete: [Entry] = []
        var keep: [Entry] = []
        for (index, entry) in entries.enumerated() {
            let old = entry.manifest.createdAt < cutoff
            if old && index >= retention.keepLast && entry.id != newestVerified { delete.append(entry) } else { keep.append(entry) }
        }
        let partials = self.partials()
        return PrunePlan(
            delete: delete, keep: keep, abandoned: partials.filter { !$0.running }.map(\.path), inProgress: partials.filter(\.running).map(\.path))
    }

    /// `.ID.partial-PID` directories whose process no longer runs.
    func abandonedPartials() -> [String] { partials().filter { !$0.running }.map(\.path) }

    /// Every `.ID.partial-PID` directory, and whether its process still runs.
    private func partials() -> [(path: String, running: Bool)] {
        // A directory that cannot be listed has no partials to report; `list` names the problem.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            guard name.hasPrefix("."), let marker = name.range(of: ".partial-"), let pid = Int32(name[marker.upperBound...]) else { return nil }
            return ((directory as NSString).appendingPathComponent(name), kill(pid, 0) == 0 || errno == EPERM)
        }
    }

    public func remove(_ path: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw OpsError(.io, "cannot delete: \(error.localizedDescription)", endpoint: path)
        }
    }
}
