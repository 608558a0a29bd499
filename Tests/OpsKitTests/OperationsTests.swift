import Foundation
import OpsKit
import TestSupport
import Testing

/// The operations layer against real services: the runner's protocol (confirmation, lock, audit,
/// release) whatever the run does, every operation's plan changing nothing, and its check true
/// right after its run.
@Suite(.serialized) struct OperationsTests {
    /// An inventory in a temporary directory: the lock file beside it, its own audit log.
    struct Deployment {
        let directory: TemporaryDirectory
        let inventory: Inventory

        static func make(_ yaml: String = "") throws -> Deployment {
            let directory = try TemporaryDirectory(prefix: "whisper-ops")
            let path = try directory.write("whisperctl.yml", """
                deployment: ops-test
                lock:
                  backend: file
                audit:
                  log: \(directory.file("audit.log"))
                backup:
                  dir: \(directory.file("backups"))
                \(yaml)
                """)
            let inventory = try InventoryLoader(explicitPath: path, environment: ["PATH": "/usr/bin:/bin"]).load()
            return Deployment(directory: directory, inventory: inventory)
        }

        var runner: OperationRunner { OperationRunner(inventory: inventory, confirm: { _ in true }) }
        var lock: FileLockBackend { FileLockBackend(path: directory.file(".whisperctl.lock")) }

        /// The audit log's entries, oldest first.
        func audit() throws -> [JSONValue] {
            guard let data = FileManager.default.contents(atPath: directory.file("audit.log")) else { return [] }
            return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
        }
    }

    /// An operation that records what the runner let it do, and fails when told to.
    struct Probe: OpsOperation {
        var lock: FileLockBackend
        var confirmation: String?
        var failure: OpsError?
        let ran = RunCount()

        var command: String { "test" }
        var action: String { "probe" }
        var target: String { "the probe" }

        func plan(in context: OperationContext) async throws -> OperationPlan {
            OperationPlan(steps: ["probe"], confirmation: confirmation)
        }

        func check(in context: OperationContext) async throws -> Bool { ran.value > 0 }

        func run(in context: OperationContext) async throws -> Bool {
            ran.increment()
            // The runner holds the lock while this runs.
            let held = try await lock.current() != nil
            if let failure { throw failure }
            return held
        }
    }

    final class RunCount: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func increment() { lock.withLock { count += 1 } }
    }

    // MARK: The runner

    @Test func aRunHoldsTheLockAndIsAudited() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let probe = Probe(lock: deployment.lock)
        #expect(try await deployment.runner.run(probe), "the lock was held during the run")
        #expect(try await deployment.lock.current() == nil, "released after it")
        let entry = try #require(try deployment.audit().last)
        #expect(entry["command"] == "test" && entry["action"] == "probe" && entry["result"] == "ok")
        #expect(try await deployment.runner.check(probe))
    }

    @Test func aRunThatThrowsReleasesTheLockAndIsAuditedAsFailed() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let probe = Probe(lock: deployment.lock, failure: OpsError(.io, "disk on fire", endpoint: "/dev/sda"))
        let failure = await #expect(throws: OperationFailure.self) { try await deployment.runner.run(probe) }
        guard case .failed(let cause as OpsError)? = failure else { Issue.record("not .failed: \(String(describing: failure))"); return }
        #expect(cause.message == "disk on fire")
        #expect(try await deployment.lock.current() == nil, "the lock was released")
        let entry = try #require(try deployment.audit().last)
        #expect(entry["result"] == "failed" && entry["error"]?.stringValue?.contains("disk on fire") == true)
    }

    @Test func anUnconfirmedRunIsRefusedAuditedAndNeverRuns() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let probe = Probe(lock: deployment.lock, confirmation: "Probe it?")
        var runner = deployment.runner
        runner.confirm = { _ in false }
        let failure = await #expect(throws: OperationFailure.self) { try await runner.run(probe) }
        guard case .refused? = failure else { Issue.record("not .refused: \(String(describing: failure))"); return }
        #expect(probe.ran.value == 0)
        #expect(try deployment.audit().last?["result"] == "refused")
    }

    @Test func aLockHeldElsewhereRefusesNamingTheHolderAndIsAudited() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let other = deployment.lock
        // flock(2) locks belong to open file descriptions: a second open is another holder.
        let held = try await OperationsLock.acquire(other, command: "backup")
        defer { Task { await held.release() } }
        let probe = Probe(lock: FileLockBackend(path: deployment.directory.file(".whisperctl.lock")))
        let failure = await #expect(throws: OperationFailure.self) { try await deployment.runner.run(probe) }
        guard case .lockHeld(let holder, _)? = failure else { Issue.record("not .lockHeld: \(String(describing: failure))"); return }
        #expect(holder.command == "backup")
        #expect(probe.ran.value == 0)
        let entry = try #require(try deployment.audit().last)
        #expect(entry["result"] == "refused" && entry["error"]?.stringValue?.contains("running 'backup'") == true)
    }

    /// An emergency action (the dashboard's --emergency) runs while a backup holds the lock:
    /// it says so, and the audit line names whose lock it overrode.
    @Test func anEmergencyRunTakesPrecedenceOverAHeldLockAndSaysWhose() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let held = try await OperationsLock.acquire(deployment.lock, command: "backup")
        defer { Task { await held.release() } }
        let probe = Probe(lock: FileLockBackend(path: deployment.directory.file(".whisperctl.lock")))
        var runner = deployment.runner
        runner.takesPrecedence = true
        try await runner.run(probe)
        #expect(probe.ran.value == 1)
        let entry = try #require(try deployment.audit().last)
        #expect(entry["result"] == "ok" && entry["took_precedence_over"]?.stringValue?.contains("running 'backup'") == true, "\(entry.serialized())")
        #expect(try await deployment.lock.current()?.command == "backup", "the backup's lock is still its own")
    }

    @Test func aRunStoppedByAnInterruptionIsReportedAndAuditedAsOne() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        // What the runner's signal trap does on Ctrl-C (whisperctl's tests send real signals).
        struct Interruptible: OpsOperation {
            var command: String { "test" }
            var action: String { "interruptible" }
            var target: String { "-" }
            func plan(in context: OperationContext) async throws -> OperationPlan { OperationPlan(steps: ["stop at a safe point"]) }
            func check(in context: OperationContext) async throws -> Bool { false }
            func run(in context: OperationContext) async throws {
                let stopped = RunCount()
                context.interruption.onInterrupt { _ in stopped.increment() }
                context.interruption.interrupt(SIGINT)
                #expect(stopped.value == 1, "the operation's own handler ran")
                throw OpsError(.io, "stopped at a safe point")
            }
        }
        let failure = await #expect(throws: OperationFailure.self) { try await deployment.runner.run(Interruptible()) }
        guard case .interrupted(let signal, _)? = failure else { Issue.record("not .interrupted: \(String(describing: failure))"); return }
        #expect(signal == SIGINT)
        #expect(try deployment.audit().last?["result"] == "interrupted")
        #expect(try await deployment.lock.current() == nil)
    }

    // MARK: Plan changes nothing; check holds after run

    @Test func backupPruneVerifyAndRestorePlanNothingAndCheckTheirEffect() async throws {
        try await withService({ try await PostgresServer.start() }) { postgres in
            let deployment = try Deployment.make("postgres:\n  url: \(postgres.url)")
            defer { deployment.directory.remove() }
            let connection = try await PostgresConnection.connect(url: postgres.url)
            defer { connection.close() }
            try await connection.execute(script: "CREATE TABLE notes (id int); INSERT INTO notes SELECT generate_series(1, 7)")
            let store = BackupStore(directory: deployment.inventory.backupDirectory)

            let backup = try TakeBackup(inventory: deployment.inventory, whisperctlVersion: "test")
            let plan = try await deployment.runner.plan(backup)
            #expect(plan.steps.first?.contains("pg_dump") == true)
            #expect(!FileManager.default.fileExists(atPath: store.directory), "planning a backup writes nothing")
            #expect(try await !deployment.runner.check(backup))
            let entry = try await deployment.runner.run(backup)
            #expect(try await deployment.runner.check(backup))
            #expect(entry.isVerified)

            // A restore test creates a scratch database: the superuser may.
            let verify = VerifyBackup(store: store, entry: entry, databaseURL: postgres.superuserURL, restoreTest: true)
            #expect(try await !deployment.runner.check(verify), "a list verify is not a restore test")
            _ = try await deployment.runner.plan(verify)
            #expect(try store.entry(entry.id).manifest.verification?.method == .list, "planning verifies nothing")
            _ = try await deployment.runner.run(verify)
            #expect(try await deployment.runner.check(verify))

            try await connection.execute(script: "DELETE FROM notes WHERE id > 2")
            let restore = RestoreBackup(store: store, id: entry.id, databaseURL: postgres.url, targetDatabase: nil, withConfig: false)
            #expect(try await deployment.runner.plan(restore).confirmation?.contains(entry.id) == true)
            #expect(try await connection.query("SELECT count(*) FROM notes").rows.first?[0].int == 2, "planning a restore restores nothing")
            #expect(try await !deployment.runner.check(restore))
            let restored = try await deployment.runner.run(restore)
            #expect(restored.report.matches)
            #expect(try await deployment.runner.check(restore))

            // Prune: a second, older-looking backup past a zero-day retention, and a partial.
            let second = try await deployment.runner.run(try TakeBackup(inventory: deployment.inventory, whisperctlVersion: "test"))
            // A pid past the kernel's pid_max: no process holds it.
            let partial = store.directory + "/.19700101T000000Z.partial-99999999"
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let prune = PruneBackups(store: store, retention: BackupStore.Retention(keepDays: 0, keepLast: 1))
            let pruning = try await deployment.runner.plan(prune)
            #expect(pruning.steps.contains { $0.contains(entry.id) } && pruning.steps.contains { $0.contains("never finished") }, "\(pruning.steps)")
            #expect(FileManager.default.fileExists(atPath: entry.path) && FileManager.default.fileExists(atPath: partial), "planning deletes nothing")
            #expect(try await !deployment.runner.check(prune))
            _ = try await deployment.runner.run(prune)
            #expect(try await deployment.runner.check(prune))
            #expect(!FileManager.default.fileExists(atPath: entry.path) && FileManager.default.fileExists(atPath: second.path))
            let pruned = try deployment.audit().filter { $0["action"] == "prune" }
            #expect(pruned.contains { $0["target"]?.stringValue == entry.path }, "each deletion is audited")
        }
    }

    @Test func migrationsPlanFromTheRecordAndCheckWhereTheSchemaIs() async throws {
        try await withService({ try await PostgresServer.start() }) { postgres in
            let deployment = try Deployment.make("postgres:\n  url: \(postgres.url)")
            defer { deployment.directory.remove() }
            let migrations = deployment.directory.file("migrations")
            try FileManager.default.createDirectory(atPath: migrations, withIntermediateDirectories: true)
            try "CREATE TABLE one (id int);\n".write(toFile: migrations + "/001_one.up.sql", atomically: true, encoding: .utf8)
            try "DROP TABLE one;\n".write(toFile: migrations + "/001_one.down.sql", atomically: true, encoding: .utf8)
            try "CREATE TABLE two (id int);\n".write(toFile: migrations + "/002_two.up.sql", atomically: true, encoding: .utf8)
            try "DROP TABLE two;\n".write(toFile: migrations + "/002_two.down.sql", atomically: true, encoding: .utf8)
            let connection = try await PostgresConnection.connect(url: postgres.url)
            defer { connection.close() }
            let runner = MigrationRunner(connection: connection, migrations: try MigrationDirectory.load(migrations))
            func schema(_ change: MigrateSchema.Change) -> MigrateSchema {
                MigrateSchema(runner: runner, change: change, database: "whisper", action: "test")
            }
            func tableExists(_ name: String) async throws -> Bool {
                try await connection.query("SELECT to_regclass($1) IS NOT NULL", [name]).rows.first?[0].bool == true
            }

            let up = schema(.up(to: nil))
            #expect(try await deployment.runner.plan(up).steps == ["apply 001_one", "apply 002_two"])
            #expect(try await !tableExists("schema_migrations"), "planning creates not even the bookkeeping table")
            #expect(try await !deployment.runner.check(up))
            #expect(try await deployment.runner.run(up).migrations.map(\.version) == [1, 2])
            #expect(try await deployment.runner.check(up))

            let down = schema(.down(to: 1))
            let plan = try await deployment.runner.plan(down)
            #expect(plan.steps == ["revert 002_two"] && plan.confirmation?.contains("may drop data") == true)
            #expect(try await tableExists("two"), "planning reverts nothing")
            _ = try await deployment.runner.run(down)
            #expect(try await deployment.runner.check(down))
            #expect(try await !tableExists("two"))

            let force = schema(.force(2))
            _ = try await deployment.runner.plan(force)
            #expect(try await !deployment.runner.check(force), "planning records nothing")
            _ = try await deployment.runner.run(force)
            #expect(try await deployment.runner.check(force))
            #expect(try await !tableExists("two"), "force runs no migration SQL")
        }
    }

    @Test func breakingALockPlansWithoutTouchingItAndChecksItFree() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let deployment = try Deployment.make()
            defer { deployment.directory.remove() }
            let backend = RedisLockBackend(address: try RedisAddress(parsing: redis.address), key: "whisperctl:lock:ops-test", ttl: .seconds(60))
            // A holder that crashed: its lock stays until the TTL, with no heartbeat.
            var crashed = LockHolder.current(command: "backup")
            crashed.heartbeatAt = Date().addingTimeInterval(-600)
            #expect(try await backend.tryAcquire(crashed) == nil)
            let breaking = BreakLock(backend: backend, force: false)
            #expect(try await deployment.runner.plan(breaking).confirmation?.contains("running 'backup'") == true)
            #expect(try await backend.current()?.token == crashed.token, "planning breaks nothing")
            #expect(try await !deployment.runner.check(breaking))
            _ = try await deployment.runner.run(breaking)
            #expect(try await deployment.runner.check(breaking))
        }
    }

    /// A holder on this host is judged by its pid: `kill -9` leaves a fresh heartbeat in the
    /// lock, but the process is gone, so the lock breaks without --force.
    @Test func aHolderOnThisHostWhoseProcessIsGoneIsDeadWhateverItsHeartbeat() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let deployment = try Deployment.make()
            defer { deployment.directory.remove() }
            let backend = RedisLockBackend(address: try RedisAddress(parsing: redis.address), key: "whisperctl:lock:ops-test", ttl: .seconds(60))
            let child = try Subprocess.spawn("/bin/sleep", ["60"], environment: [:], captureOutput: false)
            child.signal(SIGKILL)
            _ = try await child.wait()
            var killed = LockHolder.current(command: "backup")
            killed.pid = Int(child.pid)
            #expect(try await backend.tryAcquire(killed) == nil)
            let breaking = BreakLock(backend: backend, force: false)
            let plan = try await deployment.runner.plan(breaking)
            #expect(plan.confirmation?.contains("running 'backup'") == true, "not refused as alive: \(plan.steps)")
            _ = try await deployment.runner.run(breaking)
            #expect(try await backend.current() == nil)
            // This process is alive and its heartbeat fresh: refused.
            let alive = LockHolder.current(command: "rollout")
            #expect(try await backend.tryAcquire(alive) == nil)
            await #expect(throws: OperationFailure.self) { try await deployment.runner.plan(breaking) }
            try await backend.breakLock(alive)
        }
    }

    @Test func filesAreWrittenOnlyByTheRunAndCheckedByContent() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let schedule = InstallSchedule(command: "test", file: (deployment.directory.file("cron.d/whisper"), "17 3 * * * root true\n"))
        #expect(try await deployment.runner.plan(schedule).steps.count == 1)
        #expect(!FileManager.default.fileExists(atPath: schedule.path))
        #expect(try await !deployment.runner.check(schedule))
        try await deployment.runner.run(schedule)
        #expect(try await deployment.runner.check(schedule))

        let sysctl = WriteSysctlFile(kernel: KernelDiagnosis(tier: CapacityTier.all[0]), path: deployment.directory.file("99-whisper.conf"))
        _ = try await deployment.runner.plan(sysctl)
        #expect(!FileManager.default.fileExists(atPath: sysctl.path))
        try await deployment.runner.run(sysctl)
        #expect(try await deployment.runner.check(sysctl))

        // Loading is checked against /proc/sys; here a fixture tree, never the machine's kernel.
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.file("proc/sys/net/core"), withIntermediateDirectories: true)
        let file = try deployment.directory.write("one.conf", "# one setting\nnet.core.somaxconn = 4096\n")
        let load = LoadSysctlFile(path: file, root: root.path)
        #expect(try await deployment.runner.plan(load).steps == ["net.core.somaxconn = 4096"])
        _ = try root.write("proc/sys/net/core/somaxconn", "128\n")
        #expect(try await !deployment.runner.check(load))
        _ = try root.write("proc/sys/net/core/somaxconn", "4096\n")
        #expect(try await deployment.runner.check(load))
    }

    @Test func aServerStateIsPlannedWithoutHAProxyChangingAndCheckedInItsStats() async throws {
        let server = try await WhisperServerProcess.start()
        let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port)])
        defer { Task { await haproxy.stop(); await server.stop() } }
        try await haproxy.waitFor(.up, servers: ["ws1"])
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let drain = SetServerState(runtime: try HAProxyRuntimeAPI(parsing: haproxy.runtimeSocket), backend: haproxy.backend, server: "ws1", state: .drain)
        _ = try await deployment.runner.plan(drain)
        #expect(try await haproxy.stats().servers(ofBackend: haproxy.backend).first?.status == "UP", "planning sends nothing")
        #expect(try await !deployment.runner.check(drain))
        try await deployment.runner.run(drain, confirmed: true)
        #expect(try await deployment.runner.check(drain))
        let entry = try #require(try deployment.audit().last)
        #expect(entry["command"] == "dashboard" && entry["action"] == "drain" && entry["target"]?.stringValue == "\(haproxy.backend)/ws1")
    }

    /// A renewal plans certbot, the combine, the swap and the checks without running any of
    /// them, and is in place while the PEM is valid past certbot's threshold and no failure is
    /// remembered.
    @Test func aRenewalPlansWithoutCertbotAndChecksThePEMAndTheFailureMarker() async throws {
        let deployment = try Deployment.make()
        defer { deployment.directory.remove() }
        let pem = deployment.directory.file("haproxy.pem")
        func writePEM(expiresInDays days: Double) throws {
            let made = try CertificateFactory.selfSigned(commonName: "chat.test", expiresIn: days * 86_400)
            try (made.certificate + made.key).write(toFile: pem, atomically: true, encoding: .utf8)
        }
        try writePEM(expiresInDays: 80)
        let renewal = CertificateRenewal(
            domains: ["chat.test"], certbotDirectory: deployment.directory.file("letsencrypt"), challenge: .standalone(port: 8402),
            acmeServer: nil, email: nil, force: false, pemPath: pem, haproxyConfig: nil, swap: .command("true"),
            verify: [(host: "127.0.0.1", port: 8443)], emit: { _ in })
        let renew = RenewCertificate(renewal: renewal)
        let before = try FileManager.default.contentsOfDirectory(atPath: deployment.directory.path).sorted()
        let plan = try await deployment.runner.plan(renew)
        #expect(plan.steps.first?.hasPrefix("certbot certonly") == true, "\(plan.steps)")
        #expect(plan.steps.contains { $0.contains(pem) } && plan.steps.contains { $0.contains("127.0.0.1:8443") }, "\(plan.steps)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: deployment.directory.path).sorted() == before, "planning wrote nothing")
        #expect(try await deployment.runner.check(renew), "80 days left: nothing to renew")
        try RenewalFailure(error: "certbot exited 1").write(for: pem)
        #expect(try await !deployment.runner.check(renew), "a remembered failure means it is not in place")
        try RenewalFailure.clear(for: pem)
        try writePEM(expiresInDays: 10)
        #expect(try await !deployment.runner.check(renew), "10 days left: due")
    }
}
