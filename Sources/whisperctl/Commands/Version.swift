import ArgumentParser
import OpsKit

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version, the commit and the build date.",
        discussion: """
            The same as --version; --json for scripts: {"version", "commit", "commit_date", "build_date"}. \
            A commit ending in -dirty was built from a tree with uncommitted changes.
            """
    )

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() {
        print(json ? BuildInfo.json.prettyPrinted() : "whisperctl \(BuildInfo.summary)")
    }
}
