import Foundation
import OpsKit

/// What the output stream can show: colour only on a terminal, never with NO_COLOR set.
struct Terminal: Sendable {
    var useColor: Bool
    var isTTY: Bool

    static func standardOutput(environment: [String: String] = ProcessInfo.processInfo.environment) -> Terminal {
        Terminal(isTTY: isatty(STDOUT_FILENO) == 1, environment: environment)
    }

    /// Colour needs a terminal, and NO_COLOR (any non-empty value, no-color.org) or TERM=dumb turn it
    /// off; FORCE_COLOR or CLICOLOR_FORCE (non-empty, not "0") turn it on without a terminal
    /// (NO_COLOR still wins).
    init(isTTY: Bool, environment: [String: String]) {
        func set(_ name: String) -> Bool { !(environment[name] ?? "").isEmpty && environment[name] != "0" }
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let forced = set("FORCE_COLOR") || set("CLICOLOR_FORCE")
        self.init(useColor: !noColor && (forced || (isTTY && environment["TERM"] != "dumb")), isTTY: isTTY)
    }

    init(useColor: Bool, isTTY: Bool) {
        self.useColor = useColor
        self.isTTY = isTTY
    }

    enum Color: String {
        case red = "31", green = "32", yellow = "33", magenta = "35", dim = "2", bold = "1"
    }

    func paint(_ text: String, _ color: Color) -> String {
        useColor ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}

/// Writes to standard error, for diagnostics that must not mix with `--json` output. Secrets are
/// masked, as in everything whisperctl prints.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((SecretRegistry.shared.scrub(message) + "\n").utf8))
}

/// Every line whisperctl prints on standard output passes here (it takes the place of Swift's
/// `print` in this module): URL passwords and every value known to be secret are masked,
/// whatever the text around them, a malformed URL or an error quoting it.
func print(_ text: String, terminator: String = "\n") {
    Swift.print(SecretRegistry.shared.scrub(text), terminator: terminator)
}
