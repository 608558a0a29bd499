import Foundation

extension Duration {
    /// Parses "2", "2s", "1.5s", "500ms", "1m" or "1h"; a bare number is seconds.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(trimmed)
        var scale = 1.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        self = .nanoseconds(Int64((value * scale * 1_000_000_000).rounded()))
    }

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
