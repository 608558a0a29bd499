import ArgumentParser
import OpsKit

@main
struct Whisperctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whisperctl",
        abstract: "The operations console for Whisper deployments.",
        discussion: """
            Reads the deployment from --config, $WHISPERCTL_CONFIG or ./whisperctl.yml (plus a .env beside it); \
            with none, it assumes a local development stack. --config and the other inventory options may come \
            before or after the subcommand. Durations are written 500ms, 2s, 1m30s (a bare number is seconds).
            Check-like commands exit 0 ok, 1 warning, 2 critical, 3 unknown; usage errors exit 64.
            Colour only on a terminal; NO_COLOR turns it off, FORCE_COLOR or CLICOLOR_FORCE on.

            Examples:
              whisperctl status
              whisperctl --config prod.yml status redis ws1 --json
              whisperctl config check
            """,
        version: WhisperctlVersion.current,
        subcommands: [Status.self, Config.self, LoadTest.self, Metrics.self, Dashboard.self, Top.self, Demo.self, Migrate.self, BackupCommand.self, Restore.self, Lock.self, Rollout.self, Diag.self, Capacity.self, Cert.self]
    )

    /// ArgumentParser's own main, with `ExitStatus` understood as the status it names.
    static func main() async {
        do {
            var command = try parseAsRoot(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst()), commands: configuration.subcommands))
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let status as ExitStatus {
            exit(withError: ExitCode(status.code))
        } catch {
            exit(withError: error)
        }
    }
}

/// Inventory options written before the subcommand are moved after it, where the subcommand's
/// parser expects them: `whisperctl --config x.yml config show` = `whisperctl config show --config x.yml`.
enum GlobalOptions {
    static func hoisted(_ arguments: [String], commands: [ParsableCommand.Type]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count, let option = arguments[index].split(separator: "=", maxSplits: 1).first.map(String.init),
            InventoryOptions.hoistable.contains(option)
        {
            leading.append(arguments[index])
            // `--config x.yml` takes the next word; `--config=x.yml` does not.
            if !arguments[index].contains("="), index + 1 < arguments.count {
                leading.append(arguments[index + 1])
                index += 1
            }
            index += 1
        }
        guard !leading.isEmpty else { return arguments }
        // The subcommand path after them: `status`, `config show`.
        var path: [String] = []
        var candidates = commands
        while index < arguments.count, let command = candidates.first(where: { $0._commandName == arguments[index] }) {
            path.append(arguments[index])
            candidates = command.configuration.subcommands
            index += 1
        }
        return path + leading + arguments[index...]
    }
}

enum WhisperctlVersion {
    static let current = "0.1.0"
}
