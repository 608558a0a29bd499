import Foundation
import OpsKit
import TestSupport
import Testing

/// Every shipped runbook planned and run against real services: real whisper-servers behind a
/// real HAProxy (with its runtime API and restart drivers), Redis, NATS and PostgreSQL.
@Suite(.serialized) struct RunbookProcedureTests {
    /// The plan's footer: "N steps: 3 READ, 1 WAIT".
    static func footer(_ run: ProgramRun) -> String {
        run.stdout.split(separator: "\n").last { $0.contains(" steps: ") }.map(String.init) ?? "(no footer)\n\(run.stdout)\(run.stderr)"
    }

    /// One run's record, as `runbook runs show --json` gives it.
    static func record(_ id: String, in directory: TemporaryDirectory) async throws -> JSONValue {
        let shown = try await WhisperctlBinary.run(["runbook", "runs", "show", id, "--json"], in: directory)
        return try JSONValue.parse(Array(shown.stdout.utf8))
    }

    static func stepState(_ record: JSONValue, _ name: String) -> String? {
        guard case .array(let steps)? = record["steps"] else { return nil }
        return steps.last { $0["name"]?.stringValue == name }?["state"]?.stringValue
    }

    /// The fleet's runbooks: the first-deployment checks (the upgrade through HAProxy included),
    /// the troubleshooting trees, scale-out, a rolling update, an emergency rollback and an
    /// emergency shutdown and reopen, each planned then run; the confirms on a real terminal.
    @Test func theFleetRunbooksPlanAndRunAgainstRealServers() async throws {
        try await RolloutFleet.with { fleet in
            func writeInventory(_ version: String) throws {
                try fleet.writeInventory(version: version)
                let path = fleet.directory.file("whisperctl.yml")
                let text = try String(contentsOfFile: path, encoding: .utf8)
                try text.replacingOccurrences(of: "haproxy:\n", with: "haproxy:\n  frontend: ws://127.0.0.1:\(fleet.haproxy.frontendPort)/ws\n")
                    .write(toFile: path, atomically: true, encoding: .utf8)
            }
            try writeInventory("0.2.0")
            let directory = fleet.directory
            func run(_ arguments: [String]) async throws -> ProgramRun { try await WhisperctlBinary.run(arguments, in: directory) }

            // Plans: reads run, the rest is classed; the counts are what the closing note quotes.
            let expectations: [(String, [String], Int32)] = [
                ("first-deployment", [], 0), ("connection-refused", [], 0), ("websocket-failed", [], 0), ("match-timeout", [], 0),
                ("high-latency", [], 0), ("high-memory", [], 0), ("scale-out", ["--param", "server=ws2"], 2),
                ("rolling-update", ["--param", "version=0.2.0"], 2), ("emergency-rollback", ["--param", "version=0.1.0"], 2),
                ("emergency-shutdown", [], 2),
            ]
            for (name, parameters, status) in expectations {
                let plan = try await run(["runbook", "plan", name] + parameters)
                #expect(plan.status == status, "\(name): \(plan.stdout)\(plan.stderr)")
                print("plan \(name): \(Self.footer(plan))")
            }
            let rolling = try await run(["runbook", "plan", "rolling-update", "--param", "version=0.2.0"])
            #expect(rolling.stdout.contains("DESTRUCTIVE") && rolling.stdout.contains("ws1: drain in") && rolling.stdout.contains("preflight passes now"), "\(rolling.stdout)")

            // First deployment: every check in order, the upgrade through HAProxy answered 101.
            let started = ContinuousClock.now
            let first = try await run(["runbook", "run", "first-deployment"])
            print("first-deployment on a healthy stack: \((ContinuousClock.now - started).seconds) s, exit \(first.status): \(first.stdout)")
            let firstID = try #require(RunbookTests.runID(first), "\(first.stderr)")
            #expect(first.stderr.contains("HTTP 101 Switching Protocols"), "\(first.stderr)")
            #expect(Self.stepState(try await Self.record(firstID, in: directory), "upgrade") == "succeeded")
            #expect([0, 1].contains(first.status) && first.stdout.contains("verdict"), "ok, or a diag warning of this machine: \(first.stdout)\(first.stderr)")

            for tree in ["connection-refused", "websocket-failed", "match-timeout"] {
                let result = try await run(["runbook", "run", tree])
                #expect(result.status == 0 && result.stdout.contains("verdict ok"), "\(tree): \(result.stdout)\(result.stderr)")
            }
            // No traffic: the relay p99 cannot be measured, and the verdict never says "fine". (A
            // machine this busy may make Redis round trips slow: that verdict is right too.)
            let latency = try await run(["runbook", "run", "high-latency"])
            let verdicts = ["verdict unknown: no message was relayed", "verdict warning: Redis is slow", "verdict warning: NATS is slow"]
            #expect(latency.status != 0 && verdicts.contains { latency.stdout.contains($0) }, "\(latency.stdout)\(latency.stderr)")
            let latencyID = try #require(RunbookTests.runID(latency))
            #expect(Self.stepState(try await Self.record(latencyID, in: directory), "p99") == "failed")

            let scale = try await run(["runbook", "run", "scale-out", "--param", "server=ws2", "--yes"])
            #expect(scale.status == 0 && scale.stdout.contains("verdict ok"), "\(scale.stdout)\(scale.stderr)")

            // A rolling update to 0.2.0: both servers restarted and reporting it.
            let pids = fleet.names.map { fleet.pid($0) }
            let update = try await run(["runbook", "run", "rolling-update", "--param", "version=0.2.0", "--param", "soak=1s", "--param", "idle_soak_ok=true", "--yes"])
            #expect(update.status == 0, "\(update.stdout)\(update.stderr)")
            for name in fleet.names { #expect(await fleet.health(name)?["version"] == .string("0.2.0"), "\(name)") }
            #expect(fleet.names.map { fleet.pid($0) } != pids)

            // Emergency rollback: its confirm is not answered by --yes; a person types y.
            try writeInventory("0.1.0")
            let refused = try await run(["runbook", "run", "emergency-rollback", "--param", "version=0.1.0", "--yes"])
            #expect(refused.status == 1 && refused.stderr.contains("--yes does not answer it"), "\(refused.stdout)\(refused.stderr)")
            #expect(await fleet.health("ws1")?["version"] == .string("0.2.0"), "nothing was rolled back")
            let back = try await WhisperctlBinary.runOnTerminal(["runbook", "run", "emergency-rollback", "--param", "version=0.1.0", "--yes"], answering: "y", in: directory)
            #expect(back.status == 0, "\(back.stdout)")
            for name in fleet.names { #expect(await fleet.health(name)?["version"] == .string("0.1.0"), "\(name)") }

            // Emergency shutdown drains every server; reopen puts them back.
            let shutdown = try await WhisperctlBinary.runOnTerminal(["runbook", "run", "emergency-shutdown", "--yes"], answering: "y", in: directory)
            #expect(shutdown.status == 1 && shutdown.stdout.contains("verdict warning"), "\(shutdown.stdout)")
            for name in fleet.names { #expect(await fleet.haproxyStatus(name)?.hasPrefix("DRAIN") == true, "\(name) drained") }
            let reopen = try await WhisperctlBinary.runOnTerminal(
                ["runbook", "run", "emergency-shutdown", "--param", "action=reopen", "--yes"], answering: "y", in: directory)
            #expect(reopen.status == 0, "\(reopen.stdout)")
            for name in fleet.names { #expect(await fleet.haproxyStatus(name) == "UP", "\(name) back") }

            let audit = try await run(["audit-log", "--verify"])
            #expect(audit.status == 0, "\(audit.stdout)")
        }
    }

    /// The data runbooks against PostgreSQL: a migration with a backup first, then the restore
    /// drill into a scratch database with every row counted; each change in the audit log under
    /// its run.
    @Test func theDataRunbooksPlanAndRunAgainstPostgreSQL() async throws {
        let stack = try await DataSafetyTests.Stack.start(migrate: false)
        do {
            try await dataRunbooks(stack)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    private func dataRunbooks(_ stack: DataSafetyTests.Stack) async throws {
        let plan = try await stack.whisperctl(["runbook", "plan", "migration"])
        #expect(plan.status == 2 && plan.stdout.contains("001_create_abuse_reports"), "\(plan.stdout)\(plan.stderr)")
        print("plan migration: \(Self.footer(plan))")
        let migrated = try await stack.whisperctl(["runbook", "run", "migration", "--yes"])
        #expect(migrated.status == 0 && migrated.stdout.contains("schema at version 1"), "\(migrated.stdout)\(migrated.stderr)")

        try await stack.seed(rows: 25)
        // The drill creates its scratch database: the role needs CREATEDB, as a backup role would have.
        let admin = try await PostgresConnection.connect(url: stack.postgres.superuserURL)
        try await admin.query("ALTER ROLE \(PostgresServer.appUser) CREATEDB")
        admin.close()
        let drillPlan = try await stack.whisperctl(["runbook", "plan", "backup-restore-drill"])
        #expect(drillPlan.status == 2 && drillPlan.stdout.contains("known after step 'backup' runs"), "\(drillPlan.stdout)")
        print("plan backup-restore-drill: \(Self.footer(drillPlan))")
        let drill = try await stack.whisperctl(["runbook", "run", "backup-restore-drill", "--yes"])
        #expect(drill.status == 0 && drill.stdout.contains("whisper_restore_drill, as its manifest says"), "\(drill.stdout)\(drill.stderr)")
        let drillURL = stack.postgres.url.replacingOccurrences(of: "/whisper?", with: "/whisper_restore_drill?")
        let connection = try await PostgresConnection.connect(url: drillURL)
        let count = try await connection.query("SELECT count(*) FROM abuse_reports").rows.first?[0].int
        connection.close()
        #expect(count == 25, "the drill database holds the backup's rows")
        let id = try #require(RunbookTests.runID(drill))
        let lines = try await stack.whisperctl(["audit-log", "--run", id, "--json"])
        #expect(lines.stdout.contains("\"command\":\"backup\"") && lines.stdout.contains("\"command\":\"restore\""), "\(lines.stdout)")
        #expect(try await stack.whisperctl(["audit-log", "--verify"]).status == 0)
    }

    /// Certificate renewal plans on the PEM served: not due, so nothing would change and the
    /// run says so.
    @Test func certificateRenewalIsNotDueForAFreshCertificate() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-cert")
        defer { directory.remove() }
        let (certificate, key) = try CertificateFactory.selfSigned(commonName: "chat.example.test", expiresIn: 90 * 86_400)
        let pem = try directory.write("whisper.pem", certificate + key)
        try directory.write("whisperctl.yml", "deployment: cert\nservers: []\ncerts:\n  - \(pem)\n")
        let plan = try await WhisperctlBinary.run(["runbook", "plan", "cert-renewal", "--param", "domain=chat.example.test"], in: directory)
        #expect(plan.status == 0 && plan.stdout.contains("not_due"), "\(plan.stdout)\(plan.stderr)")
        print("plan cert-renewal (not due): \(Self.footer(plan))")
        let forced = try await WhisperctlBinary.run(["runbook", "plan", "cert-renewal", "--param", "domain=chat.example.test", "--param", "force=true"], in: directory)
        #expect(forced.status == 2 && forced.stdout.contains("MUTATE       renew (cert.renew): certbot certonly"), "\(forced.stdout)\(forced.stderr)")
        print("plan cert-renewal (forced): \(Self.footer(forced))")
        let run = try await WhisperctlBinary.run(["runbook", "run", "cert-renewal", "--param", "domain=chat.example.test", "--yes"], in: directory)
        #expect(run.status == 0 && run.stdout.contains("not due"), "\(run.stdout)\(run.stderr)")
    }

    /// A confirm nobody answers on a real terminal rejects when its wait ends: nothing after it
    /// runs, and the record says it timed out.
    @Test func anUnansweredConfirmRejectsOnATerminal() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-silent")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: silent\nservers: []\n")
        let after = directory.file("after")
        let path = try directory.write(
            "ask.yml",
            """
            name: ask
            description: a question nobody answers
            steps:
              - name: q
                kind: confirm
                with: {message: "go on?", wait: 2s}
              - name: then
                kind: shell
                with: {run: "touch \(after)", preview: touches}
            """)
        let run = try await WhisperctlBinary.runOnTerminal(["runbook", "run", path, "--yes"], answering: nil, in: directory)
        #expect(run.status == 1 && run.stdout.contains("(rejects in 2 s)") && run.stdout.contains("rejected: step 'q': not confirmed in time"), "\(run.stdout)")
        #expect(!FileManager.default.fileExists(atPath: after))
        let id = try #require(RunbookTests.runID(run, in: run.stdout), "\(run.stdout)")
        let record = try await Self.record(id, in: directory)
        #expect(record["state"]?.stringValue == "rejected", "\(record)")
    }

    /// A failing step with `on_failure: rollback` runs the owed rollbacks newest first and the
    /// run ends failed and rolled back.
    @Test func aFailedStepRollsBackWhatWasDone() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-rollback")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: rollback\nservers: []\n")
        let marker = directory.file("marker")
        let path = try directory.write(
            "undo.yml",
            """
            name: undo
            description: a change, then a failure that undoes it
            steps:
              - name: make
                kind: shell
                with: {run: "echo made >> \(marker)", preview: appends to a file}
                rollback:
                  - name: unmake
                    kind: shell
                    with: {run: "echo unmade >> \(marker)", preview: appends again}
              - name: fail
                kind: shell
                on_failure: rollback
                with: {run: "exit 3", preview: fails}
            """)
        let run = try await WhisperctlBinary.run(["runbook", "run", path, "--yes"], in: directory)
        #expect(run.status == 2 && run.stdout.contains("failed and rolled back"), "\(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "made\nunmade\n")
    }

    /// Ctrl-C in the middle of a change: the step in hand finishes (a shell command is never cut
    /// half way), the next is not started, the run is aborted and the operations lock released;
    /// resume starts at the step that was not run.
    @Test func ctrlCDuringAStepStopsAfterIt() async throws {
        let directory = try TemporaryDirectory(prefix: "runbook-sigint")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: sigint\nservers: []\n")
        let started = directory.file("started")
        let second = directory.file("second")
        let path = try directory.write(
            "slow.yml",
            """
            name: slow
            description: a change that takes a while, then another
            steps:
              - name: long
                kind: shell
                with: {run: "touch \(started); sleep 3", preview: sleeps}
              - name: next
                kind: shell
                with: {run: "touch \(second)", preview: touches}
            """)
        let run = try await WhisperctlBinary.run(["runbook", "run", path, "--yes"], in: directory, signal: SIGINT, once: "the step started") {
            FileManager.default.fileExists(atPath: started)
        }
        #expect(run.status == 1 && run.stdout.contains("aborted"), "\(run.stdout)\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: second), "the next step was not started")
        let id = try #require(RunbookTests.runID(run))
        let record = try await Self.record(id, in: directory)
        #expect(Self.stepState(record, "long") == "succeeded" && Self.stepState(record, "next") == nil, "\(record)")
        let lock = try await WhisperctlBinary.run(["lock", "status"], in: directory)
        #expect(lock.status == 0, "the lock was released: \(lock.stdout)")
        let resumed = try await WhisperctlBinary.run(["runbook", "resume", id, "--yes"], in: directory)
        #expect(resumed.status == 0 && FileManager.default.fileExists(atPath: second), "\(resumed.stdout)\(resumed.stderr)")
    }
}
