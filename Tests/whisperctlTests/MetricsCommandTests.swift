import Foundation
import OpsKit
import TestSupport
import Testing

/// `whisperctl metrics`: files, URLs and standard input; JSON, filters, cardinality, errors.
@Suite struct MetricsCommandTests {
    @Test func jsonKeepsEverySampleWithNaNAndInfinityAsStrings() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("m.prom", "# HELP a An a.\n# TYPE a gauge\na{x=\"1\"} NaN\na{x=\"2\"} +Inf 1700000000000\nb_total -Inf\nc 2.5\n")
        let run = try await WhisperctlBinary.run(["metrics", "m.prom", "--json"], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let families = try JSONValue.parse(Array(run.stdout.utf8))["families"]?.arrayValue ?? []
        #expect(families.count == 3)
        #expect(families[0]["help"] == .string("An a.") && families[0]["type"] == .string("gauge"))
        let samples = families[0]["samples"]?.arrayValue ?? []
        #expect(samples[0]["value"] == .string("NaN") && samples[0]["labels"]?["x"] == .string("1"))
        #expect(samples[1]["value"] == .string("+Inf") && samples[1]["timestamp"] == .int(1_700_000_000_000))
        #expect(families[1]["samples"]?.arrayValue?.first?["value"] == .string("-Inf"))
        #expect(families[2]["samples"]?.arrayValue?.first?["value"] == .double(2.5))
    }

    @Test func aURLAFilterAndTheCardinality() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let filtered = try await WhisperctlBinary.run(["metrics", server.baseURL + "/metrics", "--match", "whisper_connections.*"], in: directory)
            #expect(filtered.status == 0)
            #expect(filtered.stdout.contains("whisper_connections_total (gauge)"))
            #expect(!filtered.stdout.contains("process_"))
            let cardinality = try await WhisperctlBinary.run(["metrics", server.baseURL + "/metrics", "--cardinality", "2", "--json"], in: directory)
            let document = try JSONValue.parse(Array(cardinality.stdout.utf8))
            #expect(document["top"]?.arrayValue?.count == 2)
            #expect(document["top"]?.arrayValue?.first?["name"] == .string("whisper_message_latency_seconds"))
            #expect(document["top"]?.arrayValue?.first?["labels"] == .array([.string("le")]))
        }
    }

    @Test func aParseErrorExits2NamingTheLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("bad.prom", "ok 1\nok 2\nbroken{a=1} 3\n")
        let run = try await WhisperctlBinary.run(["metrics", "bad.prom"], in: directory)
        #expect(run.status == 2)
        #expect(run.stderr.contains("bad.prom: line 3:"), "\(run.stderr)")
        let missing = try await WhisperctlBinary.run(["metrics", "nope.prom"], in: directory)
        #expect(missing.status == 2)
        let dead = try await WhisperctlBinary.run(["metrics", "http://127.0.0.1:\(try FreePort.next())/metrics"], in: directory)
        #expect(dead.status == 2 && dead.stderr.contains("127.0.0.1"), "\(dead.stderr)")
    }
}
