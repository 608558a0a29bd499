import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// What every probe shares: its time budget and the clients to spend it with.
public struct ProbeEnvironment: Sendable {
    /// Each probe's own limit; probes run concurrently, so the whole run takes about this long.
    public var timeout: Duration
    /// Accept self-signed certificates on HTTPS endpoints.
    public var insecureTLS: Bool
    public var http: HTTPClient
    /// Where blocking C calls (hiredis, libpq, file reads) run.
    public var pool: NIOThreadPool
    public var now: @Sendable () -> Date

    public init(
        timeout: Duration = .seconds(2), insecureTLS: Bool = false, http: HTTPClient = HTTPClient(),
        pool: NIOThreadPool = .singleton, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.timeout = timeout
        self.insecureTLS = insecureTLS
        self.http = http
        self.pool = pool
        self.now = now
    }

    /// Runs `body`, answering `onTimeout()` once `limit` has passed (`withTimeout`).
    func bounded(
        by limit: Duration, _ body: @escaping @Sendable () async -> ComponentReport,
        onTimeout: @escaping @Sendable () -> ComponentReport
    ) async -> ComponentReport {
        await withTimeout(limit, body, onTimeout: onTimeout)
    }
}

extension Optional {
    /// Returns the value and leaves nil behind.
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
