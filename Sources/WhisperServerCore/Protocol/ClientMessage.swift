import Foundation
import NIOCore
import OpsKit

/// A frame a client sends, decoded and checked (docs/protocol.md).
package enum ClientMessage: Equatable, Sendable {
    case find(interests: [String])
    case message(text: String, clientID: String?)
    case typing
    case leave
    case report(reason: String)
    case ping

    static let maxInterests = 10
    static let maxInterestLength = 32
    static let maxTextLength = 2000
    static let maxReasonLength = 500
    /// Client ids are kept with each message for resends: short, and never the separator the
    /// resume buffer uses.
    static let maxClientIDLength = 64

    /// Why a frame was refused; the connection stays open and the client gets `error {code, message}`.
    package struct Rejection: Error, Equatable {
        package var code: String
        package var message: String
    }

    /// Decodes a text message's bytes (already checked to be UTF-8 by the frame parser).
    package static func decode(_ text: ByteBuffer) throws(Rejection) -> ClientMessage {
        try decode(parsing: { try text.withUnsafeReadableBytes { try JSONValue.parse($0) } })
    }

    package static func decode(_ text: String) throws(Rejection) -> ClientMessage {
        try decode(Array(text.utf8))
    }

    package static func decode(_ bytes: [UInt8]) throws(Rejection) -> ClientMessage {
        try decode(parsing: { try JSONValue.parse(bytes) })
    }

    private static func decode(parsing parse: () throws -> JSONValue) throws(Rejection) -> ClientMessage {
        let value: JSONValue
        do {
            value = try parse()
        } catch {
            throw Rejection(code: "bad_request", message: "invalid JSON: \(error)")
        }
        guard case .object = value else { throw Rejection(code: "bad_request", message: "expected a JSON object") }
        guard let type = value["type"]?.stringValue else {
            throw Rejection(code: "bad_request", message: "missing field 'type'")
        }
        switch type {
        case "find":
            var interests: [String] = []
            if let field = value["interests"], field != .null {
                guard case .array(let items) = field else {
                    throw Rejection(code: "bad_request", message: "'interests' must be an array of strings")
                }
                guard items.count <= maxInterests else {
                    throw Rejection(code: "bad_request", message: "at most \(maxInterests) interests")
                }
                for item in items {
                    guard let interest = item.stringValue else {
                        throw Rejection(code: "bad_request", message: "'interests' must be an array of strings")
                    }
                    let normalized = interest.trimmingCharacters(in: .whitespaces).lowercased()
                    guard !normalized.isEmpty, normalized.count <= maxInterestLength else {
                        throw Rejection(code: "bad_request", message: "each interest must be 1-\(maxInterestLength) characters")
                    }
                    if !interests.contains(normalized) { interests.append(normalized) }
                }
            }
            return .find(interests: interests)
        case "message":
            guard let text = value["text"]?.stringValue else {
                throw Rejection(code: "bad_request", message: "'text' must be a string")
            }
            guard !text.isEmpty else { throw Rejection(code: "bad_request", message: "'text' is empty") }
            // Counting characters walks grapheme clusters; a text with few enough bytes needs no count.
            guard text.utf8.count <= maxTextLength || text.count <= maxTextLength else {
                throw Rejection(code: "too_long", message: "'text' is longer than \(maxTextLength) characters")
            }
            let clientID = value["client_id"]
            guard clientID == nil || clientID == .null || clientID?.stringValue != nil else {
                throw Rejection(code: "bad_request", message: "'client_id' must be a string")
            }
            if let id = clientID?.stringValue {
                guard (1...maxClientIDLength).contains(id.utf8.count), !id.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "|") }) else {
                    throw Rejection(code: "bad_request", message: "'client_id' must be 1-\(maxClientIDLength) bytes without '|' or control characters")
                }
            }
            return .message(text: text, clientID: clientID?.stringValue)
        case "typing": return .typing
        case "leave": return .leave
        case "ping": return .ping
        case "report":
            let reason = value["reason"]?.stringValue ?? ""
            guard reason.count <= maxReasonLength else {
                throw Rejection(code: "too_long", message: "'reason' is longer than \(maxReasonLength) characters")
            }
            return .report(reason: reason)
        default:
            throw Rejection(code: "bad_request", message: "unknown type '\(type)'")
        }
    }
}
