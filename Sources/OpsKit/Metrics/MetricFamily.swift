/// One metric family of a Prometheus (or OpenMetrics) text exposition.
public struct MetricFamily: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case counter, gauge, histogram, summary, untyped
        // OpenMetrics only.
        case info, stateset, gaugehistogram, unknown
    }

    public var name: String
    public var kind: Kind
    public var help: String?
    public var unit: String?
    public var samples: [MetricSample]

    public init(name: String, kind: Kind, help: String? = nil, unit: String? = nil, samples: [MetricSample] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.unit = unit
        self.samples = samples
    }
}

/// One sample: `name{labels} value [timestamp]`.
public struct MetricSample: Sendable, Equatable {
    public var name: String
    /// In the order of the text.
    public var labels: [MetricLabel]
    public var value: Double
    /// Milliseconds since the epoch, when the exposition gives one.
    public var timestamp: Int64?

    public init(name: String, labels: [MetricLabel] = [], value: Double, timestamp: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
    }

    public func label(_ name: String) -> String? { labels.first { $0.name == name }?.value }

    /// Equal values, NaN included (NaN == NaN here: a scrape that says NaN twice did not change).
    public static func == (lhs: MetricSample, rhs: MetricSample) -> Bool {
        lhs.name == rhs.name && lhs.labels == rhs.labels && lhs.timestamp == rhs.timestamp
            && (lhs.value == rhs.value || (lhs.value.isNaN && rhs.value.isNaN))
    }
}

public struct MetricLabel: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A line the parser refused: its number (1-based) and why.
public struct MetricsSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}
