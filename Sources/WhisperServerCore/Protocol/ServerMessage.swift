import NIOCore
import OpsKit

/// A frame the server sends (docs/protocol.md).
enum ServerMessage: Sendable, Equatable {
    case welcome(session: String, resumeToken: String, server: String, resumed: Bool, chat: String?)
    case queued
    case matched(chat: String, commonInterests: [String])
    case noMatch
    case message(id: Int, text: String, sentAt: Int64)
    case ack(clientID: String?, id: Int)
    case typing
    case partnerLeft
    case partnerReconnecting
    case partnerBack
    case blocked
    case pong
    case draining(reconnectInMs: Int)
    case error(code: String, message: String)

    var json: JSONValue {
        switch self {
        case .welcome(let session, let token, let server, let resumed, let chat):
            return .object([
                ("type", "welcome"), ("session", .string(session)), ("resume_token", .string(token)), ("server", .string(server)),
                ("resumed", .bool(resumed)), ("chat", chat.map(JSONValue.string) ?? .null),
            ])
        case .queued: return .object([("type", "queued")])
        case .matched(let chat, let common):
            return .object([("type", "matched"), ("chat", .string(chat)), ("common_interests", .array(common.map(JSONValue.string)))])
        case .noMatch: return .object([("type", "no_match")])
        case .message(let id, let text, let sentAt):
            return .object([("type", "message"), ("id", .int(id)), ("text", .string(text)), ("sent_at", .int(Int(sentAt)))])
        case .ack(let clientID, let id):
            return .object([("type", "ack"), ("client_id", clientID.map(JSONValue.string) ?? .null), ("id", .int(id))])
        case .typing: return .object([("type", "typing")])
        case .partnerLeft: return .object([("type", "partner_left")])
        case .partnerReconnecting: return .object([("type", "partner_reconnecting")])
        case .partnerBack: return .object([("type", "partner_back")])
        case .blocked: return .object([("type", "blocked")])
        case .pong: return .object([("type", "pong")])
        case .draining(let ms): return .object([("type", "draining"), ("reconnect_in_ms", .int(ms))])
        case .error(let code, let message):
            return .object([("type", "error"), ("code", .string(code)), ("message", .string(message))])
        }
    }

    var text: String { json.serialized() }

    /// Writes the frame's JSON into `buffer`. Chat messages and acks, one of each per message
    /// relayed, are written straight from their fields; the rest go through `JSONValue`.
    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .message(let id, let text, let sentAt):
            buffer.writeStaticString(#"{"type":"message","id":"#)
            buffer.writeString(String(id))
            buffer.writeStaticString(#","text":"#)
            ServerMessage.writeJSONString(text, into: &buffer)
            buffer.writeStaticString(#","sent_at":"#)
            buffer.writeString(String(sentAt))
            buffer.writeStaticString("}")
        case .ack(let clientID, let id):
            buffer.writeStaticString(#"{"type":"ack","client_id":"#)
            if let clientID { ServerMessage.writeJSONString(clientID, into: &buffer) } else { buffer.writeStaticString("null") }
            buffer.writeStaticString(#","id":"#)
            buffer.writeString(String(id))
            buffer.writeStaticString("}")
        default:
            buffer.writeString(text)
        }
    }

    /// A JSON string literal; text with nothing to escape (the usual case) is copied as is.
    static func writeJSONString(_ value: String, into buffer: inout ByteBuffer) {
        let plain = value.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        guard plain else {
            buffer.writeString(JSONValue.string(value).serialized())
            return
        }
        buffer.writeStaticString("\"")
        buffer.writeString(value)
        buffer.writeStaticString("\"")
    }
}
