import Foundation

/// A program that reads one of the shipped files (a validator, a container engine), run as its
/// user would run it: the test's PATH (where scripts/test installs them), the given directory.
package enum ExternalTool {
    /// - Parameter name: a program on the PATH, or an absolute path.
    package static func run(
        _ name: String, _ arguments: [String], in directory: String = Repository.root, environment: [String: String] = [:]
    ) async throws -> ProgramRun {
        let executable = name.hasPrefix("/") ? name : try Executables.require(name)
        let inherited = ProcessInfo.processInfo.environment
        var variables = ["PATH": inherited["PATH"] ?? "/usr/bin:/bin", "HOME": inherited["HOME"] ?? "/root", "LANG": "C.UTF-8"]
        variables.merge(environment) { _, given in given }
        let whole = variables
        return try await Offload.run { try Command.capture(executable, arguments, environment: whole, directory: directory) }
    }

    /// Everything the program printed, for a failure message.
    package static func output(_ run: ProgramRun) -> String { (run.stdout + run.stderr).trimmingCharacters(in: .whitespacesAndNewlines) }
}
