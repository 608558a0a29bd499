import OpsKit
import TestSupport
import Testing

/// A test's view of one chat user: send protocol messages, await the next ones.
final class ChatClient: Sendable {
    let socket: WebSocketClient

    /// - Parameters:
    ///   - from: the client's own loopback address (any 127.x.y.z), for per-IP behaviour.
    ///   - headers: extra request headers, e.g. X-Forwarded-For.
    init(_ server: WhisperServerProcess, path: String = "/ws", answerPings: Bool = true, from: String? = nil, headers: [(String, String)] = []) async throws {
        socket = try await WebSocketClient.connect(
            host: "127.0.0.1", port: server.port, path: path, answerPings: answerPings, sourceAddress: from, headers: headers)
    }

    /// Reconnects to `server` with a resume token, telling the last message id received.
    static func resuming(_ server: WhisperServerProcess, token: String, lastID: Int? = nil) async throws -> ChatClient {
        try await ChatClient(server, path: "/ws?resume=\(token)" + (lastID.map { "&last_id=\($0)" } ?? ""))
    }

    func send(_ json: String) async throws { try await socket.send(text: json) }

    /// The next text frame as JSON, skipping pings; fails after `timeout`.
    func next(timeout: Duration = .seconds(5)) async throws -> JSONValue {
        while true {
            switch try await socket.next(timeout: timeout) {
            case .text(let text): return try JSONValue.parse(Array(text.utf8))
            case .ping: continue
            case .binary: throw SupportError("unexpected binary frame")
            case .closed(let code): throw SupportError("closed with \(code.map(String.init) ?? "no code")")
            }
        }
    }

    /// The next message, which must have `type`.
    @discardableResult
    func expect(_ type: String, timeout: Duration = .seconds(5)) async throws -> JSONValue {
        let message: JSONValue
        do {
            message = try await next(timeout: timeout)
        } catch {
            throw SupportError("waiting for \(type): \(error)")
        }
        #expect(message["type"] == .string(type), "expected \(type), got \(message.serialized())")
        return message
    }

    /// Waits for the connection to close and returns the server's close code.
    func closeCode(timeout: Duration = .seconds(5)) async throws -> UInt16? {
        while true {
            if case .closed(let code) = try await socket.next(timeout: timeout) { return code }
        }
    }
}


/// Two users on `server` who found each other through `interests`, with the first one's welcome
/// (its `resume_token`, for resume tests).
func matchedPair(_ server: WhisperServerProcess, interests: String = #"["music"]"#) async throws -> (a: ChatClient, b: ChatClient, welcome: JSONValue) {
    let a = try await ChatClient(server)
    let b = try await ChatClient(server)
    let welcome = try await a.expect("welcome")
    try await b.expect("welcome")
    try await a.send(#"{"type":"find","interests":\#(interests)}"#)
    try await a.expect("queued")
    try await b.send(#"{"type":"find","interests":\#(interests)}"#)
    try await b.expect("queued")
    try await a.expect("matched")
    try await b.expect("matched")
    return (a, b, welcome)
}
