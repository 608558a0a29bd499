import Foundation
import OpsKit
import WhisperServerCore

/// The JSON question for client frames (docs/server.md): the project's own parser against
/// Foundation's JSONSerialization and JSONDecoder, on what the relay decodes per chat message.
///   .build/release/whisper-bench json [rounds]
enum JSONDecodingBench {
    struct Wire: Decodable {
        var type: String
        var text: String?
        var client_id: String?
        var interests: [String]?
        var reason: String?
    }

    static let frames: [(name: String, bytes: [UInt8])] = [
        ("chat message, 60 B", Array(#"{"type":"message","text":"1842 912873409128734","client_id":"c-42"}"#.utf8)),
        ("chat message, 1,000 B text", Array(#"{"type":"message","text":"\#(String(repeating: "héllo wörld ", count: 77))","client_id":"c-43"}"#.utf8)),
        ("find, 3 interests", Array(#"{"type":"find","interests":["music","chess","films"]}"#.utf8)),
    ]

    static func run(rounds: Int) {
        print("decoding client frames: ns per frame, median of 5 runs of \(rounds) frames each (release build)")
        for frame in frames {
            let data = Data(frame.bytes)
            let decoder = JSONDecoder()
            let results: [(String, Double)] = [
                ("ClientMessage.decode (own parser)", measure(rounds) { _ = try? ClientMessage.decode(frame.bytes) }),
                ("JSONValue.parse only", measure(rounds) { _ = try? JSONValue.parse(frame.bytes)["type"] }),
                ("JSONSerialization", measure(rounds) {
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                    _ = object?["type"] as? String
                    _ = object?["text"] as? String
                }),
                ("JSONDecoder", measure(rounds) { _ = try? decoder.decode(Wire.self, from: data) }),
            ]
            print("  \(frame.name):")
            for (name, ns) in results { print("    \(name.padding(toLength: 36, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", ns)) ns") }
        }
    }

    private static func measure(_ rounds: Int, _ body: () -> Void) -> Double {
        var runs: [Double] = []
        for _ in 0..<5 {
            let start = ContinuousClock.now
            for _ in 0..<rounds { body() }
            runs.append((ContinuousClock.now - start).seconds * 1e9 / Double(rounds))
        }
        return runs.sorted()[2]
    }
}

/// whisperctl's /metrics parser on one file: MB/s and samples/s, the median of `runs`.
///   .build/release/whisper-bench metrics-parse FILE [runs]
enum MetricsParseBench {
    static func run(file: String, runs: Int) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        var times: [Double] = []
        var samples = 0
        for _ in 0..<runs {
            let start = ContinuousClock.now
            let families = try PrometheusTextParser.parse(bytes)
            times.append((ContinuousClock.now - start).seconds)
            samples = families.reduce(0) { $0 + $1.samples.count }
        }
        let median = times.sorted()[times.count / 2]
        print(String(
            format: "whisperctl: %.1f MB/s, %.0f samples/s (median of %d: %.1f ms, %d samples)", Double(bytes.count) / median / 1e6,
            Double(samples) / median, runs, median * 1000, samples))
    }
}
