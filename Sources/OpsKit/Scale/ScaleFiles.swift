import Foundation

/// Which deployment files a scale change touches, and how: the inventory always (the fleet's
/// own record), then those the inventory names: `haproxy.config`, `prometheus.config`, and the
/// Compose file of a server restarted by the compose driver.
struct ScaleFiles {
    let inventory: Inventory

    /// The inventory's file: scale records the fleet there, so it needs one.
    func inventoryPath() throws -> String {
        guard let path = inventory.absoluteConfigPath else {
            throw OpsError(.invalidInput, "no inventory file (whisperctl.yml, --config) to record the server in")
        }
        return path
    }

    /// The changes that add `server`. A Compose service is copied from the last server's when
    /// it runs under the compose driver and the new URL's host can be a service name.
    func adding(_ server: FleetShapeEdits.Server) throws -> [FileChange] {
        let model = inventory.servers.last
        let compose = model.flatMap(composeService)
        let newService = compose != nil && Self.isServiceName(server.host) ? server.host : nil
        var changes: [FileChange] = []
        let inventoryPath = try inventoryPath()
        changes.append(try change(inventoryPath) { try FleetShapeEdits.inventory($0, adding: server, composeService: newService, path: inventoryPath) })
        if let path = inventory.haproxyConfig {
            changes.append(try change(path) { try FleetShapeEdits.haproxy($0, backend: inventory.haproxyBackend, adding: server, path: path) })
        }
        if let path = inventory.prometheusConfig {
            let existing = inventory.servers.compactMap { try? FleetShapeEdits.Server(name: $0.name, url: $0.url).hostPort }
            changes.append(try change(path) { try FleetShapeEdits.prometheus($0, existing: existing, adding: server, path: path) })
        }
        if let model, let compose, let newService {
            changes.append(try change(compose.file) {
                try FleetShapeEdits.compose($0, model: compose.service, modelName: model.name, service: newService, adding: server, path: compose.file)
            })
        }
        return changes
    }

    /// The changes that take `server` out.
    func removing(_ server: ServerEntry) throws -> [FileChange] {
        let shape = FleetShapeEdits.Server(name: server.name, url: server.url)
        var changes: [FileChange] = []
        let inventoryPath = try inventoryPath()
        changes.append(try change(inventoryPath) { try FleetShapeEdits.inventory($0, removing: server.name, path: inventoryPath) })
        if let path = inventory.haproxyConfig {
            changes.append(try change(path) { try FleetShapeEdits.haproxy($0, backend: inventory.haproxyBackend, removing: server.name, path: path) })
        }
        if let path = inventory.prometheusConfig {
            let existing = inventory.servers.compactMap { try? FleetShapeEdits.Server(name: $0.name, url: $0.url).hostPort }
            changes.append(try change(path) { try FleetShapeEdits.prometheus($0, existing: existing, removing: shape, path: path) })
        }
        if let compose = composeService(server) {
            changes.append(try change(compose.file) { try FleetShapeEdits.compose($0, removing: compose.service, path: compose.file) })
        }
        return changes
    }

    /// The Compose service and file of a server under the compose driver.
    func composeService(_ server: ServerEntry) -> (service: String, file: String)? {
        guard let restart = server.restart, restart.driver == .compose, let service = restart.settings["service"] else { return nil }
        let file = restart.settings["file"] ?? "docker-compose.yml"
        return (service, RestartDrivers.resolve(file, in: inventory.baseDirectory))
    }

    private func change(_ path: String, _ edit: (String) throws -> String) throws -> FileChange {
        let before: String
        do { before = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw OpsError(.io, "cannot read: \(error.localizedDescription)", endpoint: path)
        }
        return FileChange(path: path, before: before, after: try edit(before))
    }

    /// A Compose service name: letters, digits, `-`, `_`, `.`, starting with a letter or digit
    /// (not an IP address, which would be the host of a server outside Compose).
    static func isServiceName(_ host: String) -> Bool {
        guard let first = host.unicodeScalars.first, CharacterSet.alphanumerics.contains(first) else { return false }
        if host.allSatisfy({ $0.isNumber || $0 == "." }) { return false }
        return host.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}
