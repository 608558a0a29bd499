import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// Events as lines with the time since the start (or JSON lines); the drain's countdown
/// rewrites one line on a terminal.
final class RolloutPrinter: Sendable {
    let json: Bool
    let terminal = isatty(STDOUT_FILENO) == 1
    let started = ContinuousClock.now
    private let progressShown = NIOLockedValueBox(false)

    init(json: Bool) { self.json = json }

    private func write(_ line: String, progress: Bool = false) {
        let text = SecretRegistry.shared.scrub(line)
        progressShown.withLockedValue { shown in
            if terminal && progress {
                FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)".utf8))
                shown = true
                return
            }
            FileHandle.standardOutput.write(Data((((shown && terminal) ? "\n" : "") + "\(text)\n").utf8))
            shown = false
        }
    }

    func show(_ event: RolloutEvent) {
        if json { return write(event.json.serialized()) }
        let clock = String(format: "%6.1fs", (ContinuousClock.now - started).seconds)
        let mark: String =
            switch event.kind {
            case .done: "✓"
            case .failed: "✗"
            case .warning: "!"
            default: " "
            }
        let who = event.server.map { "\($0): " } ?? ""
        // Off a terminal, progress is a line each time the count changes.
        write("\(clock) \(mark) \(who)\(event.message)", progress: event.kind == .progress)
    }

    func note(_ text: String) {
        show(RolloutEvent(.warning, step: "interrupt", text))
    }

    func preflight(_ result: RolloutPreflight, dryRun: Bool) {
        if json {
            write(JSONValue.object([
                ("event", .string("preflight")), ("passed", .bool(result.passed)), ("order", .array(result.order.map(JSONValue.string))),
                ("problems", .array(result.problems.map(JSONValue.string))), ("notes", .array(result.notes.map(JSONValue.string))),
                ("servers", .array(result.observations.map { observation in
                    .object([
                        ("name", .string(observation.name)), ("serving", .bool(observation.isServing)),
                        ("connections", observation.connections.map(JSONValue.int) ?? .null), ("version", observation.version.map(JSONValue.string) ?? .null),
                        ("haproxy", observation.haproxyState.map { .string($0.rawValue) } ?? .null),
                        ("headroom", observation.headroom.map(JSONValue.int) ?? .null),
                    ])
                })),
            ]).serialized())
            return
        }
        write("preflight:")
        for observation in result.observations {
            let facts = [
                observation.isServing ? "serving" : "NOT serving", "HAProxy \(observation.haproxyState?.rawValue ?? "?")",
                "\(observation.connections.map(String.init) ?? "?") conns", observation.headroom.map { "room for \($0)" } ?? "room unknown",
                "v\(observation.version ?? "?")",
            ]
            write("  \(observation.name): " + facts.joined(separator: ", "))
        }
        for note in result.notes { write("  note: \(note)") }
        for problem in result.problems { write("  ✗ \(problem)") }
        if !result.passed {
            write("preflight failed: nothing was changed")
            return
        }
        if dryRun {
            write("plan (nothing changed, --dry-run):")
            for (index, name) in result.order.enumerated() {
                write("  \(index + 1). \(name): HAProxy drain → drain signal → wait for 0 connections → start → /ready and UP → HAProxy ready → soak")
                for command in result.commands[name] ?? [] { write("       runs: \(command)") }
            }
        }
    }

    func finish(_ outcome: RolloutOutcome, seconds: Double) {
        let line: String
        switch outcome {
        case .completed: line = String(format: "rollout completed in %.1f s", seconds)
        case .stopped(let why): line = String(format: "rollout STOPPED after %.1f s, the fleet serving: %@", seconds, why)
        case .unsafe(let why): line = String(format: "rollout FAILED after %.1f s and left something not serving: %@", seconds, why)
        }
        if json {
            write(JSONValue.object([
                ("event", .string("finish")), ("outcome", .string(outcome == .completed ? "completed" : (outcome.exitCode == 1 ? "stopped" : "unsafe"))),
                ("message", .string(line)), ("seconds", .double(seconds)), ("exit", .int(Int(outcome.exitCode))),
            ]).serialized())
        } else {
            write(line)
        }
    }
}
