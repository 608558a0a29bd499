import Foundation

/// What a support bundle holds before it is written: each file's text already scrubbed of every
/// known secret, and what could not be collected, with why.
public struct BundleContents: Sendable {
    public struct File: Sendable {
        /// Relative to the bundle's directory, e.g. `metrics/ws1-2.txt`.
        public let name: String
        public let bytes: [UInt8]
    }

    public struct Gap: Sendable {
        /// What was being collected, e.g. `redis/info.txt` or `logs/ws1`.
        public let item: String
        public let error: String
    }

    public private(set) var files: [File] = []
    public private(set) var gaps: [Gap] = []

    public init() {}

    /// Adds `text` with every registered secret, URL password and `password=` pair masked.
    public mutating func add(_ name: String, text: String) {
        files.append(File(name: name, bytes: Array(SecretRegistry.shared.scrub(text).utf8)))
    }

    /// Two services whose names become the same file name (`a/b`, `a_b`) both stay: the
    /// second is `a_b-2.log`.
    mutating func makeNamesUnique() {
        var seen: Set<String> = []
        files = files.map { file in
            var name = file.name
            let ext = (name as NSString).pathExtension
            let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
            var counter = 2
            while seen.contains(name) {
                name = "\(stem)-\(counter)" + (ext.isEmpty ? "" : ".\(ext)")
                counter += 1
            }
            seen.insert(name)
            return File(name: name, bytes: file.bytes)
        }
    }

    public mutating func add(_ name: String, json: JSONValue) {
        add(name, text: json.prettyPrinted() + "\n")
    }

    public mutating func gap(_ item: String, _ error: any Error) {
        gap(item, String(describing: error))
    }

    public mutating func gap(_ item: String, _ message: String) {
        gaps.append(Gap(item: item, error: SecretRegistry.shared.scrub(message)))
    }

    public mutating func merge(_ other: BundleContents) {
        files += other.files
        gaps += other.gaps
    }

    /// `sha256sum -c SHA256SUMS` inside the unpacked directory checks every file.
    func checksums() -> String {
        files.sorted { $0.name < $1.name }.map { "\(Digest.hex(Digest.sha256($0.bytes)))  \($0.name)\n" }.joined()
    }

    func manifest(_ header: [(String, JSONValue)]) -> JSONValue {
        .object(header + [
            ("files", .array(files.sorted { $0.name < $1.name }.map { file in
                .object([("name", .string(file.name)), ("bytes", .int(file.bytes.count)), ("sha256", .string(Digest.hex(Digest.sha256(file.bytes))))])
            })),
            ("not_collected", .array(gaps.map { .object([("item", .string($0.item)), ("error", .string($0.error))]) })),
        ])
    }

    /// The `.tar.gz`: one directory named `root` with the files, `manifest.json` and
    /// `SHA256SUMS`; directories 0700 and files 0600, as the bundle itself.
    public func archive(root: String, header: [(String, JSONValue)], created: Date) throws -> [UInt8] {
        var contents = self
        contents.makeNamesUnique()
        return try contents.tarGzip(root: root, header: header, created: created)
    }

    private func tarGzip(root: String, header: [(String, JSONValue)], created: Date) throws -> [UInt8] {
        var tar = TarArchive()
        var directories: Set<String> = []
        let all = files + [
            File(name: "manifest.json", bytes: Array((SecretRegistry.shared.scrub(manifest(header).prettyPrinted()) + "\n").utf8)),
            File(name: "SHA256SUMS", bytes: Array(checksums().utf8)),
        ]
        try tar.addDirectory(root, modified: created)
        for file in all.sorted(by: { $0.name < $1.name }) {
            var parent = ""
            for component in file.name.split(separator: "/").dropLast() {
                parent += (parent.isEmpty ? "" : "/") + component
                if directories.insert(parent).inserted { try tar.addDirectory("\(root)/\(parent)", modified: created) }
            }
            try tar.addFile("\(root)/\(file.name)", file.bytes, modified: created)
        }
        return try Gzip.compress(tar.finished())
    }
}
