import Foundation

/// Where HAProxy's per-server stats are read from: the runtime API when the inventory gives it
/// (the same socket drains and readies), else the stats page's CSV. `diag` and the runbook steps
/// read through this one choice.
enum HAProxyStatsSource: Sendable, CustomStringConvertible {
    case runtime(HAProxyRuntimeAPI)
    case page(String)

    /// nil when neither is configured.
    init?(runtime: HAProxyRuntimeAPI?, statsURL: String?) {
        if let runtime {
            self = .runtime(runtime)
        } else if let statsURL {
            self = .page(statsURL)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .runtime(let runtime): "runtime API \(runtime.address)"
        case .page(let url): url
        }
    }

    func read(in environment: ProbeEnvironment) async throws -> HAProxyStats {
        switch self {
        case .runtime(let runtime):
            return try HAProxyStats(csv: try await runtime.execute("show stat"))
        case .page(let url):
            let csvURL = HAProxyProbe(statsURL: url, backend: "").csvURL
            return try HAProxyStats(csv: try await environment.http.get(csvURL, timeout: environment.timeout, insecureTLS: environment.insecureTLS).text)
        }
    }
}
