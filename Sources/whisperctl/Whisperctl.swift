import ArgumentParser
import OpsKit

@main
struct Whisperctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whisperctl",
        abstract: "The operations console for Whisper deployments.",
        discussion: """
            Reads the deployment from --config, $WHISPERCTL_CONFIG or ./whisperctl.yml (plus a .env beside it); \
            with none, it assumes a local development stack.
            Check-like commands exit 0 ok, 1 warning, 2 critical, 3 unknown.
            """,
        version: WhisperctlVersion.current,
        subcommands: [Status.self, Config.self, LoadTest.self]
    )
}

enum WhisperctlVersion {
    static let current = "0.1.0"
}
