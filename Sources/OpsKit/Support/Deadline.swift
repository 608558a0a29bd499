import NIOConcurrencyHelpers
import NIOPosix

/// Runs `body` and `onTimeout` as two child tasks racing against `limit`: the first answer wins
/// and the other child is cancelled and awaited, so nothing outlives the call. `body` must
/// answer cancellation promptly; blocking C calls reach it through `NIOThreadPool.run(_:_:)`
/// with `.abandon`. The one deadline helper of the probes, the scraper, diag and the clients.
func withTimeout<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async -> T, onTimeout: @escaping @Sendable () -> T
) async -> T {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            // Cancelled means body answered first: this child's nil is never read.
            guard (try? await Task.sleep(for: limit)) != nil else { return nil }
            return onTimeout()
        }
        defer { group.cancelAll() }
        while let answer = await group.next() {
            if let answer { return answer }
        }
        return onTimeout()
    }
}

/// What a blocking C call does when the task waiting for it is cancelled.
public enum BlockingCallCancellation: Sendable {
    /// The caller waits for the call to finish: changes (a lock release, a migration) must not
    /// be left half-observed.
    case finish
    /// The caller stops waiting at once and gets `CancellationError`; the call finishes on its
    /// pool thread and its answer is dropped. For reads under a deadline (probes, scrapes).
    case abandon
}

extension NIOThreadPool {
    /// Runs `body` on a pool thread, meeting cancellation as `mode` says.
    func run<T: Sendable>(_ mode: BlockingCallCancellation, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard mode == .abandon else { return try await runIfActive(body) }
        let waiter = NIOLockedValueBox<CheckedContinuation<T, Error>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.withLockedValue { $0 = continuation }
                if Task.isCancelled {
                    waiter.withLockedValue { $0.take() }?.resume(throwing: CancellationError())
                    return
                }
                submit { state in
                    let result: Result<T, Error> =
                        state == .active ? Result { try body() } : .failure(NIOThreadPoolError.ThreadPoolInactive())
                    waiter.withLockedValue { $0.take() }?.resume(with: result)
                }
            }
        } onCancel: {
            waiter.withLockedValue { $0.take() }?.resume(throwing: CancellationError())
        }
    }
}
