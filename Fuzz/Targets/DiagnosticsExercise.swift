import Foundation
import OpsKit

/// Hostile answers from every service through diag's verdicts: a HAProxy configuration, NATS
/// /varz and /connz, Redis INFO and CONFIG, HAProxy's stats and `show info`, two /metrics samples.
enum DiagnosticsExercise {
    static let tier = CapacityTier(named: "100k")!
    static let redis = RedisDiagnosis(address: try! RedisAddress(parsing: "127.0.0.1:6379"), tier: tier)
    static let nats = NATSDiagnosis(monitorURL: "http://127.0.0.1:8222", tier: tier)
    static let haproxy = HAProxyDiagnosis(runtime: nil, statsURL: nil, backend: "ws_servers", configPath: nil, tier: tier)
    static let server = ServerDiagnosis(entry: ServerEntry(name: "ws1", url: "http://127.0.0.1:8080", source: .builtInDefault))

    static func run(_ bytes: [UInt8]) {
        // Five parts, split at 0x00 bytes: the inputs arrive as separate documents.
        let parts = bytes.split(separator: 0, maxSplits: 4, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        func part(_ index: Int) -> String { index < parts.count ? parts[index] : "" }

        let findings = haproxy.timeouts(in: part(0), path: "haproxy.cfg")
        check(findings)

        let json = try? JSONValue.parse(Array(part(1).utf8))
        check(nats.evaluate(varz: json ?? .null, connz: json, jsz: json))

        var config: [String: String] = [:]
        for line in part(2).split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 1)
            if words.count == 2 { config[String(words[0])] = String(words[1]) }
        }
        check(redis.evaluate(info: parseRedisInfo(part(2)), config: config))

        if let stats = try? HAProxyStats(csv: part(3)) {
            check(haproxy.evaluate(stats: stats, info: config))
        }

        let first = (try? PrometheusTextParser.parse(part(4))) ?? []
        let second = (try? PrometheusTextParser.parse(part(4) + "\n" + part(3))) ?? first
        check(server.evaluate(health: json ?? .null, first: first, second: second))
        _ = CapacityPlan(connections: max(1, abs(part(0).utf8.count)), activeRatio: 0.5).rows
    }

    static func check(_ findings: [Finding]) {
        for finding in findings {
            precondition(!finding.summary.isEmpty && !finding.component.isEmpty, "a finding without a summary")
            _ = finding.json.serialized()
        }
        _ = DiagnosisReport(findings: findings, elapsed: .zero).json.serialized()
    }
}
