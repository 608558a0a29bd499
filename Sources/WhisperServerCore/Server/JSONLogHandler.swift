import Foundation
import Logging
import OpsKit

/// One JSON object per line on stderr: the default LOG_FORMAT. Never given user message text.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    let json: Bool

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        // Milliseconds: `whisperctl logs` merges services' lines by these times.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let timestamp = formatter.string(from: Date())
        let line: String
        if json {
            var pairs: [(String, JSONValue)] = [
                ("ts", .string(timestamp)), ("level", .string(event.level.rawValue)), ("msg", .string(event.message.description)),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { pairs.append((key, .string(value.description))) }
            line = JSONValue.object(pairs).serialized()
        } else {
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(timestamp) \(event.level.rawValue) \(event.message) \(fields)"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
