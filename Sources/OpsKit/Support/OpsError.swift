/// An error from talking to one endpoint, phrased for an operator at 3 a.m.:
/// what went wrong and where, never a credential.
public struct OpsError: Error, Sendable, Equatable {
    /// The broad kind of failure, for callers that branch on it.
    public enum Code: String, Sendable {
        case connectionRefused = "connection_refused"
        case timedOut = "timed_out"
        case unreachable
        case tls
        case protocolError = "protocol_error"
        case serverError = "server_error"
        case authentication
        case invalidInput = "invalid_input"
        case io
    }

    public var code: Code
    /// What failed, e.g. "connection refused" or "timed out after 2 s".
    public var message: String
    /// The endpoint with any credentials already removed, e.g. "127.0.0.1:6379".
    public var endpoint: String?

    public init(_ code: Code, _ message: String, endpoint: String? = nil) {
        self.code = code
        self.message = message
        self.endpoint = endpoint.map(Redactor.redactURL)
    }

    public static func timedOut(after timeout: Duration, endpoint: String?) -> OpsError {
        OpsError(.timedOut, "timed out after \(timeout.humanReadable)", endpoint: endpoint)
    }
}

extension OpsError: CustomStringConvertible {
    public var description: String {
        guard let endpoint else { return message }
        return "\(message) at \(endpoint)"
    }
}
