import Foundation

/// A POSIX ustar archive built in memory: regular files and directories, owned by root, for
/// bundles `tar -x` unpacks anywhere.
public struct TarArchive: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var names: Set<String> = []

    public init() {}

    public enum EntryError: Error, CustomStringConvertible {
        case badName(String)
        case duplicate(String)

        public var description: String {
            switch self {
            case .badName(let name): "'\(name)' cannot be a name in the archive (relative, no '..', at most 255 bytes)"
            case .duplicate(let name): "'\(name)' is in the archive already"
            }
        }
    }

    public mutating func addDirectory(_ name: String, mode: Int = 0o700, modified: Date) throws {
        try add(name.hasSuffix("/") ? name : name + "/", type: UInt8(ascii: "5"), mode: mode, contents: [], modified: modified)
    }

    public mutating func addFile(_ name: String, _ contents: [UInt8], mode: Int = 0o600, modified: Date) throws {
        try add(name, type: UInt8(ascii: "0"), mode: mode, contents: contents, modified: modified)
    }

    /// Two zero blocks end an archive.
    public func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    private mutating func add(_ name: String, type: UInt8, mode: Int, contents: [UInt8], modified: Date) throws {
        let (prefix, base) = try Self.split(name)
        guard names.insert(name).inserted else { throw EntryError.duplicate(name) }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: [UInt8], at offset: Int) { header.replaceSubrange(offset..<offset + text.count, with: text) }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            Array(String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1).utf8) + [0]
        }
        put(Array(base.utf8), at: 0)
        put(octal(mode, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(contents.count, width: 12), at: 124)
        put(octal(max(0, Int(modified.timeIntervalSince1970)), width: 12), at: 136)
        put([UInt8](repeating: UInt8(ascii: " "), count: 8), at: 148)
        header[156] = type
        put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
        put(Array("root".utf8), at: 265)
        put(Array("root".utf8), at: 297)
        put(Array(prefix.utf8), at: 345)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(String(checksum, radix: 8)).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], at: 148)
        bytes += header
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    /// ustar names: up to 100 bytes, or a prefix of up to 155 split at a '/'.
    static func split(_ name: String) throws -> (prefix: String, name: String) {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        let inner = name.hasSuffix("/") ? components.dropLast() : components[...]
        guard !name.hasPrefix("/"), !inner.isEmpty, !inner.contains(where: { $0.isEmpty || $0 == ".." || $0 == "." }),
              !name.utf8.contains(0) else { throw EntryError.badName(name) }
        let utf8 = Array(name.utf8)
        if utf8.count <= 100 { return ("", name) }
        // The longest prefix that fits, ending at a '/', with the rest at most 100 bytes.
        for index in stride(from: min(utf8.count - 1, 155), through: 1, by: -1) where utf8[index] == UInt8(ascii: "/") {
            if utf8.count - index - 1 <= 100 && utf8.count - index - 1 > 0 {
                return (String(decoding: utf8[..<index], as: UTF8.self), String(decoding: utf8[(index + 1)...], as: UTF8.self))
            }
        }
        throw EntryError.badName(name)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
