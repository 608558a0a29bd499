import Foundation

/// The text edits that give the deployment's files one server more or one less, so a restart
/// keeps the shape `scale` gave the running fleet: the inventory's `servers:`, the HAProxy
/// backend's `server` lines, the Prometheus targets and the Compose services. Each edit works on
/// the text as written (comments and layout stay), and throws naming the file and what it could
/// not find rather than guess.
public enum FleetShapeEdits {
    /// One server, as the files name it.
    public struct Server: Sendable, Equatable {
        public var name: String
        public var url: String

        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }

        /// HOST:PORT of its URL (port 80 or 443 when the URL has none).
        public var hostPort: String {
            get throws {
                guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
                    throw OpsError(.invalidInput, "'\(url)' is not a server URL (http://HOST:PORT)")
                }
                return "\(host):\(components.port ?? (components.scheme == "https" ? 443 : 80))"
            }
        }

        var host: String { URLComponents(string: url)?.host ?? "" }
    }

    // MARK: Inventory

    /// `servers:` with `server` appended, after the last entry and in its indentation; a compose
    /// restart block of the previous entry is carried over with the new service.
    static func inventory(_ text: String, adding server: Server, composeService: String?, path: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        let (_, end, indent) = try serversList(lines, path: path)
        var entry = ["\(indent)- name: \(server.name)", "\(indent)  url: \(server.url)"]
        if let composeService, let restart = lastLine(lines, before: end, matching: "restart: {driver: compose") {
            let replaced = restart.replacingOccurrences(
                of: #"service: [^,}]+"#, with: "service: \(composeService)", options: .regularExpression)
            entry.append(replaced)
        }
        lines.insert(contentsOf: entry, at: end)
        return lines.joined(separator: "\n")
    }

    /// `servers:` without the entry named `name`.
    static func inventory(_ text: String, removing name: String, path: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        let (start, end, indent) = try serversList(lines, path: path)
        guard let first = (start..<end).first(where: { lines[$0].trimmingCharacters(in: .whitespaces) == "- name: \(name)" }) else {
            throw OpsError(.invalidInput, "no '- name: \(name)' under servers:", endpoint: path)
        }
        var last = first + 1
        while last < end, !lines[last].hasPrefix(indent + "- ") { last += 1 }
        lines.removeSubrange(first..<last)
        return lines.joined(separator: "\n")
    }

    /// Lines of the `servers:` block: the first entry line, one past the last, the entries' indent.
    private static func serversList(_ lines: [String], path: String) throws -> (Int, Int, String) {
        guard let key = lines.firstIndex(where: { $0.hasPrefix("servers:") }) else {
            throw OpsError(.invalidInput, "no top-level 'servers:' to edit", endpoint: path)
        }
        guard lines[key].trimmingCharacters(in: .whitespaces) == "servers:" else {
            throw OpsError(.invalidInput, "line \(key + 1): servers: is written inline; list one '- name:' per line to let scale edit it", endpoint: path)
        }
        var end = key + 1
        var indent: String?
        var lastEntry = key + 1
        while end < lines.count {
            let line = lines[end]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !line.isEmpty, !line.hasPrefix(" "), !line.hasPrefix("-"), !trimmed.hasPrefix("#") { break }
            if trimmed.hasPrefix("- ") && indent == nil { indent = String(line.prefix { $0 == " " }) }
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") { lastEntry = end + 1 }
            end += 1
        }
        return (key + 1, lastEntry, indent ?? "  ")
    }

    private static func lastLine(_ lines: [String], before end: Int, matching fragment: String) -> String? {
        lines[..<end].last { $0.contains(fragment) }
    }

    // MARK: HAProxy

    /// The backend's `server` lines with one for `server` after the last, copying its options
    /// (a `cookie` named after the old server is named after the new one).
    static func haproxy(_ text: String, backend: String, adding server: Server, path: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        let servers = try serverLines(lines, backend: backend, path: path)
        guard let last = servers.last else {
            throw OpsError(.invalidInput, "backend \(backend) has no 'server' line to follow", endpoint: path)
        }
        if servers.contains(where: { words(lines[$0]).dropFirst().first == server.name }) {
            throw OpsError(.invalidInput, "backend \(backend) has a server \(server.name) already", endpoint: path)
        }
        let model = words(lines[last])
        var options = Array(model.dropFirst(3))
        if let cookie = options.firstIndex(of: "cookie"), cookie + 1 < options.count, options[cookie + 1] == model[1] { options[cookie + 1] = server.name }
        let indent = String(lines[last].prefix { $0 == " " || $0 == "\t" })
        lines.insert(indent + (["server", server.name, try server.hostPort] + options).joined(separator: " "), at: last + 1)
        return lines.joined(separator: "\n")
    }

    static func haproxy(_ text: String, backend: String, removing name: String, path: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        guard let line = try serverLines(lines, backend: backend, path: path).first(where: { words(lines[$0]).dropFirst().first == name }) else {
            throw OpsError(.invalidInput, "backend \(backend) has no 'server \(name)' line", endpoint: path)
        }
        lines.remove(at: line)
        return lines.joined(separator: "\n")
    }

    /// The health-check and limit options of the backend's `default-server` and last `server`
    /// line, which a server added at run time does not inherit: `add server` is given them so it
    /// is checked as the others are.
    static func runtimeOptions(_ text: String, backend: String) -> [String] {
        let lines = text.components(separatedBy: "\n")
        guard let servers = try? serverLines(lines, backend: backend, path: ""), let last = servers.last,
            let header = lines.firstIndex(where: { words($0) == ["backend", backend] })
        else { return ["check"] }
        let defaults = lines[header..<last].last { words($0).first == "default-server" }.map { Array(words($0).dropFirst()) } ?? []
        let own = Array(words(lines[last]).dropFirst(3))
        var options: [String: String] = [:]
        var order: [String] = []
        for source in [defaults, own] {
            var index = 0
            while index < source.count {
                let word = source[index]
                if ["inter", "fastinter", "downinter", "fall", "rise", "maxconn", "weight", "slowstart"].contains(word), index + 1 < source.count {
                    if options[word] == nil { order.append(word) }
                    options[word] = source[index + 1]
                    index += 1
                }
                index += 1
            }
        }
        return ["check"] + order.flatMap { [$0, options[$0]!] }
    }

    /// Indexes of the `server` lines of `backend`'s section.
    private static func serverLines(_ lines: [String], backend: String, path: String) throws -> [Int] {
        guard let header = lines.firstIndex(where: { words($0) == ["backend", backend] }) else {
            throw OpsError(.invalidInput, "no 'backend \(backend)' section", endpoint: path)
        }
        var result: [Int] = []
        var index = header + 1
        let sections: Set<String> = ["global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist", "program", "cache", "mailers", "ring", "http-errors"]
        while index < lines.count {
            let line = lines[index]
            if let first = words(line).first, !line.hasPrefix(" "), !line.hasPrefix("\t"), sections.contains(first) { break }
            if words(line).first == "server" { result.append(index) }
            index += 1
        }
        return result
    }

    private static func words(_ line: String) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    // MARK: Prometheus

    /// The `targets: [...]` list that names the existing servers, with `server` appended.
    /// - Parameter existing: HOST:PORT of servers already scraped, to find the right list.
    static func prometheus(_ text: String, existing: [String], adding server: Server, path: String) throws -> String {
        try editTargets(text, existing: existing, path: path) { targets in
            let target = try server.hostPort
            guard !targets.contains(target) else { throw OpsError(.invalidInput, "\(target) is a target already", endpoint: path) }
            return targets + [target]
        }
    }

    static func prometheus(_ text: String, existing: [String], removing server: Server, path: String) throws -> String {
        try editTargets(text, existing: existing, path: path) { targets in
            let target = try server.hostPort
            guard targets.contains(target) else { throw OpsError(.invalidInput, "\(target) is not among the targets", endpoint: path) }
            guard targets.count > 1 else { throw OpsError(.invalidInput, "\(target) is the only target: leaving the list empty would stop the scrape", endpoint: path) }
            return targets.filter { $0 != target }
        }
    }

    private static func editTargets(_ text: String, existing: [String], path: String, _ edit: ([String]) throws -> [String]) throws -> String {
        var lines = text.components(separatedBy: "\n")
        for (index, line) in lines.enumerated() {
            guard let key = line.range(of: "targets:"), let open = line.range(of: "[", range: key.upperBound..<line.endIndex),
                let close = line.range(of: "]", options: .backwards), open.upperBound <= close.lowerBound
            else { continue }
            let targets = line[open.upperBound..<close.lowerBound].split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }.filter { !$0.isEmpty }
            guard targets.contains(where: existing.contains) else { continue }
            let quote = line[open.upperBound..<close.lowerBound].contains("'") ? "'" : "\""
            let edited = try edit(targets).map { quote + $0 + quote }.joined(separator: ", ")
            lines[index] = String(line[..<open.upperBound]) + edited + String(line[close.lowerBound...])
            return lines.joined(separator: "\n")
        }
        throw OpsError(.invalidInput, "no one-line 'targets: [...]' naming \(existing.joined(separator: " or "))", endpoint: path)
    }

    // MARK: Compose

    /// A service for `server`, copied from `model`'s (renamed, its SERVER_NAME changed), and the
    /// new service beside the model wherever another service depends on it.
    static func compose(_ text: String, model: String, modelName: String, service: String, adding server: Server, path: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        let block = try serviceBlock(lines, service: model, path: path)
        if (try? serviceBlock(lines, service: service, path: path)) != nil {
            throw OpsError(.invalidInput, "a service \(service) exists already", endpoint: path)
        }
        let copy = lines[block].map { line -> String in
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("SERVER_NAME:") {
                return line.replacingOccurrences(of: modelName, with: server.name)
            }
            return line.replacingOccurrences(of: model, with: service)
        }
        // Dependents first (they come after the block or before it; indexes below it stay put).
        for index in lines.indices.reversed() where !block.contains(index) && isDependency(lines, index, on: model) {
            var entry = [lines[index].replacingOccurrences(of: model, with: service)]
            var next = index + 1
            let depth = indentation(lines[index])
            while next < lines.count, indentation(lines[next]) > depth, !lines[next].trimmingCharacters(in: .whitespaces).isEmpty {
                entry.append(lines[next])
                next += 1
            }
            lines.insert(contentsOf: entry, at: next)
        }
        let shifted = try serviceBlock(lines, service: model, path: path)
        var insertion = copy
        if let last = copy.last, !last.trimmingCharacters(in: .whitespaces).isEmpty { insertion = [""] + copy }
        lines.insert(contentsOf: insertion, at: shifted.upperBound)
        return lines.joined(separator: "\n")
    }

    static func compose(_ text: String, removing service: String, path: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        var block = try serviceBlock(lines, service: service, path: path)
        // The blank line that separated it goes with it.
        if block.lowerBound > 0, lines[block.lowerBound - 1].trimmingCharacters(in: .whitespaces).isEmpty { block = (block.lowerBound - 1)..<block.upperBound }
        lines.removeSubrange(block)
        for index in lines.indices.reversed() where isDependency(lines, index, on: service) {
            var end = index + 1
            let depth = indentation(lines[index])
            while end < lines.count, indentation(lines[end]) > depth, !lines[end].trimmingCharacters(in: .whitespaces).isEmpty { end += 1 }
            lines.removeSubrange(index..<end)
        }
        return lines.joined(separator: "\n")
    }

    /// The lines of `services: NAME:` up to the next service (trailing blank lines excluded).
    private static func serviceBlock(_ lines: [String], service: String, path: String) throws -> Range<Int> {
        guard let services = lines.firstIndex(where: { $0.hasPrefix("services:") }) else {
            throw OpsError(.invalidInput, "no 'services:'", endpoint: path)
        }
        guard let start = lines[(services + 1)...].firstIndex(where: { $0 == "  \(service):" }) else {
            throw OpsError(.invalidInput, "no service '\(service)' (two-space indented under services:)", endpoint: path)
        }
        var end = start + 1
        while end < lines.count {
            let line = lines[end]
            if !line.trimmingCharacters(in: .whitespaces).isEmpty && indentation(line) <= 2 { break }
            end += 1
        }
        while end > start + 1, lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
        return start..<end
    }

    /// Whether line `index` names `service` in a `depends_on:` (a list item or a map key).
    private static func isDependency(_ lines: [String], _ index: Int, on service: String) -> Bool {
        let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
        guard trimmed == "\(service):" || trimmed == "- \(service)" else { return false }
        let depth = indentation(lines[index])
        guard depth > 2, let parent = lines[..<index].last(where: { indentation($0) < depth && !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return false
        }
        return parent.trimmingCharacters(in: .whitespaces) == "depends_on:"
    }

    private static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }
}
