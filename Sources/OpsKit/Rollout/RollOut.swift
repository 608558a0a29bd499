import Foundation
import NIOConcurrencyHelpers

/// A rolling update through HAProxy: each server drained, restarted, waited for and soaked,
/// `maxUnavailable` at a time. Ctrl-C stops it at a safe point: the server in hand is brought
/// back into service first.
public struct RollOut: OpsOperation {
    public let conductor: RolloutConductor
    /// The preflight the operator was shown; a failed one refuses the rollout.
    public let preflight: RolloutPreflight
    /// Set when the operator asks to stop; the conductor's `interrupted` reads it.
    public let stop: StopRequest
    /// Told once the rollout starts (under the lock), and when a stop is asked for.
    public var started: @Sendable ([String]) -> Void
    public var stopping: @Sendable () -> Void

    public init(
        conductor: RolloutConductor, preflight: RolloutPreflight, stop: StopRequest, started: @escaping @Sendable ([String]) -> Void = { _ in },
        stopping: @escaping @Sendable () -> Void = {}
    ) {
        self.conductor = conductor
        self.preflight = preflight
        self.stop = stop
        self.started = started
        self.stopping = stopping
    }

    public var command: String { "rollout" }
    /// "preflight" for a rollout its preflight refuses; else "finish", its last line (after
    /// "start"), as `rollout history` lists them.
    public var action: String { preflight.passed ? "finish" : "preflight" }
    public var target: String { preflight.order.joined(separator: ",") }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        guard preflight.passed else { throw OperationFailure.refused("preflight: " + preflight.problems.joined(separator: "; ")) }
        let observer = conductor.observer
        return OperationPlan(
            steps: preflight.order.map { "\($0): drain in \(observer.backend), restart, wait for /ready and HAProxy UP, soak \(conductor.options.soak.humanReadable)" },
            confirmation: "Roll \(preflight.order.joined(separator: ", ")) through HAProxy \(observer.backend) (\(observer.runtime.address))?")
    }

    /// Every server in the order runs the expected version (without `--expect-version` there is
    /// nothing to tell an updated server by: false).
    public func check(in context: OperationContext) async throws -> Bool {
        guard let expected = conductor.options.expectVersion else { return false }
        let observations = try await conductor.observer.observeAll()
        return preflight.order.allSatisfy { name in observations.first { $0.name == name }?.version == expected }
    }

    public func run(in context: OperationContext) async throws -> RolloutOutcome {
        let stop = self.stop
        let stopping = self.stopping
        context.interruption.onInterrupt { _ in
            if stop.request() { stopping() }
        }
        context.record("start", target, .succeeded, [])
        started(preflight.order)
        return await conductor.run(order: preflight.order)
    }

    public func audit(_ outcome: RolloutOutcome) -> OperationRecord {
        // What ran before, and what was asked for: `rollout history` shows "0.1.0 -> 0.2.0".
        let before = preflight.observations.filter { preflight.order.contains($0.name) }.map { observation in
            (observation.name, observation.version.map(JSONValue.string) ?? .null)
        }
        let details: [(String, JSONValue)] = [
            ("versions_before", .object(before)), ("expected_version", conductor.options.expectVersion.map(JSONValue.string) ?? .null),
        ]
        switch outcome {
        case .completed: return OperationRecord(outcome: .succeeded, details: details)
        case .stopped(let why): return OperationRecord(outcome: .refused(why), details: details)
        case .unsafe(let why): return OperationRecord(outcome: .failed(why), details: details)
        }
    }
}

/// A request to stop, set from a signal handler and read by long-running work.
public final class StopRequest: Sendable {
    private let box = NIOLockedValueBox(false)

    public init() {}

    public var isRequested: Bool { box.withLockedValue { $0 } }

    /// Asks to stop; true the first time.
    @discardableResult
    public func request() -> Bool {
        box.withLockedValue { requested in
            defer { requested = true }
            return !requested
        }
    }
}
