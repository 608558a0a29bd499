import Foundation
import OpsKit
import TestSupport
import Testing

/// Runbooks through the whisperctl binary: validation at file:line:column, the honest plan,
/// runs and resumes with their records, against real services where a step reads one.
@Suite struct RunbookTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every problem at once, each at its line and column; nothing runs.
    @Test func validationNamesEveryProblemWhereItIs() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-validate")
        defer { directory.remove() }
        let path = try directory.write(
            "broken.yml",
            """
            name: broken
            description: every mistake at once
            parameters:
              server:
                type: server
            steps:
              - name: triage
                kind: diag
              - name: route
                kind: branch
                choices:
                  - when: steps.triage.found("redis.maxmemory_policy")
                    goto: fix
              - name: fix
                kind: shel
              - name: fix
                kind: shell
                with:
                  run: echo hi
              - name: typo
                kind: note
                when: params.sever == "ws1"
                with:
                  message: "${steps.nothing.ok}"
                  verdikt: ok

            """)
        let run = try await WhisperctlBinary.run(["runbook", "validate", path], in: directory)
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        let expected = [
            "broken.yml:9:5: branch 'route': needs a default",
            "broken.yml:12:15: route.choices: no finding 'redis.maxmemory_policy' in diag's catalogue (did you mean 'redis.maxmemory-policy'?)",
            "broken.yml:15:11: steps[2].kind: unknown step kind 'shel' (did you mean 'shell'?)",
            "broken.yml:16:5: step name 'fix' is used twice (first at line 14)",
            "broken.yml:16:5: step 'fix': shell needs with.preview",
            "broken.yml:22:11: typo.when: no parameter 'sever' (did you mean 'server'?)",
            "broken.yml:24:19: typo.with.message: no step 'nothing' before this one",
            "broken.yml:25:7: steps[4].with.verdikt: note takes no argument 'verdikt' (did you mean 'verdict'?)",
        ]
        for line in expected { #expect(run.stdout.contains(line), "missing: \(line)\n\(run.stdout)") }
        // A malformed runbook never starts a step.
        let started = try await WhisperctlBinary.run(["runbook", "run", path, "--yes"], in: directory)
        #expect(started.status == 2 && started.stderr.contains("nothing was run") && !started.stderr.contains("→"), "\(started.stderr)")
        // The shipped ones are valid.
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("runbooks").path).filter { $0.hasSuffix(".yml") }
        #expect(!shipped.isEmpty)
        let all = try await WhisperctlBinary.run(["runbook", "validate"] + shipped.map { Self.root.appendingPathComponent("runbooks/\($0)").path }, in: directory)
        #expect(all.status == 0, "\(all.stdout)")
    }

    /// The inventory's runbooks.dirs are searched before the shipped runbooks, and config check
    /// names a directory that is not there and a frontend that is not a WebSocket URL.
    @Test func theInventoryNamesItsOwnRunbookDirectories() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-dirs")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("ours"), withIntermediateDirectories: true)
        try directory.write("ours/restart-cache.yml", "name: restart-cache\ndescription: ours\nsteps:\n  - name: say\n    kind: note\n    with:\n      message: ours\n")
        try directory.write("whisperctl.yml", "deployment: dirs\nservers: []\nhaproxy:\n  frontend: ws://127.0.0.1:1/ws\nrunbooks:\n  dirs: [ours]\n")
        let list = try await WhisperctlBinary.run(["runbook", "list"], in: directory)
        #expect(list.status == 0 && list.stdout.contains("restart-cache") && list.stdout.contains("first-deployment"), "\(list.stdout)\(list.stderr)")
        let run = try await WhisperctlBinary.run(["runbook", "run", "restart-cache"], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        try directory.write("whisperctl.yml", "deployment: dirs\nservers: []\nhaproxy:\n  frontend: https://chat.test/ws\nrunbooks:\n  dirs: [missing]\n")
        let check = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(check.status != 0 && check.stdout.contains("runbooks.dirs: no such directory") && check.stdout.contains("haproxy.frontend: URL"), "\(check.stdout)\(check.stderr)")
    }

    /// The plan runs reads, never changes; a shell is NOT PREVIEWED; a read after a change is
    /// known only after it; the exit status separates read-only, changes and unpreviewable.
    @Test func thePlanIsHonest() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-plan")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: plan\nservers: []\n")
        let marker = directory.file("touched")
        let path = try directory.write(
            "mixed.yml",
            """
            name: mixed
            description: a read, a shell, a read after it
            steps:
              - name: first
                kind: note
                with:
                  message: before
              - name: change
                kind: shell
                with:
                  run: touch \(marker)
                  preview: touches a file
              - name: after
                kind: status
              - name: gate
                kind: confirm
                with:
                  message: go on?
            """)
        let plan = try await WhisperctlBinary.run(["runbook", "plan", path], in: directory)
        #expect(plan.status == 3, "a shell cannot be previewed: \(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("UNKNOWN      change (shell): NOT PREVIEWED: shell: touches a file"), "\(plan.stdout)")
        #expect(plan.stdout.contains("known after step 'change' runs"), "\(plan.stdout)")
        #expect(plan.stdout.contains("GATE") && plan.stdout.contains("--yes does not answer it"), "\(plan.stdout)")
        #expect(plan.stdout.contains("4 steps: 2 READ, 1 GATE, 1 UNKNOWN"), "\(plan.stdout)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the plan ran the shell step")
        let readOnly = try directory.write("read.yml", "name: read\ndescription: x\nsteps:\n  - name: look\n    kind: status\n")
        let quiet = try await WhisperctlBinary.run(["runbook", "plan", readOnly, "--json"], in: directory)
        #expect(quiet.status == 0, "read only: \(quiet.stdout)")
    }

    /// A saved plan is refused once the runbook it was made from changed, and says what moved.
    @Test func aStalePlanIsRefused() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-stale")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: stale\nservers: []\n")
        let text = "name: stale\ndescription: one\nsteps:\n  - name: say\n    kind: note\n    with:\n      message: hello\n"
        let path = try directory.write("stale.yml", text)
        let saved = directory.file("plan.json")
        #expect(try await WhisperctlBinary.run(["runbook", "plan", path, "--out", saved], in: directory).status == 0)
        #expect(try await WhisperctlBinary.run(["runbook", "run", path, "--plan", saved], in: directory).status == 0, "a current plan runs")
        try directory.write("stale.yml", text.replacingOccurrences(of: "hello", with: "goodbye"))
        let refused = try await WhisperctlBinary.run(["runbook", "run", path, "--plan", saved], in: directory)
        #expect(refused.status == 1 && refused.stderr.contains("is stale") && refused.stderr.contains("the runbook \(path) changed"), "\(refused.stderr)")
        #expect(refused.stderr.contains("step say: planned with"), "\(refused.stderr)")
    }

    /// The run id a run prints first ("run ID: NAME"), in its stderr or in `text` (a terminal's
    /// output, whose lines end \r\n: one Character in Swift).
    static func runID(_ run: ProgramRun, in text: String? = nil) -> String? {
        (text ?? run.stderr).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
            .first { $0.hasPrefix("run ") }.map { String($0.dropFirst(4).prefix { $0 != ":" }) }
    }

    /// whisperctl killed in the middle of a change: the step is in doubt; resume asks its check
    /// and does not repeat it. A failing step stops the run; resume --retry-step runs it again.
    /// A changed runbook is refused on resume.
    @Test func killedInTheMiddleResumesWithoutRepeating() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-resume")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: resume\nservers: []\n")
        let count = directory.file("count")
        let gate = directory.file("gate")
        let path = try directory.write(
            "resume.yml",
            """
            name: resume
            description: a change, then a step that fails until a file exists
            steps:
              - name: append
                kind: shell
                with:
                  run: echo once >> \(count); sleep 15
                  preview: appends a line
                  check: test -s \(count)
              - name: guarded
                kind: shell
                with:
                  run: test -e \(gate)
                  preview: fails until the gate file exists
              - name: done
                kind: note
                with:
                  message: finished
            """)
        // Killed once the change is under way (its line written), however long it took to start.
        let killed = try await WhisperctlBinary.run(["runbook", "run", path, "--yes"], in: directory, signal: SIGKILL, once: "the change started") {
            FileManager.default.fileExists(atPath: count)
        }
        #expect(killed.status != 0)
        let id = try #require(Self.runID(killed), "\(killed.stderr)")
        let shown = try await WhisperctlBinary.run(["runbook", "runs", "show", id, "--json"], in: directory)
        #expect(shown.stdout.contains("\"state\" : \"running\""), "the killed step is recorded as sent: \(shown.stdout)")
        // Wait for the orphaned shell to finish its sleep, so only one line is ever written.
        let resumed = try await WhisperctlBinary.run(["runbook", "resume", id, "--yes"], in: directory)
        #expect(resumed.status == 2, "the guarded step fails: \(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stderr.contains("check found the effect in place: not repeated"), "\(resumed.stderr)")
        #expect(try String(contentsOfFile: count, encoding: .utf8) == "once\n", "the in-doubt change ran once")
        // Without --retry-step, a failed change is not run again.
        let refused = try await WhisperctlBinary.run(["runbook", "resume", id, "--yes"], in: directory)
        #expect(refused.status == 2 && refused.stdout.contains("--retry-step"), "\(refused.stdout)\(refused.stderr)")
        // A changed runbook is refused, with the difference.
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try directory.write("resume.yml", original.replacingOccurrences(of: "test -e \(gate)", with: "true"))
        let changed = try await WhisperctlBinary.run(["runbook", "resume", id, "--retry-step", "--yes"], in: directory)
        #expect(changed.status == 1 && changed.stderr.contains("changed since run") && changed.stderr.contains("+ "), "\(changed.stderr)")
        try directory.write("resume.yml", original)
        try directory.write("gate", "")
        let retried = try await WhisperctlBinary.run(["runbook", "resume", id, "--retry-step", "--yes"], in: directory)
        #expect(retried.status == 0 && retried.stdout.contains("succeeded"), "\(retried.stdout)\(retried.stderr)")
        #expect(try String(contentsOfFile: count, encoding: .utf8) == "once\n")
        let history = try await WhisperctlBinary.run(["runbook", "runs", "show", id], in: directory)
        #expect(history.stdout.contains("resume: checked append: in place") && history.stdout.contains("resume: retry-step"), "\(history.stdout)")
    }

    /// A secret parameter reaches a shell step through its environment; its value is in no
    /// record, no output and no audit line.
    @Test func aSecretNeverReachesTheRecordOrTheAuditLog() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-secret")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: secret\nservers: []\naudit:\n  log: audit.log\n")
        let path = try directory.write(
            "secret.yml",
            """
            name: secret
            description: uses a token
            parameters:
              token:
                type: secret
                from: env:DEPLOY_TOKEN
            steps:
              - name: use
                kind: shell
                with:
                  run: echo "token is $TOKEN"
                  preview: prints the token
                  env: ["TOKEN=${params.token}"]
            """)
        let secret = "s3cr3t-value-\(UInt32.random(in: 0...UInt32.max))"
        let run = try await WhisperctlBinary.run(["runbook", "run", path, "--yes"], environment: ["DEPLOY_TOKEN": secret], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("token is ***"), "\(run.stderr)")
        let id = try #require(Self.runID(run))
        let record = try String(contentsOfFile: directory.file("runs/\(id).json"), encoding: .utf8)
        #expect(record.contains("env:DEPLOY_TOKEN") && !record.contains(secret), "\(record)")
        let audit = try String(contentsOfFile: directory.file("audit.log"), encoding: .utf8)
        #expect(audit.contains("\"runbook_run\":\"\(id)\"") && !audit.contains(secret), "\(audit)")
        for output in [run.stdout, run.stderr] { #expect(!output.contains(secret)) }
        let onCommandLine = try await WhisperctlBinary.run(["runbook", "run", path, "--param", "token=x"], in: directory)
        #expect(onCommandLine.status == 64 && onCommandLine.stderr.contains("never given on the command line"), "\(onCommandLine.stderr)")
    }

    /// The high-memory tree against a real Redis at its default policy (noeviction): diag's
    /// finding picks the branch, the verdict is the guide's fix, and the exit status is the
    /// verdict's.
    @Test func theHighMemoryTreeBranchesOnARealFinding() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let directory = try TemporaryDirectory(prefix: "runbook-memory")
            defer { directory.remove() }
            try directory.write("whisperctl.yml", "deployment: memory\nservers: []\nredis:\n  addr: \(redis.address)\n")
            let plan = try await WhisperctlBinary.run(["runbook", "plan", "high-memory"], in: directory)
            #expect(plan.status == 0 && plan.stdout.contains("route (branch): goes to eviction"), "\(plan.stdout)\(plan.stderr)")
            let run = try await WhisperctlBinary.run(["runbook", "run", "high-memory"], in: directory)
            #expect(run.status == 1, "a warning verdict: \(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("verdict warning") && run.stdout.contains("allkeys-lru"), "\(run.stdout)")
            #expect(run.stderr.contains("SKIPPED fine: the verdict of 'eviction' ends the runbook"), "\(run.stderr)")
        }
    }
}
