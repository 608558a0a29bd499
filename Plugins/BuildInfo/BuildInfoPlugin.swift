import Foundation
import PackagePlugin

/// Writes BuildStamp.swift (the commit, its date and the build date) before every build, from git
/// when the package is a checkout, else from WHISPER_COMMIT / WHISPER_COMMIT_DATE (an image built
/// from a context with no .git). The script rewrites the file only when its content changes, so
/// an unchanged commit compiles nothing again.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildInfo")
        let script = context.package.directoryURL.appendingPathComponent("scripts/build-info")
        var environment: [String: String] = [:]
        for name in ["WHISPER_COMMIT", "WHISPER_COMMIT_DATE", "WHISPER_BUILD_DATE", "SOURCE_DATE_EPOCH", "PATH"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        return [
            .prebuildCommand(
                displayName: "Recording the commit in BuildStamp.swift",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.appendingPathComponent("BuildStamp.swift").path],
                environment: environment,
                outputFilesDirectory: output)
        ]
    }
}
