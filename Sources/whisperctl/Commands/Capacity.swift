import ArgumentParser
import Foundation
import OpsKit

struct Capacity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Size a deployment: the playbook's formulas with this project's measured figures.",
        discussion: """
            Examples:
              whisperctl capacity --connections 100000
              whisperctl capacity --connections 1000000 --active-ratio 0.2 --msg-rate 50000 --json
            """)

    @Option(help: "Concurrent connections to plan for.")
    var connections: Int
    @Option(name: .customLong("active-ratio"), help: "The share of connections in a chat.")
    var activeRatio = 0.1
    @Option(name: .customLong("msg-rate"), help: "Chat messages per second (default: each chatting user sends one every 10 s).")
    var msgRate: Double?
    @Option(name: .customLong("per-instance"), help: "Connections one whisper-server should hold.")
    var perInstance = 100_000
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard connections > 0 else { throw ValidationError("--connections must be positive") }
        guard (0...1).contains(activeRatio) else { throw ValidationError("--active-ratio is a fraction between 0 and 1") }
        guard perInstance > 0 else { throw ValidationError("--per-instance must be positive") }
        if let msgRate, msgRate < 0 { throw ValidationError("--msg-rate must not be negative") }
    }

    func run() async throws {
        let plan = CapacityPlan(connections: connections, activeRatio: activeRatio, messageRate: msgRate, perInstance: perInstance)
        if json {
            print(plan.json.serialized())
            return
        }
        print(String(format: "%d connections, %.0f%% in a chat, %.0f msg/s", connections, activeRatio * 100, plan.messageRate))
        let width = plan.rows.map(\.item.count).max() ?? 0
        let valueWidth = plan.rows.map(\.value.count).max() ?? 0
        for row in plan.rows {
            print(row.item.padding(toLength: width + 2, withPad: " ", startingAt: 0) + row.value.padding(toLength: valueWidth + 2, withPad: " ", startingAt: 0) + row.basis)
        }
    }
}
