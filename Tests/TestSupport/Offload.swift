import NIOPosix

/// Threads for the tests' blocking work (waiting for processes, pg_ctl), so it never occupies
/// Swift concurrency's few cooperative threads and starves the tests running beside it.
package enum Offload {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    package static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
