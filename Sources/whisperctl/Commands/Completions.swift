import Foundation
import OpsKit

/// What the shell completions offer from the deployment: read from the `--config` on the command
/// line being completed, else $WHISPERCTL_CONFIG or ./whisperctl.yml, when the shell asks;
/// nothing when there is none. Completion stays silent: an unreadable inventory offers nothing.
enum Completions {
    /// The inventory the words being completed name (`whisperctl --config prod.yml rollout --only `).
    static func inventory(_ words: [String]) -> Inventory? {
        try? InventoryLoader(explicitPath: configPath(in: words)).load()
    }

    static func configPath(in words: [String]) -> String? {
        values(of: "--config", in: words).last
    }

    /// Every value given to `option` in `words`, as `--option VALUE` or `--option=VALUE`.
    static func values(of option: String, in words: [String]) -> [String] {
        var found: [String] = []
        for (index, word) in words.enumerated() {
            if word == option, index + 1 < words.count { found.append(words[index + 1]) }
            if word.hasPrefix(option + "=") { found.append(String(word.dropFirst(option.count + 1))) }
        }
        return found
    }

    static func serverNames(_ words: [String] = []) -> [String] {
        inventory(words)?.servers.map(\.name) ?? []
    }

    /// Backup ids, newest first.
    static func backupIDs(_ words: [String] = []) -> [String] {
        guard let deployment = inventory(words), let listing = try? BackupStore(directory: deployment.backupDirectory).list() else { return [] }
        return listing.entries.map(\.id)
    }

    /// The runbooks `runbook run NAME` finds: --dir's, the deployment's own and the shipped ones.
    static func runbookNames(_ words: [String] = []) -> [String] {
        guard let deployment = inventory(words) else { return [] }
        var seen = Set<String>()
        return RunbookLibrary.files(in: RunbookDirectories.all(deployment, given: values(of: "--dir", in: words))).compactMap { file -> String? in
            let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            return seen.insert(name).inserted ? name : nil
        }
    }

    /// Recorded runbook runs, for `runbook resume ID` and `runbook runs show ID`.
    static func runbookRunIDs(_ words: [String] = []) -> [String] {
        guard let deployment = inventory(words), let (runs, _) = try? RunbookRunStore(inventory: deployment).list() else { return [] }
        return runs.map(\.id)
    }
}
