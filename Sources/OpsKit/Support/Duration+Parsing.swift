import Foundation

extension Duration {
    /// The longest duration any setting or flag takes: longer ones are typos.
    static let parsingLimit: Duration = .seconds(10 * 365 * 86_400)

    /// Go's duration syntax, as the deployment's variables and our flags write it: "500ms", "2s",
    /// "1.5s", "1m30s", "24h", "250us"; a bare number is seconds. Negative, non-finite and
    /// longer than `parsingLimit` are refused.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        var total = 0.0
        if let seconds = Double(trimmed) {
            total = seconds
        } else {
            var rest = Substring(trimmed)
            while !rest.isEmpty {
                let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
                rest = rest.dropFirst(number.count)
                let unit = rest.prefix { $0.isLetter }
                rest = rest.dropFirst(unit.count)
                guard let value = Double(number), let scale = Self.unitSeconds[unit.lowercased()] else { return nil }
                total += value * scale
            }
        }
        guard total.isFinite, total >= 0, total <= Self.parsingLimit.seconds else { return nil }
        self = .nanoseconds(Int64((total * 1e9).rounded()))
    }

    private static let unitSeconds: [String: Double] = [
        "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600,
    ]

    /// Seconds as a Double, for arithmetic with C timeouts.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    public var milliseconds: Int64 {
        let (s, attoseconds) = components
        return s * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// "2 s", "500 ms", "1.5 s": how errors and tables state a timeout.
    public var humanReadable: String {
        let ms = milliseconds
        if ms < 1000 { return "\(ms) ms" }
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        let tenths = Double(ms / 100) / 10
        return "\(tenths) s"
    }
}
