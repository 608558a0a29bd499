import Foundation

/// Numbers as the dashboard and `top` print them: short, with units, "-" for unmeasured.
public enum DisplayFormat {
    public static let missing = "-"

    /// 1234 → "1,234".
    public static func count(_ value: Int?) -> String {
        guard let value else { return missing }
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// A per-second rate: "0", "4.2", "87", "1.3k", "12k".
    public static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return missing }
        switch abs(value) {
        case 0: return "0"
        case ..<10: return String(format: "%.1f", value)
        case ..<1000: return String(format: "%.0f", value)
        case ..<10_000: return String(format: "%.1fk", value / 1000)
        case ..<1_000_000: return String(format: "%.0fk", value / 1000)
        default: return String(format: "%.1fM", value / 1_000_000)
        }
    }

    /// Seconds as "850µs", "2.1ms", "120ms", "1.5s".
    public static func latency(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return missing }
        switch seconds {
        case ..<0.001: return String(format: "%.0fµs", seconds * 1e6)
        case ..<0.01: return String(format: "%.1fms", seconds * 1e3)
        case ..<1: return String(format: "%.0fms", seconds * 1e3)
        default: return String(format: "%.1fs", seconds)
        }
    }

    public static func bytes(_ value: Int?) -> String { value.map(ByteCount.format) ?? missing }

    /// Seconds as "42s", "5m07s", "3h02m", "4d03h".
    public static func age(_ seconds: Double?) -> String {
        guard let seconds, seconds >= 0, let total = seconds.wholeNumber else { return missing }
        switch total {
        case ..<60: return "\(total)s"
        case ..<3600: return String(format: "%dm%02ds", total / 60, total % 60)
        case ..<86_400: return String(format: "%dh%02dm", total / 3600, total % 3600 / 60)
        default: return String(format: "%dd%02dh", total / 86_400, total % 86_400 / 3600)
        }
    }

    /// A sparkline of the last `width` values, scaled from 0 (or the minimum, when all are
    /// negative) to the maximum; NaN is a gap. ASCII when the terminal cannot show blocks.
    public static func sparkline(_ values: [Double], width: Int, unicode: Bool) -> String {
        let levels: [Character] = unicode ? ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : ["_", ".", "-", "~", "=", "+", "*", "#"]
        let shown = values.suffix(max(0, width))
        let finite = shown.filter(\.isFinite)
        guard let top = finite.max() else { return String(repeating: " ", count: shown.count) }
        let bottom = min(0, finite.min() ?? 0)
        return String(shown.map { value -> Character in
            guard value.isFinite else { return " " }
            guard top > bottom, let position = ((value - bottom) / (top - bottom) * Double(levels.count - 1)).rounded().wholeNumber else {
                return levels[0]
            }
            return levels[min(max(0, position), levels.count - 1)]
        })
    }

    /// Pads or cuts `text` to exactly `width` characters.
    public static func fit(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard width > 0 else { return "" }
        if text.count > width { return width == 1 ? String(text.prefix(1)) : String(text.prefix(width - 1)) + "…" }
        let padding = String(repeating: " ", count: width - text.count)
        return right ? padding + text : text + padding
    }
}
