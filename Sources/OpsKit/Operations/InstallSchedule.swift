import Foundation

/// One file of a schedule (a cron entry, a systemd unit or timer) written atomically. Host-local:
/// it takes no deployment lock.
public struct InstallSchedule: OpsOperation {
    public let command: String
    public let path: String
    public let content: String
    public let mode: mode_t

    public init(command: String, file: (path: String, content: String), mode: mode_t = 0o644) {
        self.command = command
        path = file.path
        content = file.content
        self.mode = mode
    }

    public var action: String { "install-schedule" }
    public var target: String { path }
    public var takesLock: Bool { false }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        OperationPlan(steps: ["write \(path) (\(content.utf8.count) bytes, mode \(String(mode, radix: 8)))"])
    }

    /// The file holds exactly this content.
    public func check(in context: OperationContext) async throws -> Bool {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } == content
    }

    public func run(in context: OperationContext) async throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw OpsError(.io, "cannot create the directory: \(error.localizedDescription)", endpoint: directory)
            }
        }
        try AtomicFile.write(Array(content.utf8), to: path, mode: mode)
    }
}
