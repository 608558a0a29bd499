import Foundation
@testable import OpsKit
import TestSupport
import Testing

/// The /metrics parser: exact agreement with prometheus_client on expositions captured from real
/// programs, the format's corners, OpenMetrics tolerance, and refusals that name the line.
@Suite struct PrometheusParserTests {
    static let fixtures = ["whisper-server", "node-exporter", "prometheus", "haproxy", "redis-exporter"]

    struct Flat: Hashable, Comparable, CustomStringConvertible {
        var name: String
        var labels: [String]
        var value: String
        var timestamp: Int64?
        static func < (a: Flat, b: Flat) -> Bool { a.description < b.description }
        var description: String { "\(name){\(labels.joined(separator: ","))} \(value) \(timestamp.map(String.init) ?? "")" }
    }

    static func shown(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return "\(value)"
    }

    @Test(arguments: fixtures)
    func agreesSampleForSampleWithPrometheusClient(_ fixture: String) async throws {
        let path = Repository.path("Tests/Fixtures/metrics/\(fixture).prom")
        let ours = try PrometheusTextParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let run = try await Offload.run {
            try Command.capture("/usr/bin/python3", [Repository.path("Tests/Fixtures/metrics/reference.py"), path], environment: [:], directory: "/")
        }
        #expect(run.status == 0, "\(run.stderr)")
        var reference: [Flat] = []
        var referenceTypes: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") {
            let item = try JSONValue.parse(Array(line.utf8))
            guard case .object(let labels)? = item["labels"] else { continue }
            let text = item["value"]?.stringValue ?? ""
            let value = Double(text).map(Self.shown) ?? text
            reference.append(Flat(
                name: item["name"]?.stringValue ?? "", labels: labels.map { "\($0.0)=\($0.1.stringValue ?? "")" }.sorted(), value: value,
                timestamp: item["timestamp"]?.intValue.map(Int64.init)))
            referenceTypes[item["name"]?.stringValue ?? ""] = item["type"]?.stringValue
        }
        // prometheus_client names a counter's sample `<family>_total` even when the exposition
        // leaves the suffix off (HAProxy and redis_exporter do); we keep the name as exposed.
        func referenceName(_ sample: MetricSample, _ family: MetricFamily) -> String {
            family.kind == .counter && sample.name == family.name && !sample.name.hasSuffix("_total") ? sample.name + "_total" : sample.name
        }
        let mine = ours.flatMap { family in
            family.samples.map {
                Flat(name: referenceName($0, family), labels: $0.labels.map { "\($0.name)=\($0.value)" }.sorted(), value: Self.shown($0.value), timestamp: $0.timestamp)
            }
        }
        #expect(mine.count == reference.count, "\(fixture): \(mine.count) samples, reference \(reference.count)")
        #expect(mine.sorted() == reference.sorted(), "\(fixture): first difference \(zip(mine.sorted(), reference.sorted()).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in length")")
        // Types agree too (prometheus_client says "unknown" for untyped).
        for family in ours {
            for sample in family.samples {
                let expected = referenceTypes[referenceName(sample, family)]
                let kind = family.kind == .untyped ? "unknown" : family.kind.rawValue
                #expect(expected == kind, "\(sample.name): \(kind) vs \(expected ?? "none")")
            }
        }
    }

    @Test func theFormatsCorners() throws {
        let text = """
            # HELP http_requests_total The total number of HTTP requests.\\nSecond line \\\\ backslash
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total{method="post",code="400"}    3 1395066363000
            # A comment that is not HELP or TYPE
            msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
            metric_without_timestamp_and_labels 12.47
            something_weird{problem="division by zero"} +Inf -3982045
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.5"} 4773
            rpc_duration_seconds_sum 1.7560473e+07
            rpc_duration_seconds_count 2693
            trailing_comma{a="b",} -Inf
            nan_value NaN

            """
        let families = try PrometheusTextParser.parse(text)
        let counter = try #require(families.first { $0.name == "http_requests_total" })
        #expect(counter.kind == .counter)
        #expect(counter.help == "The total number of HTTP requests.\nSecond line \\ backslash")
        #expect(counter.samples[1].value == 3 && counter.samples[1].timestamp == 1_395_066_363_000)
        let msdos = try #require(families.first { $0.name == "msdos_file_access_time_seconds" })
        #expect(msdos.samples[0].label("path") == #"C:\DIR\FILE.TXT"#)
        #expect(msdos.samples[0].label("error") == "Cannot find file:\n\"FILE.TXT\"")
        #expect(msdos.samples[0].value == 1_458_255_915)
        #expect(families.first { $0.name == "something_weird" }?.samples[0].value == .infinity)
        #expect(families.first { $0.name == "something_weird" }?.samples[0].timestamp == -3_982_045)
        let summary = try #require(families.first { $0.name == "rpc_duration_seconds" })
        #expect(summary.kind == .summary && summary.samples.count == 3)
        #expect(families.first { $0.name == "trailing_comma" }?.samples[0].labels == [MetricLabel("a", "b")])
        #expect(families.first { $0.name == "nan_value" }?.samples[0].value.isNaN == true)
    }

    @Test func openMetricsTextIsTolerated() throws {
        let text = """
            # TYPE acme_http_router_request_seconds summary
            # UNIT acme_http_router_request_seconds seconds
            # HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
            acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
            acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
            acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
            # TYPE go_goroutines gauge
            go_goroutines 69
            # TYPE foo counter
            foo_total 17.0 1520879607.789 # {id="counter-test"} 5
            # TYPE hist histogram
            hist_bucket{le="0.5"} 1 # {trace_id="abc"} 0.3 1.5e9
            hist_bucket{le="+Inf"} 2
            hist_count 2
            hist_sum 0.8
            # EOF
            ignored after EOF {{{

            """
        let families = try PrometheusTextParser.parse(text)
        let summary = try #require(families.first { $0.name == "acme_http_router_request_seconds" })
        #expect(summary.unit == "seconds" && summary.samples.count == 3)
        let foo = try #require(families.first { $0.name == "foo" })
        #expect(foo.samples.map(\.name) == ["foo_total"])
        #expect(foo.samples[0].timestamp == 1_520_879_607_789)
        #expect(families.first { $0.name == "hist" }?.samples.count == 4)
    }

    @Test func badInputIsRefusedNamingTheLine() {
        let cases: [(String, Int)] = [
            ("ok 1\nbad{x=\"y\" 1\n", 2), ("ok 1\n\n{} 3\n", 3), ("a{b=c} 1\n", 1), ("a 1x\n", 1), ("a\n", 1), ("# TYPE a nonsense\n", 1),
            ("a{b=\"unterminated\n} 1\n", 1), ("a 1 2 3\n", 1), ("a{\"x\"=\"y\"} 1", 1),
        ]
        for (text, line) in cases {
            do {
                _ = try PrometheusTextParser.parse(text)
                Issue.record("accepted: \(text.debugDescription)")
            } catch {
                #expect(error.line == line, "\(text.debugDescription): \(error)")
            }
        }
        // Truncated anywhere: an answer, never a crash.
        let fixture = (try? Data(contentsOf: URL(fileURLWithPath: Repository.path("Tests/Fixtures/metrics/whisper-server.prom")))) ?? Data()
        let whole = [UInt8](fixture)
        for cut in stride(from: 0, to: whole.count, by: 7) { _ = try? PrometheusTextParser.parse(Array(whole[..<cut])) }
    }

    @Test func numbersAreReadExactly() {
        for text in ["0", "-0", "1", "12.5", "1e3", "1E-3", "0.1", "3.14159265358979", "1.7976931348623157e308", "5e-324", "123456789012345678901234567890",
            "0.000000000000000000000001", "+5", "9007199254740993", "1.458255915e9", "1e23"]
        {
            let bytes = Array(text.utf8)
            let mine = bytes.withUnsafeBytes { PrometheusTextParser.double($0[...]) }
            #expect(mine == Double(text), "\(text)")
        }
        for bad in ["", "-", "1e", "e5", "1..2", "0x10", "1,5", "nana", "--1"] {
            let bytes = Array(bad.utf8)
            #expect(bytes.withUnsafeBytes { PrometheusTextParser.double($0[...]) } == nil, "\(bad)")
        }
    }
}
