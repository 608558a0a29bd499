import Foundation

/// Parses the Prometheus text exposition format 0.0.4, and tolerates OpenMetrics text (`# EOF`,
/// `# UNIT`, `_created` series, exemplars). A lexer over the bytes in place: no regular
/// expressions, no per-line strings; names, labels and help text become `String`s once each, and
/// numbers are read without text. A line it cannot read is an error naming that line.
public struct PrometheusTextParser: ~Copyable {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var line = 1
    private var families: [MetricFamily] = []
    /// Families already seen, by name: a TYPE or HELP that comes back (or a family's samples split
    /// apart, which the format does not allow but exporters do) lands on the same one.
    private var familyIndex: [String: Int] = [:]
    private var current: Int?
    /// The last sample's name, reused while the next one has the same bytes (histogram buckets).
    private var lastName: (start: Int, end: Int, string: String)?

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(MetricsSyntaxError) -> [MetricFamily] {
        var parser = PrometheusTextParser(bytes: bytes)
        return try parser.parseAll()
    }

    public static func parse(_ text: String) throws(MetricsSyntaxError) -> [MetricFamily] {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws(MetricsSyntaxError) -> [MetricFamily] {
        let result: Result<[MetricFamily], MetricsSyntaxError> = bytes.withUnsafeBytes { raw in
            Result { () throws(MetricsSyntaxError) in try parse(raw) }
        }
        return try result.get()
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private mutating func parseAll() throws(MetricsSyntaxError) -> [MetricFamily] {
        while index < bytes.count {
            skipSpaces()
            guard index < bytes.count else { break }
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                nextLine()
            case UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "#"):
                if try comment() { return families }
            default:
                try sample()
            }
        }
        return families
    }

    private func fail(_ reason: String) -> MetricsSyntaxError { MetricsSyntaxError(line: line, reason: reason) }

    private mutating func nextLine() {
        index += 1
        line += 1
    }

    private mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
    }

    /// Moves past the end of the line, which must hold nothing more than spaces.
    private mutating func endOfLine() throws(MetricsSyntaxError) {
        skipSpaces()
        if index < bytes.count, bytes[index] == UInt8(ascii: "\r") { index += 1 }
        guard index >= bytes.count || bytes[index] == UInt8(ascii: "\n") else {
            throw fail("unexpected '\(Character(Unicode.Scalar(bytes[index])))' after the value")
        }
        if index < bytes.count { nextLine() }
    }

    private mutating func skipLine() {
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        if index < bytes.count { nextLine() }
    }

    // MARK: Comments

    /// `# HELP`, `# TYPE`, `# UNIT`, `# EOF`; other comments are skipped.
    /// - Returns: true at `# EOF`.
    private mutating func comment() throws(MetricsSyntaxError) -> Bool {
        index += 1
        skipSpaces()
        let keywordStart = index
        while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
        let keyword = slice(keywordStart, index)
        if keyword.elementsEqual("EOF".utf8) { return true }
        let isHelp = keyword.elementsEqual("HELP".utf8)
        let isType = keyword.elementsEqual("TYPE".utf8)
        let isUnit = keyword.elementsEqual("UNIT".utf8)
        guard isHelp || isType || isUnit, index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") else {
            skipLine()
            return false
        }
        skipSpaces()
        let name = try metricName()
        let family = familyIndex[name] ?? addFamily(name, kind: .untyped)
        if isHelp {
            if index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            families[family].help = restOfLine(unescaping: true)
        } else if isType {
            skipSpaces()
            let typeLine = line
            let text = restOfLine(unescaping: false).trimmingCharacters(in: .whitespaces)
            guard let kind = MetricFamily.Kind(rawValue: text.lowercased()) else {
                throw MetricsSyntaxError(line: typeLine, reason: "unknown metric type '\(text.prefix(40))'")
            }
            families[family].kind = kind
        } else {
            skipSpaces()
            families[family].unit = restOfLine(unescaping: false).trimmingCharacters(in: .whitespaces)
        }
        current = family
        return false
    }

    /// The rest of the line (HELP text): `\\` and `\n` unescaped.
    private mutating func restOfLine(unescaping: Bool) -> String {
        let start = index
        var escaped = false
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
            if bytes[index] == UInt8(ascii: "\\") { escaped = true }
            index += 1
        }
        var end = index
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if index < bytes.count { nextLine() }
        let raw = slice(start, end)
        guard unescaping && escaped else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\"), let next = iterator.next() else {
                out.append(byte)
                continue
            }
            switch next {
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            default: out += [byte, next]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Samples

    private mutating func sample() throws(MetricsSyntaxError) {
        let name = try metricName()
        var labels: [MetricLabel] = []
        skipSpaces()
        if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
            index += 1
            labels = try labelSet()
            skipSpaces()
        }
        guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else { throw fail("no value for \(name)") }
        let value = try number()
        skipSpaces()
        var timestamp: Int64?
        if index < bytes.count, bytes[index] != UInt8(ascii: "\n"), bytes[index] != UInt8(ascii: "#"), bytes[index] != UInt8(ascii: "\r") {
            timestamp = try timestampValue()
            skipSpaces()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "#") {
            skipLine()  // an OpenMetrics exemplar: not part of the sample
        } else {
            try endOfLine()
        }
        let family = family(for: name)
        families[family].samples.append(MetricSample(name: name, labels: labels, value: value, timestamp: timestamp))
    }

    /// The family a sample belongs to: the current one when its name is the family's, or the
    /// family's with the suffix its type allows; otherwise a family of its own (untyped).
    private mutating func family(for name: String) -> Int {
        if let current {
            let family = families[current]
            if name == family.name || Self.suffix(of: name, after: family.name).map({ family.allows(suffix: $0) }) == true { return current }
        }
        if let known = familyIndex[name] {
            current = known
            return known
        }
        let index = addFamily(name, kind: .untyped)
        current = index
        return index
    }

    private static func suffix(of name: String, after base: String) -> Substring? {
        guard name.utf8.count > base.utf8.count, name.hasPrefix(base) else { return nil }
        return name.dropFirst(base.count)
    }

    private mutating func addFamily(_ name: String, kind: MetricFamily.Kind) -> Int {
        families.append(MetricFamily(name: name, kind: kind))
        familyIndex[name] = families.count - 1
        return families.count - 1
    }

    private mutating func metricName() throws(MetricsSyntaxError) -> String {
        let start = index
        guard index < bytes.count, isNameStart(bytes[index]) else { throw fail("expected a metric name") }
        index += 1
        while index < bytes.count, isNameByte(bytes[index]) || bytes[index] == UInt8(ascii: ":") { index += 1 }
        // Consecutive samples mostly share a name: reuse the string.
        if let last = lastName, last.end - last.start == index - start,
            memcmp(bytes.baseAddress! + last.start, bytes.baseAddress! + start, index - start) == 0
        {
            return last.string
        }
        let name = String(decoding: slice(start, index), as: UTF8.self)
        lastName = (start, index, name)
        return name
    }

    private mutating func labelSet() throws(MetricsSyntaxError) -> [MetricLabel] {
        var labels: [MetricLabel] = []
        while true {
            skipSpaces()
            guard index < bytes.count else { throw fail("unterminated label set") }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return labels
            }
            let start = index
            guard isNameStart(bytes[index]) else { throw fail("expected a label name") }
            while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
            let name = String(decoding: slice(start, index), as: UTF8.self)
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail("expected '=' after label \(name)") }
            index += 1
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted value for label \(name)") }
            index += 1
            labels.append(MetricLabel(name, try labelValue()))
            skipSpaces()
            guard index < bytes.count else { throw fail("unterminated label set") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] != UInt8(ascii: "}") {
                throw fail("expected ',' or '}' in the label set")
            }
        }
    }

    /// A label value after its opening quote: `\\`, `\"` and `\n` unescaped.
    private mutating func labelValue() throws(MetricsSyntaxError) -> String {
        let start = index
        var escaped = false
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let raw = slice(start, index)
                index += 1
                guard escaped else { return String(decoding: raw, as: UTF8.self) }
                var out: [UInt8] = []
                out.reserveCapacity(raw.count)
                var iterator = raw.makeIterator()
                while let byte = iterator.next() {
                    guard byte == UInt8(ascii: "\\"), let next = iterator.next() else {
                        out.append(byte)
                        continue
                    }
                    switch next {
                    case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
                    case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(next)
                    default: out += [byte, next]
                    }
                }
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                escaped = true
                index += 2
            case UInt8(ascii: "\n"):
                throw fail("label value runs past the end of the line")
            default:
                index += 1
            }
        }
        throw fail("unterminated label value")
    }

    /// A sample value: a decimal float, or NaN, +Inf, -Inf (any case).
    private mutating func number() throws(MetricsSyntaxError) -> Double {
        let start = index
        while index < bytes.count, !isSeparator(bytes[index]) { index += 1 }
        guard let value = Self.double(slice(start, index)) else {
            throw fail("invalid value '\(String(decoding: slice(start, min(index, start + 40)), as: UTF8.self))'")
        }
        return value
    }

    /// Milliseconds (Prometheus), or seconds with a fraction (OpenMetrics).
    private mutating func timestampValue() throws(MetricsSyntaxError) -> Int64 {
        let start = index
        while index < bytes.count, !isSeparator(bytes[index]) { index += 1 }
        let text = slice(start, index)
        if let integer = Self.integer(text) { return integer }
        guard let seconds = Self.double(text), seconds.isFinite, abs(seconds) < 9e15 else {
            throw fail("invalid timestamp '\(String(decoding: slice(start, min(index, start + 40)), as: UTF8.self))'")
        }
        return Int64((seconds * 1000).rounded())
    }

    // MARK: Bytes

    private func slice(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer.SubSequence { bytes[start..<end] }

    private func isNameStart(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
    }

    private func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private static func integer(_ text: UnsafeRawBufferPointer.SubSequence) -> Int64? {
        var iterator = text.makeIterator()
        var negative = false
        var value: Int64 = 0
        var digits = 0
        var first = true
        while let byte = iterator.next() {
            if first, byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                negative = byte == UInt8(ascii: "-")
                first = false
                continue
            }
            first = false
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? (negative ? -value : value) : nil
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A decimal float, exactly rounded: up to 15 significant digits and an exponent within ±22
    /// by one exact multiplication or division; anything longer through `strtod`.
    package static func double(_ text: UnsafeRawBufferPointer.SubSequence) -> Double? {
        guard !text.isEmpty, text.count < 64 else { return nil }
        var index = text.startIndex
        var negative = false
        if text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < text.endIndex else { return nil }
        let first = text[index] | 0x20
        if first == UInt8(ascii: "n") || first == UInt8(ascii: "i") {
            let word = String(decoding: text[index...], as: UTF8.self).lowercased()
            if word == "nan" { return .nan }
            if word == "inf" || word == "infinity" { return negative ? -.infinity : .infinity }
            return nil
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var sawDigit = false
        var sawDot = false
        while index < text.endIndex {
            let byte = text[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                sawDigit = true
                if mantissa == 0 && byte == UInt8(ascii: "0") {
                    if sawDot { exponent -= 1 }
                } else if significant < 15 {
                    mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                    significant += 1
                    if sawDot { exponent -= 1 }
                } else {
                    return slow(text)
                }
            } else if byte == UInt8(ascii: ".") && !sawDot {
                sawDot = true
            } else if byte | 0x20 == UInt8(ascii: "e") {
                guard sawDigit else { return nil }
                index += 1
                var exponentNegative = false
                if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                    exponentNegative = text[index] == UInt8(ascii: "-")
                    index += 1
                }
                var written = 0
                var digits = 0
                while index < text.endIndex, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
                    if written < 10_000 { written = written * 10 + Int(text[index] - UInt8(ascii: "0")) }
                    digits += 1
                    index += 1
                }
                guard digits > 0, index == text.endIndex else { return nil }
                exponent += exponentNegative ? -written : written
                break
            } else {
                return nil
            }
            index += 1
        }
        guard sawDigit else { return nil }
        let value: Double
        if mantissa == 0 {
            value = 0
        } else if exponent >= 0 && exponent <= 22 {
            value = Double(mantissa) * exactPowersOfTen[exponent]
        } else if exponent < 0 && exponent >= -22 {
            value = Double(mantissa) / exactPowersOfTen[-exponent]
        } else {
            return slow(text)
        }
        return negative ? -value : value
    }

    /// Everything the fast path does not take: strtod on a terminated copy.
    private static func slow(_ text: UnsafeRawBufferPointer.SubSequence) -> Double? {
        var buffer = Array(text)
        buffer.append(0)
        return buffer.withUnsafeBufferPointer { raw -> Double? in
            raw.withMemoryRebound(to: CChar.self) { chars -> Double? in
                var end: UnsafeMutablePointer<CChar>?
                let value = strtod(chars.baseAddress!, &end)
                guard let end, end == UnsafeMutablePointer(mutating: chars.baseAddress! + text.count) else { return nil }
                return value
            }
        }
    }
}

extension MetricFamily {
    /// The sample-name suffixes a family of this type carries (`_bucket` for histograms...).
    func allows(suffix: Substring) -> Bool {
        switch kind {
        case .histogram, .gaugehistogram: return ["_bucket", "_count", "_sum", "_created", "_gcount", "_gsum"].contains(suffix)
        case .summary: return ["_count", "_sum", "_created"].contains(suffix)
        case .counter: return ["_total", "_created"].contains(suffix)
        case .info: return suffix == "_info"
        default: return false
        }
    }
}
