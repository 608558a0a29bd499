import OpsKit

/// What the shell completions offer from the deployment: read from ./whisperctl.yml (or
/// $WHISPERCTL_CONFIG) when the shell asks; nothing when there is none.
enum Completions {
    static func serverNames() -> [String] {
        // Completion must stay silent: an unreadable inventory offers nothing.
        guard let deployment = try? InventoryLoader().load() else { return [] }
        return deployment.servers.map(\.name)
    }

    /// Backup ids, newest first.
    static func backupIDs() -> [String] {
        guard let deployment = try? InventoryLoader().load(), let listing = try? BackupStore(directory: deployment.backupDirectory).list() else { return [] }
        return listing.entries.map(\.id)
    }
}
