import Foundation

/// A change to one deployment file, shown as a diff before it is written (atomically).
public struct FileChange: Sendable, Equatable {
    public var path: String
    public var before: String
    public var after: String

    public init(path: String, before: String, after: String) {
        self.path = path
        self.before = before
        self.after = after
    }

    public var isEmpty: Bool { before == after }

    /// A unified diff with three lines of context. The edits here insert or delete one block of
    /// lines at a time, so the lines both versions share at the start and at the end frame a
    /// single hunk.
    public var diff: String {
        let old = before.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let new = after.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        guard prefix < old.count || prefix < new.count, old != new else { return "" }
        let start = max(0, prefix - 3)
        let oldEnd = min(old.count, old.count - suffix + 3)
        let newEnd = min(new.count, new.count - suffix + 3)
        var lines = ["--- \(path)", "+++ \(path)", "@@ -\(start + 1),\(oldEnd - start) +\(start + 1),\(newEnd - start) @@"]
        lines += old[start..<prefix].map { " " + $0 }
        lines += old[prefix..<(old.count - suffix)].map { "-" + $0 }
        lines += new[prefix..<(new.count - suffix)].map { "+" + $0 }
        lines += old[(old.count - suffix)..<oldEnd].map { " " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the new content in place of the old, keeping the file's mode.
    /// - Throws: when the file changed since it was read (someone else edited it), or cannot be written.
    public func apply() throws {
        let current = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard current == before else {
            throw OpsError(.io, "changed since it was read; nothing written (run the command again)", endpoint: path)
        }
        let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { mode_t($0) } ?? 0o644
        try AtomicFile.write(Array(after.utf8), to: path, mode: mode)
    }
}
