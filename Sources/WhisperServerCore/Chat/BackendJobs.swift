import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Runs the backend work of sessions (opening, finds, leaves, reports, departures, fetches) as
/// child tasks of one service, so every job belongs to the service group: nothing outlives the
/// server, and a draining server can wait for what is in progress.
///
/// Listed before `ChatServer` in the group, it stops after it: jobs the drain starts still run.
final class BackendJobs: Service, Sendable {
    private let stream: AsyncStream<@Sendable () async -> Void>
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation
    private let pending = NIOLockedValueBox(0)

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    }

    /// Starts `job`; after shutdown it is dropped.
    func submit(_ job: @escaping @Sendable () async -> Void) {
        pending.withLockedValue { $0 += 1 }
        if case .terminated = continuation.yield(job) { pending.withLockedValue { $0 -= 1 } }
    }

    /// Jobs submitted and not finished.
    var inProgress: Int { pending.withLockedValue { $0 } }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await job in stream {
                    group.addTask { [pending] in
                        await job()
                        pending.withLockedValue { $0 -= 1 }
                    }
                }
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }

    /// Runs jobs without a service group (the fuzz harness and tests): until `stop()`.
    func runDetached() -> Task<Void, Never> {
        Task { try? await self.run() }
    }

    func stop() { continuation.finish() }
}

extension BackendJobs: CustomStringConvertible {
    var description: String { "BackendJobs" }
}
