import NIOConcurrencyHelpers

/// Runs `body`, but answers with `onTimeout()` once `limit` has passed, even when `body` is stuck
/// in a blocking C call that cannot be cancelled: that call is cancelled and abandoned, not
/// awaited, so the answer comes on time. Whichever finishes second is cancelled: the timer when
/// `body` answers first, `body` when the timer does. The one deadline helper of the probes, the
/// dashboard's scraper and diag.
func answer<T: Sendable>(
    within limit: Duration, _ body: @escaping @Sendable () async -> T, onTimeout: @escaping @Sendable () -> T
) async -> T {
    let gate = NIOLockedValueBox<CheckedContinuation<T, Never>?>(nil)
    let tasks = NIOLockedValueBox<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
    return await withCheckedContinuation { continuation in
        gate.withLockedValue { $0 = continuation }
        // Unstructured on purpose: a body blocked in C must not hold the answer back.
        let work = Task {
            let value = await body()
            if let waiting = gate.withLockedValue({ $0.take() }) {
                tasks.withLockedValue { $0.timer }?.cancel()
                waiting.resume(returning: value)
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            guard !Task.isCancelled, let waiting = gate.withLockedValue({ $0.take() }) else { return }
            tasks.withLockedValue { $0.work }?.cancel()
            waiting.resume(returning: onTimeout())
        }
        tasks.withLockedValue { $0 = (work, timer) }
        // The work may have finished before the timer was stored.
        if gate.withLockedValue({ $0 == nil }) { timer.cancel() }
    }
}
