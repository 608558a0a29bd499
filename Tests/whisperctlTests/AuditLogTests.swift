import Foundation
import OpsKit
import TestSupport
import Testing

/// The audit log's hash chain, written by real runs and read back by `whisperctl audit-log`.
@Suite struct AuditLogTests {
    /// Runs chain their lines; `--run` picks one run's; an edited line and a removed one each
    /// break the chain where they were, and `--verify` exits 2 naming the line.
    @Test func aTamperedLogFailsVerify() async throws {
        let directory = try TemporaryDirectory(prefix: "audit-chain")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: chain\nservers: []\naudit:\n  log: audit.log\n")
        let path = try directory.write("hello.yml", "name: hello\ndescription: one note\nsteps:\n  - name: say\n    kind: note\n    with:\n      message: hello\n")
        var ids: [String] = []
        for _ in 0..<3 {
            let run = try await WhisperctlBinary.run(["runbook", "run", path, "--yes"], in: directory)
            #expect(run.status == 0, "\(run.stderr)")
            ids.append(try #require(RunbookTests.runID(run)))
        }
        let log = directory.file("audit.log")
        let intact = try await WhisperctlBinary.run(["audit-log", "--verify"], in: directory)
        #expect(intact.status == 0 && intact.stdout.contains("3 lines, hash chain intact: every line"), "\(intact.stdout)\(intact.stderr)")

        let one = try await WhisperctlBinary.run(["audit-log", "--run", ids[1], "--json"], in: directory)
        let lines = one.stdout.split(separator: "\n")
        #expect(one.status == 0 && lines.count == 1 && lines[0].contains("\"runbook_run\":\"\(ids[1])\""), "\(one.stdout)")
        let table = try await WhisperctlBinary.run(["audit-log", "--since", "1h"], in: directory)
        #expect(table.status == 0 && ids.allSatisfy(table.stdout.contains), "\(table.stdout)")
        let none = try await WhisperctlBinary.run(["audit-log", "--run", "no-such-run"], in: directory)
        #expect(none.status == 1, "\(none.stdout)\(none.stderr)")

        let original = try String(contentsOfFile: log, encoding: .utf8)
        try #require(original.split(separator: "\n").count == 3, "\(original)")
        var edited = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        edited[1] = edited[1].replacingOccurrences(of: "\"result\":\"ok\"", with: "\"result\":\"failed\"")
        #expect(edited[1] != original.split(separator: "\n")[1], "the edit changed nothing")
        try edited.joined(separator: "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let broken = try await WhisperctlBinary.run(["audit-log", "--verify"], in: directory)
        #expect(broken.status == 2 && broken.stdout.contains("BROKEN") && broken.stdout.contains("line 3: prev"), "\(broken.stdout)")
        let json = try await WhisperctlBinary.run(["audit-log", "--verify", "--json"], in: directory)
        let report = try JSONValue.parse(Array(json.stdout.utf8))
        guard case .array(let breaks)? = report["breaks"] else { Issue.record("no breaks: \(json.stdout)"); return }
        #expect(report["intact"] == .bool(false) && breaks.first?["line"] == .int(3), "\(json.stdout)")

        var removed = original.split(separator: "\n").map(String.init)
        removed.remove(at: 1)
        try (removed.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let cut = try await WhisperctlBinary.run(["audit-log", "--verify"], in: directory)
        #expect(cut.status == 2 && cut.stdout.contains("line 2: prev"), "\(cut.stdout)")
    }

    /// Writers in parallel, each with its own descriptor as separate processes have, never chain
    /// two lines to the same one.
    @Test func concurrentWritersKeepOneChain() async throws {
        let directory = try TemporaryDirectory(prefix: "audit-concurrent")
        defer { directory.remove() }
        // A log begun before the chain: its unchained lines are accepted as the beginning.
        let path = try directory.write("audit.log", "{\"time\":\"2026-01-01T00:00:00Z\",\"command\":\"old\"}\n")
        let log = AuditLog(path: path, deployment: "concurrent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in 0..<25 {
                        try log.record(AuditLog.Entry(command: "test", action: "write", target: "\(writer)-\(index)", outcome: .succeeded))
                    }
                }
            }
            try await group.waitForAll()
        }
        let verification = try AuditLogVerification(path: path)
        #expect(verification.lines == 101 && verification.chainedFrom == 2 && verification.intact, "\(verification.breaks)")
        #expect(try log.records().filter { $0.command == "test" }.count == 100)
    }
}
