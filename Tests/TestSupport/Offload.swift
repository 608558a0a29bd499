import Foundation

/// Blocking work of the tests (waiting for processes, pg_ctl) runs on a thread of its own, so it
/// never occupies Swift concurrency's few cooperative threads, and never queues behind another
/// test's long wait as it would in a fixed-size pool (a kill scheduled for 1 s ran after 5 s).
package enum Offload {
    package static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
