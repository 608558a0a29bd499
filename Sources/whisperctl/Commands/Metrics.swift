import ArgumentParser
import Foundation
import OpsKit

struct Metrics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Parse a Prometheus /metrics exposition: from a URL, a file or standard input.",
        discussion: """
            Prints the families (type, help, samples), or with --cardinality the families with the most \
            series and their label names: the question to ask before a Prometheus runs out of memory.
            A line that is not valid Prometheus text (0.0.4; OpenMetrics is tolerated) exits 2 naming it.

            Examples:
              whisperctl metrics http://127.0.0.1:8080/metrics --match 'whisper_.*'
              curl -s http://ws1:8080/metrics | whisperctl metrics - --json
              whisperctl metrics http://node:9100/metrics --cardinality 10
            """
    )

    @Argument(help: ArgumentHelp("An http(s) URL, a file, or - for standard input.", valueName: "source"), completion: .file())
    var source: String

    @Option(help: ArgumentHelp("Only families whose name matches this regular expression (whole name).", valueName: "regex"))
    var match: String?

    // A string checked in `validate`, so `--cardinality=x` is an error, not the default.
    @Option(
        name: .customLong("cardinality"), defaultAsFlag: "10",
        help: ArgumentHelp("The N families with the most series (default 10), with their label names.", valueName: "N"))
    var cardinalityArgument: String?

    var cardinality: Int? { cardinalityArgument.flatMap { Int($0) } }

    @Flag(help: "Print JSON: {\"families\": [{\"name\", \"type\", \"help\", \"samples\": [...]}]}.")
    var json = false

    @Option(help: ArgumentHelp("Time limit for a URL.", valueName: "duration"))
    var timeout: Duration = .seconds(5)

    func validate() throws {
        if let match, (try? Regex(match)) == nil { throw ValidationError("--match is not a valid regular expression: \(match)") }
        if let cardinalityArgument, (Int(cardinalityArgument) ?? 0) < 1 {
            throw ValidationError("--cardinality expects a number of families (at least 1), got '\(cardinalityArgument)'")
        }
    }

    func run() async throws {
        let bytes: [UInt8]
        do {
            bytes = try await read()
        } catch {
            printError("whisperctl metrics: \(error)")
            throw ExitStatus.critical
        }
        var families: [MetricFamily]
        do {
            families = try PrometheusTextParser.parse(bytes)
        } catch {
            printError("\(source == "-" ? "standard input" : source): \(error)")
            throw ExitStatus.critical
        }
        if let match, let pattern = try? Regex(match) {
            families = families.filter { (try? pattern.wholeMatch(in: $0.name)) != nil }
        }
        if let cardinality {
            print(json ? Self.cardinalityJSON(families, top: cardinality).prettyPrinted() : Self.cardinalityTable(families, top: cardinality))
        } else {
            print(json ? Self.json(families).prettyPrinted() : Self.text(families))
        }
    }

    private func read() async throws -> [UInt8] {
        if source == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            let response = try await HTTPClient().get(source, timeout: timeout)
            guard response.isSuccess else { throw OpsError(.serverError, "HTTP \(response.status)", endpoint: source) }
            return response.body
        }
        guard let data = FileManager.default.contents(atPath: source) else {
            let missing = !FileManager.default.fileExists(atPath: source)
            // "127.0.0.1:8081/metrics": a URL without its scheme.
            let host = source.split(separator: "/").first.map(String.init) ?? ""
            if missing, host.contains(":"), Int(host.split(separator: ":").last ?? "") != nil {
                throw OpsError(.invalidInput, "no such file; for the URL write http://\(source)", endpoint: source)
            }
            throw OpsError(.invalidInput, missing ? "no such file (a URL starts with http:// or https://)" : "cannot read the file", endpoint: source)
        }
        return [UInt8](data)
    }

    static func shown(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return formatNumber(value)
    }

    static func formatNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func json(_ families: [MetricFamily]) -> JSONValue {
        func number(_ value: Double) -> JSONValue { value.isFinite ? (value == value.rounded() && abs(value) < 1e15 ? .int(Int(value)) : .double(value)) : .string(shown(value)) }
        return .object([
            ("families", .array(families.map { family in
                .object([
                    ("name", .string(family.name)), ("type", .string(family.kind.rawValue)), ("help", family.help.map(JSONValue.string) ?? .null),
                    ("samples", .array(family.samples.map { sample in
                        var pairs: [(String, JSONValue)] = [
                            ("name", .string(sample.name)), ("labels", .object(sample.labels.map { ($0.name, .string($0.value)) })),
                            ("value", number(sample.value)),
                        ]
                        if let timestamp = sample.timestamp { pairs.append(("timestamp", .int(Int(timestamp)))) }
                        return .object(pairs)
                    })),
                ])
            })),
        ])
    }

    static func text(_ families: [MetricFamily]) -> String {
        var lines: [String] = []
        for family in families {
            lines.append("\(family.name) (\(family.kind.rawValue))" + (family.help.map { ": \($0)" } ?? ""))
            for sample in family.samples {
                let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
                lines.append("  \(sample.name)\(labels) \(shown(sample.value))" + (sample.timestamp.map { " \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Families by their number of series (samples), most first.
    static func cardinality(_ families: [MetricFamily], top: Int) -> [(family: MetricFamily, series: Int, labels: [String])] {
        var rows: [(family: MetricFamily, series: Int, labels: [String])] = []
        for family in families {
            var names: [String] = []
            for sample in family.samples {
                for label in sample.labels where !names.contains(label.name) { names.append(label.name) }
            }
            rows.append((family, family.samples.count, names))
        }
        rows.sort { left, right in left.series != right.series ? left.series > right.series : left.family.name < right.family.name }
        return Array(rows.prefix(top))
    }

    static func cardinalityTable(_ families: [MetricFamily], top: Int) -> String {
        let total = families.reduce(0) { $0 + $1.samples.count }
        let rows = cardinality(families, top: top).map { [String($0.series), $0.family.name, $0.family.kind.rawValue, $0.labels.joined(separator: ", ")] }
        return "\(total) series in \(families.count) families\n\n" + Table(headers: ["SERIES", "FAMILY", "TYPE", "LABELS"], rows: rows).render()
    }

    static func cardinalityJSON(_ families: [MetricFamily], top: Int) -> JSONValue {
        .object([
            ("series", .int(families.reduce(0) { $0 + $1.samples.count })), ("families", .int(families.count)),
            ("top", .array(cardinality(families, top: top).map {
                .object([
                    ("name", .string($0.family.name)), ("type", .string($0.family.kind.rawValue)), ("series", .int($0.series)),
                    ("labels", .array($0.labels.map(JSONValue.string))),
                ])
            })),
        ])
    }
}
