import Foundation

/// Whether an audit log's hash chain holds: every line's `prev` is the SHA-256 of the line before
/// it. An edited line breaks the chain at the next line; a removed or inserted one where it was.
/// Lines from before the log was chained (no `prev`) are accepted only as its beginning.
///
/// The chain cannot show an edit of the last line, nor the log cut short at a line boundary:
/// nothing comes after them. Copying the log elsewhere (syslog, a bucket) covers those.
public struct AuditLogVerification: Sendable, Equatable {
    public struct Break: Sendable, Equatable {
        /// The line number, from 1.
        public var line: Int
        public var problem: String
    }

    public var lines: Int
    /// The first line that carries `prev` (nil: none does).
    public var chainedFrom: Int?
    public var breaks: [Break]

    public var intact: Bool { breaks.isEmpty }

    /// Checks the log's bytes as they are on disk.
    public init(contents: [UInt8]) {
        var lines = contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        self.lines = lines.count
        chainedFrom = nil
        breaks = []
        var previous: String?
        for (index, line) in lines.enumerated() {
            let number = index + 1
            defer { previous = line }
            guard case .object(let fields)? = try? JSONValue.parse(Array(line.utf8)) else {
                breaks.append(Break(line: number, problem: line.isEmpty ? "an empty line" : "not a JSON object"))
                continue
            }
            guard let prev = fields.first(where: { $0.0 == "prev" })?.1.stringValue else {
                if chainedFrom != nil { breaks.append(Break(line: number, problem: "no prev: a line without a hash after the chain began")) }
                continue
            }
            if chainedFrom == nil { chainedFrom = number }
            // The first chained line may follow unchained ones: it names the line before it all the same.
            let expected = Digest.sha256Hex(previous ?? "")
            if prev != expected {
                breaks.append(Break(line: number, problem: "prev \(prev.prefix(12))… is not the hash of line \(number - 1) (\(expected.prefix(12))…): line \(number - 1) was changed, or a line was removed or inserted here"))
            }
        }
    }

    /// Reads and checks the log at `path`.
    /// - Throws: `OpsError` naming the file when it cannot be read.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OpsError(.io, FileManager.default.fileExists(atPath: path) ? "cannot read the audit log" : "no audit log here", endpoint: path)
        }
        self.init(contents: Array(data))
    }

    public var json: JSONValue {
        .object([
            ("intact", .bool(intact)), ("lines", .int(lines)), ("chained_from", chainedFrom.map { .int($0) } ?? .null),
            ("breaks", .array(breaks.map { .object([("line", .int($0.line)), ("problem", .string($0.problem))]) })),
        ])
    }
}
