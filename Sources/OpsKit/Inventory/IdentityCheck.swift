import Foundation

/// `config check`'s live part: each server that answers is asked who it is, and HAProxy (its
/// stats page, when set) which address it has for each name. A server that does not answer is
/// left to `status`: config check judges the file, not the fleet's health.
public struct IdentityCheck: Sendable {
    public var inventory: Inventory
    public var timeout: Duration

    public init(inventory: Inventory, timeout: Duration = .seconds(2)) {
        self.inventory = inventory
        self.timeout = timeout
    }

    public func problems(http: HTTPClient = HTTPClient()) async -> [ConfigDiagnostic] {
        let timeout = timeout
        let backend = inventory.haproxyBackend
        let runtime = inventory.haproxyRuntimeAPI.flatMap { try? HAProxyRuntimeAPI(parsing: $0, timeout: timeout) }
        let statsPage = inventory.haproxyStatsURL.map { HAProxyProbe(statsURL: $0, backend: backend).csvURL }
        // The runtime API always shows servers' addresses; the stats page only with `stats show-legends`.
        async let addresses: [String: String] = {
            var csv: String?
            if let runtime { csv = try? await runtime.execute("show stat") }
            if csv == nil, let statsPage, let response = try? await http.get(statsPage, timeout: timeout), response.isSuccess { csv = response.text }
            guard let csv, let stats = try? HAProxyStats(csv: csv) else { return [:] }
            let rows = stats.servers(ofBackend: backend).compactMap { row in row.fields["addr"].flatMap { $0.isEmpty ? nil : (row.service, $0) } }
            return Dictionary(rows) { first, _ in first }
        }()
        let names = await withTaskGroup(of: (Int, String?).self) { group in
            for (index, entry) in inventory.servers.enumerated() {
                let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
                group.addTask {
                    let body = (try? await http.get(base + "/health", timeout: timeout)).flatMap { try? JSONValue.parse($0.body) }
                    return (index, body?["server"]?.stringValue)
                }
            }
            var names = [String?](repeating: nil, count: inventory.servers.count)
            for await (index, name) in group { names[index] = name }
            return names
        }
        let haproxyAddresses = await addresses
        var problems: [ConfigDiagnostic] = []
        for (entry, reported) in zip(inventory.servers, names) {
            let location = entry.source.location ?? entry.source.description
            if let mismatch = ServerIdentity.nameMismatch(entry, reported: reported, fleet: inventory.servers.map(\.name)) {
                problems.append(ConfigDiagnostic(.error, location: location, field: "servers", mismatch))
            }
            if let mismatch = ServerIdentity.addressMismatch(entry, haproxyAddress: haproxyAddresses[entry.name]) {
                problems.append(ConfigDiagnostic(.error, location: location, field: "servers", mismatch))
            }
        }
        return problems
    }
}
