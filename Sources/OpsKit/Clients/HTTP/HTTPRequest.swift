/// One HTTP request for `HTTPClient`.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Bounds the whole exchange: connect, send, wait and receive.
    public var timeout: Duration
    /// Accept any certificate: for HAProxy's self-signed certificates, never the default.
    public var insecureTLS: Bool
    /// Send the request over this unix socket instead of TCP (the Docker Engine API, local HAProxy).
    public var unixSocketPath: String?
    /// Larger responses fail rather than fill memory.
    var maxResponseBytes: Int

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(2), insecureTLS: Bool = false, unixSocketPath: String? = nil,
        maxResponseBytes: Int = 32 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.insecureTLS = insecureTLS
        self.unixSocketPath = unixSocketPath
        self.maxResponseBytes = maxResponseBytes
    }

    /// The URL with credentials masked, as errors show it.
    var redactedURL: String { Redactor.redactURL(url) }
}

/// A complete HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]
    /// Time from start to the last byte.
    public var elapsed: Duration

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var isSuccess: Bool { (200..<300).contains(status) }
}
