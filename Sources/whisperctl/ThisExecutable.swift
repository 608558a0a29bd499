import Foundation

/// The running whisperctl binary, for the schedules it writes: cron and systemd have their own
/// PATH and working directory, so `argv[0]` ("whisperctl", found through PATH) will not do.
enum ThisExecutable {
    static var path: String {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), target.hasPrefix("/") {
            return target
        }
        // No /proc: the best guess is argv[0] against the working directory.
        let executable = (CommandLine.arguments[0] as NSString).standardizingPath
        return executable.hasPrefix("/") ? executable : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(executable)
    }
}
