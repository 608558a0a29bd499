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
        version: "whisperctl \(BuildInfo.summary)",
        subcommands: [Status.self, Config.self, LoadTest.self, Metrics.self, Dashboard.self, Top.self, Demo.self, Migrate.self, BackupCommand.self, Restore.self, Lock.self, Rollout.self, Scale.self, Diag.self, Capacity.self, Cert.self, RunbookCommand.self, SecurityAuditCommand.self, AuditLogCommand.self, Logs.self, BundleCommand.self, Version.self]
    )

    /// ArgumentParser's own main, with `ExitStatus` understood as the status it names.
    static func main() async {
        let arguments: [String]
        switch CommandLineRewrite.rewrite(Array(CommandLine.arguments.dropFirst()), root: Self.self) {
        case .parse(let rewritten): arguments = rewritten
        case .usage(let message):
            printError("whisperctl: \(message)")
            exit(withError: ExitCode(64))
        }
        do {
            if let script = try CompletionScript.text(for: arguments, root: Self.self) {
                print(script)
                exit(withError: ExitCode.success)
            }
        } catch {
            exit(withError: error)
        }
        if let help = DefaultSubcommandHelp.text(for: arguments, root: Self.self) {
            print(help)
            exit(withError: ExitCode.success)
        }
        do {
            var command = try parseAsRoot(arguments)
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

/// `rollout --help` for a group with a default subcommand: the group's help, then the default
/// subcommand's, whose options are the ones `whisperctl rollout ...` takes.
enum DefaultSubcommandHelp {
    static func text(for arguments: [String], root: ParsableCommand.Type) -> String? {
        guard let last = arguments.last, ["--help", "-h"].contains(last) else { return nil }
        var current = root
        for word in arguments.dropLast() {
            guard let next = current.configuration.subcommands.first(where: { $0._commandName == word }) else { return nil }
            current = next
        }
        guard let fallback = current.configuration.defaultSubcommand else { return nil }
        let path = arguments.dropLast().joined(separator: " ")
        return Whisperctl.helpMessage(for: current) + "\n\n"
            + "'whisperctl \(path)' alone runs '\(fallback._commandName)', with these options:\n\n" + Whisperctl.helpMessage(for: fallback)
    }
}

enum WhisperctlVersion {
    static let current = BuildInfo.version
}
