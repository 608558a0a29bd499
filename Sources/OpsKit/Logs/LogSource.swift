import Foundation

/// Where one service's log is read from, as the inventory's `logs:` key names it.
public enum LogSource: Sendable, Equatable, CustomStringConvertible {
    /// A file the service appends to (rotated by logrotate or the service itself).
    case file(String)
    /// `journald:UNIT`: `journalctl -u UNIT -o json`.
    case journald(unit: String)
    /// `docker:CONTAINER`: the Engine API's logs of the container.
    case docker(container: String)
    /// `k8s:NAMESPACE/SELECTOR`: `kubectl logs -n NAMESPACE -l SELECTOR`.
    case kubernetes(namespace: String, selector: String)

    /// Reads `text`; a path needs no prefix (`file:` is allowed).
    public init(parsing text: String) throws(LogSourceError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw LogSourceError("empty (a file path, journald:UNIT, docker:CONTAINER or k8s:NAMESPACE/SELECTOR)") }
        func rest(after prefix: String) -> String { String(trimmed.dropFirst(prefix.count)) }
        if trimmed.hasPrefix("journald:") {
            let unit = rest(after: "journald:")
            guard !unit.isEmpty, !unit.contains(where: \.isWhitespace) else { throw LogSourceError("journald: needs a unit name, e.g. journald:whisper-server@1") }
            self = .journald(unit: unit)
        } else if trimmed.hasPrefix("docker:") {
            let container = rest(after: "docker:")
            let allowed = container.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) }
            guard !container.isEmpty, allowed, container.first != "-" else {
                throw LogSourceError("docker: needs a container name or id ([A-Za-z0-9_.-]), e.g. docker:whisper-ws1-1")
            }
            self = .docker(container: container)
        } else if trimmed.hasPrefix("k8s:") {
            let parts = rest(after: "k8s:").split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains(where: \.isWhitespace) else {
                throw LogSourceError("k8s: needs NAMESPACE/SELECTOR, e.g. k8s:whisper/app=whisper-server")
            }
            self = .kubernetes(namespace: parts[0], selector: parts[1])
        } else if trimmed.hasPrefix("file:") {
            let path = rest(after: "file:")
            guard !path.isEmpty else { throw LogSourceError("file: needs a path") }
            self = .file(path)
        } else if let colon = trimmed.firstIndex(of: ":"), !trimmed.hasPrefix("/"), !trimmed.hasPrefix("."),
                  trimmed[..<colon].allSatisfy(\.isLetter) {
            throw LogSourceError("unknown log source '\(trimmed[..<colon]):' (a file path, journald:UNIT, docker:CONTAINER or k8s:NAMESPACE/SELECTOR)")
        } else {
            self = .file(trimmed)
        }
    }

    public var description: String {
        switch self {
        // Bare when it reads back as the same file; `file:` when bare it would not (`r:x`, ` x`).
        case .file(let path): (try? LogSource(parsing: path)) == .file(path) ? path : "file:" + path
        case .journald(let unit): "journald:\(unit)"
        case .docker(let container): "docker:\(container)"
        case .kubernetes(let namespace, let selector): "k8s:\(namespace)/\(selector)"
        }
    }
}

public struct LogSourceError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
