import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// The running or last rollout, for `rollout status`: rewritten atomically at each step.
final class RolloutStateFile: Sendable {
    let path: String
    private let document = NIOLockedValueBox<[(String, JSONValue)]>([])
    private let servers = NIOLockedValueBox<[(String, JSONValue)]>([])
    private let unsaved = NIOLockedValueBox(false)

    init(path: String) { self.path = path }

    static func path(for deployment: Inventory) -> String {
        let directory = (deployment.auditLogPath as NSString).deletingLastPathComponent
        return (directory as NSString).appendingPathComponent("rollout-\(deployment.deployment).json")
    }

    func begin(order: [String]) {
        document.withLockedValue {
            $0 = [
                ("status", .string("running")), ("pid", .int(Int(getpid()))), ("started_at", .string(ISO8601DateFormatter().string(from: Date()))),
                ("order", .array(order.map(JSONValue.string))),
            ]
        }
        save()
    }

    func record(_ event: RolloutEvent) {
        guard let server = event.server else { return }
        servers.withLockedValue { list in
            let entry = JSONValue.object([("step", .string(event.step)), ("event", .string(event.kind.rawValue)), ("message", .string(event.message))])
            if let index = list.firstIndex(where: { $0.0 == server }) { list[index].1 = entry } else { list.append((server, entry)) }
        }
        save()
    }

    func finish(_ outcome: RolloutOutcome, seconds: Double) {
        document.withLockedValue { fields in
            fields[0] = ("status", .string(outcome == .completed ? "completed" : (outcome.exitCode == 1 ? "stopped" : "unsafe")))
            let reason: String? =
                switch outcome {
                case .completed: nil
                case .stopped(let why), .unsafe(let why): why
                }
            fields.append(("finished_at", .string(ISO8601DateFormatter().string(from: Date()))))
            fields.append(("seconds", .double(seconds)))
            fields.append(("reason", reason.map(JSONValue.string) ?? .null))
        }
        save()
    }

    private func save() {
        let fields = document.withLockedValue { $0 }
        guard !fields.isEmpty else { return }
        let body = JSONValue.object(fields + [("servers", .object(servers.withLockedValue { $0 }))]).serialized()
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(Array((body + "\n").utf8), to: path)
        } catch {
            // 'rollout status' would show an older state: say it once, the rollout goes on.
            if !unsaved.withLockedValue({ told in defer { told = true }; return told }) {
                printError("warning: the rollout state is not saved (\(path)): \(error)")
            }
        }
    }
}
