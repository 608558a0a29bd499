/// An HTTP/1.1 and HTTPS client over libcurl, for probes and APIs.
///
/// All requests share one libcurl multi loop, so many run concurrently without a thread each,
/// and none blocks a caller's thread or an event loop.
public struct HTTPClient: Sendable {
    public init() {}

    /// Performs `request`; a non-2xx status is a response, not an error.
    /// Errors name the URL (credentials masked) and what failed.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try CurlTransfer(request: request)
        let loop = CurlMultiLoop.shared
        return try await withTaskCancellationHandler {
            try Task.checkCancellation()
            return try await withCheckedThrowingContinuation { continuation in
                transfer.attach(continuation)
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }

    public func get(_ url: String, timeout: Duration = .seconds(2), insecureTLS: Bool = false) async throws -> HTTPResponse {
        try await execute(HTTPRequest(url: url, timeout: timeout, insecureTLS: insecureTLS))
    }

    public func post(
        _ url: String, body: [UInt8], contentType: String = "application/json", timeout: Duration = .seconds(2)
    ) async throws -> HTTPResponse {
        try await execute(
            HTTPRequest(method: "POST", url: url, headers: [("Content-Type", contentType)], body: body, timeout: timeout))
    }
}
