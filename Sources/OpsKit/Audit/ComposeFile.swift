import Foundation

/// What `audit` needs of a Compose file: each service's image, user, filesystem, limits, mounts,
/// published ports, networks and environment, and which networks are internal.
public struct ComposeFile: Sendable {
    public struct Service: Sendable {
        public var name: String
        public var image: String?
        /// The Dockerfile it is built from, resolved beside the Compose file.
        public var dockerfile: String?
        public var user: String?
        public var readOnly = false
        public var privileged = false
        public var memoryLimit = false
        public var cpuLimit = false
        /// Host side of each bind mount or volume name.
        public var volumeSources: [String] = []
        /// Published ports as written after defaults are filled in: `80:80`, `127.0.0.1:5432:5432`.
        public var ports: [String] = []
        public var networks: [String] = []
        public var environment: [String: String] = [:]
        public var envFiles: [String] = []

        /// The image's repository without registry or tag: `redis`, `grafana/grafana`.
        public var repository: String {
            guard var reference = image else { return "" }
            if let at = reference.firstIndex(of: "@") { reference = String(reference[..<at]) }
            if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") { reference = String(reference[..<colon]) }
            let parts = reference.split(separator: "/")
            if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
                return parts.dropFirst().joined(separator: "/")
            }
            return reference
        }

        /// Redis, NATS or PostgreSQL: what must stay off every network but the internal one.
        public var isDataStore: Bool { ["redis", "nats", "postgres"].contains { repository.hasSuffix($0) } }
        public var isProxy: Bool { repository.hasSuffix("haproxy") }
    }

    public var path: String
    public var services: [Service]
    /// Declared networks and whether each is `internal: true`.
    public var networks: [String: Bool]

    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OpsError(.invalidInput, "\(path): cannot read the Compose file (\(error.localizedDescription))")
        }
        try self.init(path: path, text: text)
    }

    public init(path: String, text: String) throws {
        self.path = path
        let root: Any?
        do {
            root = try YAMLTree.document(text)
        } catch {
            throw OpsError(.invalidInput, "\(path): not YAML (\(error))")
        }
        guard let top = YAMLTree.mapping(root), let services = YAMLTree.mapping(top["services"]) else {
            throw OpsError(.invalidInput, "\(path): no services: mapping, so not a Compose file")
        }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        self.services = services.keys.sorted().compactMap { name in
            YAMLTree.mapping(services[name]).map { Self.service(name, $0, directory: directory) }
        }
        var networks: [String: Bool] = [:]
        for (name, value) in YAMLTree.mapping(top["networks"]) ?? [:] {
            networks[name] = YAMLTree.isTrue(YAMLTree.mapping(value)?["internal"])
        }
        self.networks = networks
    }

    private static func service(_ name: String, _ body: [String: Any], directory: String) -> Service {
        var service = Service(name: name)
        service.image = YAMLTree.string(body["image"]).map(filledDefaults)
        if let build = body["build"] {
            let context = YAMLTree.string(build) ?? YAMLTree.string(YAMLTree.mapping(build)?["context"]) ?? "."
            let dockerfile = YAMLTree.string(YAMLTree.mapping(build)?["dockerfile"]) ?? "Dockerfile"
            let contextPath = context.hasPrefix("/") ? context : directory + "/" + context
            service.dockerfile = dockerfile.hasPrefix("/") ? dockerfile : ((contextPath + "/" + dockerfile) as NSString).standardizingPath
        }
        service.user = YAMLTree.string(body["user"])
        service.readOnly = YAMLTree.isTrue(body["read_only"])
        service.privileged = YAMLTree.isTrue(body["privileged"])
        let limits = YAMLTree.path(body, "deploy", "resources", "limits")
        service.memoryLimit = YAMLTree.path(limits, "memory") != nil || body["mem_limit"] != nil
        service.cpuLimit = YAMLTree.path(limits, "cpus") != nil || body["cpus"] != nil
        for volume in YAMLTree.list(body["volumes"]) {
            if let short = YAMLTree.string(volume) {
                service.volumeSources.append(String(short.split(separator: ":").first ?? ""))
            } else if let source = YAMLTree.string(YAMLTree.mapping(volume)?["source"]) {
                service.volumeSources.append(source)
            }
        }
        for port in YAMLTree.list(body["ports"]) {
            if let short = YAMLTree.string(port) {
                service.ports.append(filledDefaults(short))
            } else if let long = YAMLTree.mapping(port), let published = YAMLTree.string(long["published"]) {
                let host = YAMLTree.string(long["host_ip"]).map { $0 + ":" } ?? ""
                service.ports.append(filledDefaults(host + published + ":" + (YAMLTree.string(long["target"]) ?? "")))
            }
        }
        if let mapping = YAMLTree.mapping(body["networks"]) {
            service.networks = mapping.keys.sorted()
        } else {
            service.networks = YAMLTree.list(body["networks"]).compactMap(YAMLTree.string)
        }
        if service.networks.isEmpty && YAMLTree.string(body["network_mode"]) == nil { service.networks = ["default"] }
        if let mapping = YAMLTree.mapping(body["environment"]) {
            for (key, value) in mapping { service.environment[key] = YAMLTree.string(value) ?? "" }
        } else {
            for item in YAMLTree.list(body["environment"]).compactMap(YAMLTree.string) {
                let parts = item.split(separator: "=", maxSplits: 1)
                service.environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        let envFiles = YAMLTree.string(body["env_file"]).map { [$0] } ?? YAMLTree.list(body["env_file"]).compactMap {
            YAMLTree.string($0) ?? YAMLTree.string(YAMLTree.mapping($0)?["path"])
        }
        service.envFiles = envFiles.map { $0.hasPrefix("/") ? $0 : ((directory + "/" + $0) as NSString).standardizingPath }
        return service
    }

    /// `${VAR:-default}` and `${VAR-default}` as their defaults; other references stay as written.
    static func filledDefaults(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                result += rest[start.lowerBound...]
                return result
            }
            let inner = rest[start.upperBound..<end]
            if let dash = inner.range(of: ":-") ?? inner.range(of: "-") {
                result += inner[dash.upperBound...]
            } else {
                result += rest[start.lowerBound...end]
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// A `${NAME}` reference in a value (`${NAME:?message}` included), if the value is one.
    static func reference(in value: String) -> String? {
        guard let start = value.range(of: "${"), let end = value[start.upperBound...].firstIndex(where: { $0 == "}" || $0 == ":" || $0 == "-" || $0 == "?" }) else {
            return nil
        }
        return String(value[start.upperBound..<end])
    }

    /// The last USER of a Dockerfile, nil when it has none.
    static func dockerfileUser(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").reversed().first { $0.trimmingCharacters(in: .whitespaces).uppercased().hasPrefix("USER ") }
            .map { String($0.trimmingCharacters(in: .whitespaces).dropFirst(5)).trimmingCharacters(in: .whitespaces) }
    }

    static func isRoot(_ user: String) -> Bool {
        let name = user.split(separator: ":").first.map(String.init) ?? user
        return name == "root" || name == "0"
    }
}
