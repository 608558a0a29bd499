import Foundation

/// `loadtest`: the real chat protocol against the deployment (through `haproxy.frontend` by
/// default), every delivery checked; the step fails when the load test does. It sends real
/// traffic and changes nothing lasting, but it loads what it tests: MUTATE, never run by a plan.
struct LoadTestStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .mutate }

    /// `with.urls`, else the frontend, else each server's own /ws.
    static func targets(_ arguments: RunbookArguments, _ inventory: Inventory) -> [String] {
        let given = arguments.list("urls")
        if !given.isEmpty { return given }
        if let frontend = inventory.haproxyFrontend { return [frontend] }
        return inventory.servers.map { server in
            let base = server.url.hasSuffix("/") ? String(server.url.dropLast()) : server.url
            return base.replacingOccurrences(of: "https://", with: "wss://").replacingOccurrences(of: "http://", with: "ws://") + "/ws"
        }
    }

    private func plan(_ context: RunbookStepContext) throws -> LoadTestPlan {
        func integer(_ name: String, _ fallback: Int) throws -> Int { try arguments.number(name).map { Int($0) } ?? fallback }
        let urls = Self.targets(arguments, context.inventory)
        guard !urls.isEmpty else { throw StepCheckFailed(description: "no URL to load: with.urls, haproxy.frontend or servers in the inventory") }
        var plan = try LoadTestPlan(
            urls: urls, connections: try integer("connections", 100), chattingPairs: try integer("chatting_pairs", 10), rate: try integer("rate", 100),
            duration: try arguments.duration("duration", default: .seconds(10)), ramp: try arguments.duration("ramp", default: .seconds(2)))
        // The servers' own figures, never the proxy's.
        if !context.inventory.servers.isEmpty {
            plan.metricsURLs = context.inventory.servers.map(\.metricsURL)
        }
        return plan
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let plan = try plan(context)
            let targets = plan.targets.map { "\($0.host):\($0.port)\($0.path)" }.joined(separator: ", ")
            return RunbookPreview(
                effect: .mutate,
                description: "load \(targets): \(plan.connections) connections over \(plan.ramp.humanReadable), \(plan.chattingPairs) chatting pairs, "
                    + "\(plan.rate) msg/s for \(plan.duration.humanReadable) (real traffic; passes only if nothing is lost)")
        } catch {
            return RunbookPreview(effect: .mutate, description: "a load test", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let plan = try plan(context)
        FileLimit.raiseToHardLimit()
        let engine = LoadTestEngine(plan: plan)
        context.interruption.onInterrupt { _ in engine.stop() }
        let report = try await engine.run()
        let p99 = report.latencyMicroseconds.map { RunbookValue.number(Double($0.p99) / 1_000_000) } ?? .null
        let summary = "\(report.sent) sent, \(report.delivered) delivered, \(report.lost) lost"
            + (report.latencyMicroseconds.map { String(format: ", p99 %.1f ms", Double($0.p99) / 1000) } ?? "")
        guard report.passed else { throw StepCheckFailed(description: "load test FAILED: " + report.problems.joined(separator: "; ") + " (\(summary))") }
        return RunbookStepOutput(
            outputs: [
                "passed": .bool(true), "sent": .number(Double(report.sent)), "delivered": .number(Double(report.delivered)),
                "lost": .number(Double(report.lost)), "p99": p99,
            ],
            summary: "passed: " + summary)
    }
}
