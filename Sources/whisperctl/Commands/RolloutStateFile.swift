import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// Keeps the rollout's `RolloutState` on disk as it runs, rewritten atomically at each step.
final class RolloutStateFile: Sendable {
    let path: String
    private let state = NIOLockedValueBox<RolloutState?>(nil)
    private let unsaved = NIOLockedValueBox(false)

    init(path: String) { self.path = path }

    func begin(order: [String]) {
        state.withLockedValue { $0 = RolloutState(order: order) }
        save()
    }

    func record(_ event: RolloutEvent) {
        guard event.server != nil else { return }
        state.withLockedValue { $0?.record(event) }
        save()
    }

    func finish(_ outcome: RolloutOutcome, seconds: Double) {
        state.withLockedValue { $0?.finish(outcome, seconds: seconds) }
        save()
    }

    private func save() {
        guard let current = state.withLockedValue({ $0 }) else { return }
        do {
            try current.write(to: path)
        } catch {
            // 'rollout status' would show an older state: say it once, the rollout goes on.
            if !unsaved.withLockedValue({ told in defer { told = true }; return told }) {
                printError("warning: the rollout state is not saved (\(path)): \(error)")
            }
        }
    }
}
