import Foundation

/// How a wait ended, as its output and record say.
/// A wait's condition names what an earlier step has not produced yet (in a plan).
struct ConditionUnknown: Error, CustomStringConvertible {
    var reason: String
    var description: String { "the condition cannot be evaluated: \(reason)" }
}

struct WaitFailed: Error, CustomStringConvertible {
    var endedBy: String
    var description: String
}

/// `wait.http`: until a URL answers the expected status (and body text), every `every`.
struct HTTPWaitStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .wait }

    /// `upgrade: websocket`: the guide's upgrade request (101 Switching Protocols expected).
    private var upgrade: Bool { arguments.string("upgrade") != nil }
    private var expected: Int { Int((try? arguments.number("status")) ?? (upgrade ? 101 : 200)) ?? 200 }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let url = arguments.string("url") ?? ""
        let what = "until \(upgrade ? "a WebSocket upgrade of" : "GET") \(url) answers \(expected)" + (arguments.string("contains").map { " with '\($0)'" } ?? "") + ", for at most \(context.timeout.humanReadable)"
        let (status, passes) = await probe(in: context)
        return RunbookPreview(effect: .wait, description: what, current: "now: \(status) (\(passes ? "would pass" : "would wait"))")
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let every = try arguments.duration("every", default: .seconds(1))
        let clock = ContinuousClock()
        let deadline = clock.now + context.timeout
        var attempts = 0
        while true {
            attempts += 1
            let (status, passes) = await probe(in: context)
            if passes {
                return RunbookStepOutput(outputs: ["status": .string(status), "attempts": .number(Double(attempts))], summary: "\(status) after \(attempts) attempt\(attempts == 1 ? "" : "s")")
            }
            if clock.now + every > deadline || context.interruption.signal != nil {
                throw WaitFailed(endedBy: "timeout", description: "still \(status) after \(attempts) attempts in \(context.timeout.humanReadable)")
            }
            try await Task.sleep(for: every)
        }
    }

    private func probe(in context: RunbookStepContext) async -> (String, Bool) {
        let url = arguments.string("url") ?? ""
        if upgrade {
            do {
                let answer = try await WebSocketUpgradeProbe.probe(url, timeout: context.environment.timeout)
                return (answer.summary, answer.status == expected && (expected != 101 || answer.acceptValid))
            } catch {
                return ("\(error)", false)
            }
        }
        do {
            let response = try await context.environment.http.get(url, timeout: context.environment.timeout, insecureTLS: context.environment.insecureTLS)
            var passes = response.status == expected
            if let text = arguments.string("contains") { passes = passes && response.text.contains(text) }
            return ("HTTP \(response.status)", passes)
        } catch {
            return ("\(error)", false)
        }
    }
}

/// `wait.metric`: a condition on the servers' /metrics that must hold for `hold`, sampled every
/// `every`. A failing sample restarts the hold; `abort_if` ends it at once; no data fails or
/// keeps waiting (`on_no_data`). The output says which rule ended it.
struct MetricWaitStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .wait }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let hold = (try? arguments.duration("hold", default: .zero)) ?? .zero
        let every = (try? arguments.duration("every", default: .seconds(5))) ?? .seconds(5)
        var what = "until \(arguments.values["condition"].map { _ in conditionText } ?? "") on \(selector)"
        what += hold > .zero ? " holds for \(hold.humanReadable)" : " holds once"
        what += ", sampled every \(every.humanReadable), for at most \(context.timeout.humanReadable)"
        var sampler = Sampler(step: self)
        do {
            _ = try await sampler.sample(in: context)
            if needsTwoSamples { try await Task.sleep(for: .seconds(1)) }
            guard let value = try await sampler.sample(in: context) ?? nil else {
                return RunbookPreview(effect: .wait, description: what, current: "now: no data")
            }
            let now = "now: \(RunbookValue.number(value).text)"
            do {
                let passes = try holds(value, in: context)
                return RunbookPreview(effect: .wait, description: what, current: "\(now) (\(passes ? "would pass" : "would wait"))")
            } catch let unknown as ConditionUnknown {
                return RunbookPreview(effect: .wait, description: what, current: "\(now); whether it passes is \(unknown.reason)")
            }
        } catch {
            return RunbookPreview(effect: .wait, description: what, problem: "\(error)")
        }
    }

    var conditionText: String { arguments.string("condition_source") ?? "the condition" }

    var selector: String {
        var text = arguments.string("metric") ?? "?"
        if let quantile = arguments.string("quantile") { text = "histogram_quantile(\(quantile), \(text))" }
        if arguments.string("rate") == "true" { text = "rate(\(text))" }
        text = "\(arguments.string("aggregate") ?? "sum")(\(text))"
        return text + " over " + (arguments.string("server") ?? "every server")
    }

    var needsTwoSamples: Bool { arguments.string("rate") == "true" || arguments.string("quantile") != nil }

    func holds(_ value: Double, in context: RunbookStepContext) throws -> Bool {
        switch try context.evaluate("condition", ["value": .number(value)]) {
        case .known(let result): return try RunbookExpression.truth(result, offset: 0)
        case .unknown(let reason): throw ConditionUnknown(reason: reason)
        }
    }

    func aborts(_ value: Double, in context: RunbookStepContext) throws -> Bool {
        guard arguments.values["abort_if"] != nil else { return false }
        switch try context.evaluate("abort_if", ["value": .number(value)]) {
        case .known(let result): return try RunbookExpression.truth(result, offset: 0)
        case .unknown: return false
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let hold = try arguments.duration("hold", default: .zero)
        let every = try arguments.duration("every", default: .seconds(5))
        let keepWaiting = arguments.string("on_no_data") == "keep_waiting"
        let clock = ContinuousClock()
        let deadline = clock.now + context.timeout
        var sampler = Sampler(step: self)
        var passingSince: ContinuousClock.Instant?
        var samples = 0
        var last: Double?
        func output(_ endedBy: String) -> [String: RunbookValue] {
            ["value": last.map(RunbookValue.number) ?? .null, "ended_by": .string(endedBy), "samples": .number(Double(samples))]
        }
        while true {
            let sampled = try await sampler.sample(in: context)
            let now = clock.now
            switch sampled {
            case .none:
                // The first sample of a rate or quantile: a baseline, not data.
                break
            case .some(.none):
                samples += 1
                passingSince = nil
                if !keepWaiting { throw WaitFailed(endedBy: "no_data", description: "no data for \(selector) (on_no_data: fail)") }
            case .some(.some(let value)):
                samples += 1
                last = value
                if try aborts(value, in: context) {
                    throw WaitFailed(endedBy: "abort_if", description: "abort_if held at \(RunbookValue.number(value).text) (sample \(samples))")
                }
                if try holds(value, in: context) {
                    let since = passingSince ?? now
                    passingSince = since
                    if now - since >= hold {
                        let summary = "\(RunbookValue.number(value).text): held" + (hold > .zero ? " for \(hold.humanReadable)" : "") + " (\(samples) samples)"
                        return RunbookStepOutput(outputs: output("held"), summary: summary)
                    }
                } else {
                    // Healthy for a while means no failing sample inside the hold.
                    passingSince = nil
                }
            }
            if now + every > deadline || context.interruption.signal != nil {
                let value = last.map { RunbookValue.number($0).text } ?? "no data"
                throw WaitFailed(endedBy: "timeout", description: "did not hold within \(context.timeout.humanReadable): last value \(value) after \(samples) samples")
            }
            try await Task.sleep(for: every)
        }
    }

    /// Reads the servers' /metrics and computes the selected value.
    struct Sampler {
        var step: MetricWaitStep
        var previous: (at: ContinuousClock.Instant, total: Double, buckets: [(le: Double, count: Double)])?

        /// nil: a baseline only (the first of a rate or quantile); .some(nil): no data.
        mutating func sample(in context: RunbookStepContext) async throws -> Double?? {
            let arguments = step.arguments
            let metric = try arguments.required("metric")
            let only = arguments.string("server")
            let servers = context.inventory.servers.filter { only == nil || $0.name == only }
            if let only, servers.isEmpty { throw StepCheckFailed(description: "no server '\(only)' in the inventory") }
            let (http, timeout) = (context.environment.http, context.environment.timeout)
            let families = await withTaskGroup(of: [MetricFamily]?.self) { group in
                // A server that does not answer is left out; none answering is no data.
                for server in servers { group.addTask { try? await FleetObserver.metrics(of: server, http: http, timeout: timeout) } }
                var all: [[MetricFamily]] = []
                for await result in group { if let result { all.append(result) } }
                return all
            }
            let at = ContinuousClock.now
            if let quantileText = arguments.string("quantile") {
                guard let quantile = Double(quantileText) else { throw StepCheckFailed(description: "with.quantile '\(quantileText)' is not a number") }
                let perServer = families.compactMap { $0.first { $0.name == metric } }.map { MetricMath.buckets(of: $0) }
                guard !perServer.isEmpty else { return .some(nil) }
                let summed = Self.sum(perServer)
                defer { previous = (at, 0, summed) }
                guard let previous else { return nil }
                let delta = MetricMath.delta(previous.buckets, summed)
                guard (delta.last?.count ?? 0) > 0 else { return .some(nil) }
                return .some(MetricMath.histogramQuantile(quantile, buckets: delta))
            }
            let values = families.compactMap { families -> Double? in
                guard let family = families.first(where: { $0.name == metric }) else { return nil }
                return family.samples.filter { $0.name == metric || $0.name == metric + "_total" }.map(\.value).reduce(0, +)
            }
            guard !values.isEmpty else { return .some(nil) }
            let combined: Double =
                switch arguments.string("aggregate") {
                case "max": values.max()!
                case "min": values.min()!
                default: values.reduce(0, +)
                }
            if arguments.string("rate") == "true" {
                defer { previous = (at, combined, []) }
                guard let previous else { return nil }
                let seconds = (at - previous.at).seconds
                return .some(seconds > 0 ? max(0, combined - previous.total) / seconds : 0)
            }
            return .some(combined)
        }

        static func sum(_ sets: [[(le: Double, count: Double)]]) -> [(le: Double, count: Double)] {
            var totals: [Double: Double] = [:]
            for set in sets { for bucket in set { totals[bucket.le, default: 0] += bucket.count } }
            return totals.keys.sorted().map { ($0, totals[$0]!) }
        }
    }
}

/// `haproxy.wait`: until a condition over one server's HAProxy stats holds
/// (`stats.sessions == 0`, `stats.status == "UP"`).
struct HAProxyWaitStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .wait }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let server = arguments.string("server") ?? "?"
        let what = "until \(arguments.string("until_source") ?? "the condition") for \(context.inventory.haproxyBackend)/\(server), for at most \(context.timeout.humanReadable)"
        do {
            let stats = try await HAProxyStatsReader.stats(of: server, in: context)
            do {
                let passes = try holds(stats, in: context)
                return RunbookPreview(effect: .wait, description: what, current: "now: \(Self.describe(stats)) (\(passes ? "would pass" : "would wait"))")
            } catch let unknown as ConditionUnknown {
                return RunbookPreview(effect: .wait, description: what, current: "now: \(Self.describe(stats)); whether it passes is \(unknown.reason)")
            }
        } catch {
            return RunbookPreview(effect: .wait, description: what, problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let server = try arguments.required("server")
        let every = try arguments.duration("every", default: .seconds(1))
        let clock = ContinuousClock()
        let deadline = clock.now + context.timeout
        while true {
            let stats = try await HAProxyStatsReader.stats(of: server, in: context)
            if try holds(stats, in: context) {
                return RunbookStepOutput(outputs: ["status": stats["status"] ?? .null, "sessions": stats["sessions"] ?? .null], summary: Self.describe(stats))
            }
            if clock.now + every > deadline || context.interruption.signal != nil {
                throw WaitFailed(endedBy: "timeout", description: "still \(Self.describe(stats)) after \(context.timeout.humanReadable)")
            }
            try await Task.sleep(for: every)
        }
    }

    private func holds(_ stats: [String: RunbookValue], in context: RunbookStepContext) throws -> Bool {
        var names: [String: RunbookValue] = [:]
        for (field, value) in stats { names["stats.\(field)"] = value }
        switch try context.evaluate("until", names) {
        case .known(let value): return try RunbookExpression.truth(value, offset: 0)
        case .unknown(let reason): throw ConditionUnknown(reason: reason)
        }
    }

    static func describe(_ stats: [String: RunbookValue]) -> String {
        RunbookStepKind.haproxyStatsFields.map { "\($0) \(stats[$0]?.text ?? "-")" }.joined(separator: ", ")
    }
}

/// One server's row of HAProxy's stats: through the runtime API when the inventory names it,
/// else the stats page's CSV.
enum HAProxyStatsReader {
    static func stats(of server: String, in context: RunbookStepContext) async throws -> [String: RunbookValue] {
        let inventory = context.inventory
        let runtime = try inventory.haproxyRuntimeAPI.map { try HAProxyRuntimeAPI(parsing: $0, timeout: context.environment.timeout) }
        guard let source = HAProxyStatsSource(runtime: runtime, statsURL: inventory.haproxyStatsURL) else {
            throw StepCheckFailed(description: "no haproxy.runtime_api or haproxy.stats_url in the inventory")
        }
        let rows = try await source.read(in: context.environment).servers(ofBackend: inventory.haproxyBackend)
        guard let row = rows.first(where: { $0.service == server }) else {
            throw StepCheckFailed(description: "HAProxy's backend \(inventory.haproxyBackend) has no server \(server); it has \(rows.map(\.service).joined(separator: ", "))")
        }
        let status = row.status.split(separator: " ").first.map(String.init) ?? row.status
        return [
            "status": .string(status), "sessions": row.currentSessions.map { .number(Double($0)) } ?? .null,
            "queue": row.fields["qcur"].flatMap(Double.init).map(RunbookValue.number) ?? .null,
            "weight": row.weight.map { .number(Double($0)) } ?? .null,
        ]
    }
}
