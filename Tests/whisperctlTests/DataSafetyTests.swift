import Foundation
import OpsKit
import TestSupport
import Testing

/// migrate, backup, restore and the operations lock against a real PostgreSQL, through the
/// whisperctl binary as an operator or cron runs it.
@Suite(.serialized) struct DataSafetyTests {
    /// A PostgreSQL with the repository's migrations applied, and an inventory for it.
    struct Stack {
        let postgres: PostgresServer
        let directory: TemporaryDirectory

        static func start(migrate: Bool = true, extraYAML: String = "") async throws -> Stack {
            let postgres = try await PostgresServer.start()
            let directory = try TemporaryDirectory(prefix: "whisper-data")
            try FileManager.default.createDirectory(atPath: directory.file("migrations"), withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: Repository.path("migrations")) {
                try FileManager.default.copyItem(atPath: Repository.path("migrations/\(name)"), toPath: directory.file("migrations/\(name)"))
            }
            try directory.write(".env", "DATABASE_URL=\(postgres.url)\nIP_HASH_SALT=pepper-Secret-42\n")
            try directory.write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
            try directory.write("whisperctl.yml", """
                deployment: data-test
                servers: []
                haproxy: ~
                redis: ~
                nats: ~
                postgres:
                  url: ${DATABASE_URL}
                certs:
                  - \(directory.file("cert.pem"))
                audit:
                  log: \(directory.file("audit.log"))
                backup:
                  dir: \(directory.file("backups"))
                \(extraYAML)
                """)
            let stack = Stack(postgres: postgres, directory: directory)
            if migrate {
                let run = try await stack.whisperctl(["migrate", "up"])
                guard run.status == 0 else { throw SupportError("migrate up: \(run.stdout)\(run.stderr)") }
            }
            return stack
        }

        func whisperctl(_ arguments: [String], environment: [String: String] = [:], interruptAfter: Duration? = nil, signal: Int32 = SIGINT) async throws -> ProgramRun {
            try await WhisperctlBinary.run(arguments, environment: environment, in: directory, interruptAfter: interruptAfter, signal: signal)
        }

        func connect() async throws -> PostgresConnection { try await PostgresConnection.connect(url: postgres.url) }

        func stop() async {
            await postgres.stop()
            directory.remove()
        }

        /// `rows` abuse reports, and a table of `megabytes` of hard-to-compress text.
        func seed(rows: Int, megabytes: Int = 0) async throws {
            let connection = try await connect()
            defer { connection.close() }
            try await connection.query(
                """
                INSERT INTO abuse_reports (reported_session, reporter_session, reported_ip_hash, reason, chat_id)
                SELECT 's' || g, 'r' || g, md5(g::text), 'reason ' || g || ' ünïcødé ''quoted''', 'c' || g FROM generate_series(1, $1) g
                """, [rows])
            if megabytes > 0 {
                try await connection.execute(script: "CREATE TABLE bulk (id int PRIMARY KEY, payload text)")
                // 32 md5s per row = 1 KiB of hex.
                try await connection.query(
                    "INSERT INTO bulk SELECT g, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 32) s) FROM generate_series(1, $1) g",
                    [megabytes * 1024], timeout: .seconds(600))
            }
        }

        /// Every row of every user table, hashed: content, not just counts.
        func contentDigest() async throws -> String {
            let connection = try await connect()
            defer { connection.close() }
            var parts: [String] = []
            for table in ["abuse_reports", "bulk"] {
                let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL", [table])
                guard exists.rows.first?[0].bool == true else { continue }
                let digest = try await connection.query("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(table) t", timeout: .seconds(120))
                parts.append("\(table)=\(digest.rows.first?[0].string ?? "")")
            }
            return parts.joined(separator: ",")
        }

        func count(_ table: String) async throws -> Int {
            let connection = try await connect()
            defer { connection.close() }
            return try await connection.query("SELECT count(*) FROM \(table)").rows.first?[0].int ?? -1
        }

        var backups: String { directory.file("backups") }

        /// The audit log's newest entry.
        func lastAudit() throws -> JSONValue? {
            let audit = try String(contentsOfFile: directory.file("audit.log"), encoding: .utf8)
            return try audit.split(separator: "\n").last.map { try JSONValue.parse(Array($0.utf8)) }
        }
    }

    static func json(_ run: ProgramRun) throws -> JSONValue {
        try JSONValue.parse(Array(run.stdout.utf8))
    }

    // MARK: - Backup and restore

    @Test func aRoundTripRestoresEveryRowAndTheConfiguration() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try await stack.seed(rows: 500)
        let before = try await stack.contentDigest()

        let backup = try await stack.whisperctl(["backup", "--json"])
        #expect(backup.status == 0, "\(backup.stdout)\(backup.stderr)")
        let manifest = try Self.json(backup)
        let id = try #require(manifest["id"]?.stringValue)
        #expect(manifest["tables"]?["public.abuse_reports"]?.intValue == 500)
        #expect(manifest["migration_version"]?.intValue == 1)
        #expect(manifest["verification"]?["method"]?.stringValue == "list")
        #expect(manifest["server_version"]?.stringValue?.hasPrefix("15") == true)
        let files = manifest["files"]?.arrayValue ?? []
        #expect(files.map { $0["kind"]?.stringValue ?? "" }.sorted() == ["certificate", "database", "env"])
        for file in files {
            let path = stack.backups + "/\(id)/" + (file["name"]?.stringValue ?? "")
            let (digest, size) = try Digest.sha256Hex(file: path)
            #expect(digest == file["sha256"]?.stringValue)
            #expect(size == file["size"]?.intValue)
            if file["kind"]?.stringValue != "database" {
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(path) is readable by others")
            }
        }
        #expect(!backup.stdout.contains("pepper-Secret-42") && !backup.stderr.contains(PostgresServer.appPassword), "a secret printed")

        // Lose the data, restore, compare content.
        let connection = try await stack.connect()
        try await connection.execute(script: "DELETE FROM abuse_reports WHERE id % 2 = 0; UPDATE abuse_reports SET reason = 'changed'")
        connection.close()
        try stack.directory.write(".env", "DATABASE_URL=\(stack.postgres.url)\nIP_HASH_SALT=something-else\n")
        #expect(try await stack.contentDigest() != before)
        let refused = try await stack.whisperctl(["restore", id])
        #expect(refused.status == 1, "no terminal and no --yes: refused")
        #expect(refused.stderr.contains("database 'whisper'"))

        let restore = try await stack.whisperctl(["restore", id, "--yes", "--with-config"])
        #expect(restore.status == 0, "\(restore.stdout)\(restore.stderr)")
        #expect(restore.stdout.contains("public.abuse_reports"))
        #expect(restore.stdout.contains("restored (mode 0600)"), "\(restore.stdout)")
        #expect(try await stack.contentDigest() == before)
        let env = try String(contentsOfFile: stack.directory.file(".env"), encoding: .utf8)
        #expect(env.contains("pepper-Secret-42"))

        // The restore test needs to create a scratch database: without CREATEDB it says so.
        let noCreate = try await stack.whisperctl(["backup", "verify", id, "--restore-test"])
        #expect(noCreate.status == 2)
        #expect(noCreate.stderr.contains("needs CREATEDB"), "\(noCreate.stderr)")
        let admin = try await PostgresConnection.connect(url: stack.postgres.superuserURL)
        try await admin.query("ALTER ROLE \(PostgresServer.appUser) CREATEDB")
        admin.close()

        // Elsewhere: a new database on the same server.
        let copy = try await stack.whisperctl(["restore", id, "--target-db", "whisper_copy", "--yes", "--json"])
        #expect(copy.status == 0, "\(copy.stdout)\(copy.stderr)")
        #expect(try Self.json(copy)["rows_match"] == .bool(true))

        let audit = try String(contentsOfFile: stack.directory.file("audit.log"), encoding: .utf8)
        #expect(audit.contains(#""action":"backup""#) && audit.contains(#""action":"restore""#) && audit.contains(#""action":"up""#))
        #expect(!audit.contains(PostgresServer.appPassword))

        let list = try await stack.whisperctl(["backup", "list", "--json"])
        #expect(try Self.json(list)["backups"]?.arrayValue?.count == 1)
    }

    @Test func theRestoreTestRestoresIntoAScratchDatabaseAndDropsIt() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        // The restore test creates a database: the role needs CREATEDB, as a deployment's backup role would have.
        let admin = try await PostgresConnection.connect(url: stack.postgres.superuserURL)
        try await admin.query("ALTER ROLE \(PostgresServer.appUser) CREATEDB")
        try await stack.seed(rows: 42)
        #expect(try await stack.whisperctl(["backup"]).status == 0)
        let verify = try await stack.whisperctl(["backup", "verify", "--restore-test", "--json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let tables = try Self.json(verify)["tables"]?.arrayValue ?? []
        #expect(tables.contains { $0["table"]?.stringValue == "public.abuse_reports" && $0["restored"]?.intValue == 42 })
        let scratch = try await admin.query("SELECT count(*) FROM pg_database WHERE datname LIKE 'whisperctl_verify_%'")
        #expect(scratch.rows.first?[0].int == 0, "the scratch database was dropped")
        admin.close()
        let list = try Self.json(try await stack.whisperctl(["backup", "list", "--json"]))
        #expect(list["backups"]?.arrayValue?.first?["verification"]?["method"]?.stringValue == "restore-test")
    }

    @Test func aCorruptedBackupIsNamedAndNeverRestored() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try await stack.seed(rows: 50)
        let id = try #require(try Self.json(try await stack.whisperctl(["backup", "--json"]))["id"]?.stringValue)
        let dump = stack.backups + "/\(id)/database.dump"
        var bytes = try #require(FileManager.default.contents(atPath: dump))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: dump))
        let verify = try await stack.whisperctl(["backup", "verify", id])
        #expect(verify.status == 2)
        #expect(verify.stderr.contains("database.dump") && verify.stderr.contains("SHA-256"), "\(verify.stderr)")
        // The failure is recorded: status and the listing no longer count it as verified.
        let status = try await stack.whisperctl(["status", "backup", "--json"])
        let backup = try JSONValue.parse(Array(status.stdout.utf8))["components"]?.arrayValue?.first
        #expect(backup?["status"] == "critical" && backup?["detail"]?.stringValue?.contains("\(id) FAILED its verify") == true, "\(status.stdout)")
        let list = try await stack.whisperctl(["backup", "list"])
        #expect(list.stdout.contains("FAILED") && list.stdout.contains("AGE"), "\(list.stdout)")
        let listed = try Self.json(try await stack.whisperctl(["backup", "list", "--json"]))["backups"]?.arrayValue?.first
        #expect(listed?["verification"]?["passed"] == .bool(false) && listed?["verification"]?["failure"]?.stringValue?.contains("SHA-256") == true)
        try await stack.seed(rows: 1)
        let restore = try await stack.whisperctl(["restore", id, "--yes"])
        #expect(restore.status == 2)
        #expect(restore.stderr.contains("refusing") && restore.stderr.contains("database.dump"))
        #expect(try await stack.count("abuse_reports") == 51, "nothing was touched")
    }

    @Test func pgDumpMissingOrOlderThanTheServerIsNamed() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        let empty = try TemporaryDirectory()
        defer { empty.remove() }
        let missing = try await stack.whisperctl(["backup"], environment: ["WHISPERCTL_PG_BIN": empty.path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("pg_dump 15 or newer is needed") && missing.stderr.contains("none found"), "\(missing.stderr)")
        let old = try empty.write("pg_dump", "#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.2'\n")
        chmod(old, 0o755)
        let older = try await stack.whisperctl(["backup"], environment: ["WHISPERCTL_PG_BIN": empty.path])
        #expect(older.status == 2)
        #expect(older.stderr.contains("is 13.2") && older.stderr.contains("PostgreSQL 15 server"), "\(older.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: stack.backups).isEmpty, "nothing left behind")
    }

    @Test func anUnreachableDatabaseAndUnwritableDirectoriesFailClearly() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        let unreachable = try await stack.whisperctl(["backup"], environment: ["DATABASE_URL": "postgres://whisper:pw@127.0.0.1:1/whisper?sslmode=disable"])
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.contains("127.0.0.1:1"), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains(":pw@"))

        try stack.directory.write("a-file", "x")
        let underFile = try await stack.whisperctl(["backup", "--dir", stack.directory.file("a-file/backups")])
        #expect(underFile.status == 2)
        #expect(underFile.stderr.contains("a-file/backups"), "\(underFile.stderr)")

        let readOnly = stack.directory.file("readonly")
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        try Command.run("/bin/mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", readOnly])
        defer { _ = try? Command.run("/bin/umount", [readOnly]) }
        let denied = try await stack.whisperctl(["backup", "--dir", readOnly])
        #expect(denied.status == 2)
        #expect(denied.stderr.contains(readOnly) && denied.stderr.contains("not writable"), "\(denied.stderr)")
    }

    @Test func aFullDiskMidBackupLeavesNothingThatLooksComplete() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try await stack.seed(rows: 10, megabytes: 6)
        let small = stack.directory.file("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        try Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small])
        defer { _ = try? Command.run("/bin/umount", [small]) }
        let run = try await stack.whisperctl(["backup", "--dir", small])
        #expect(run.status == 2)
        #expect(run.stderr.contains("No space left on device"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: small).isEmpty, "the partial backup was removed")
        let list = try await stack.whisperctl(["backup", "list", "--dir", small, "--json"])
        #expect(try Self.json(list)["backups"]?.arrayValue?.isEmpty == true)
    }

    @Test func killNineMidBackupLeavesAnAbandonedPartialThatPruneRemoves() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try await stack.seed(rows: 10, megabytes: 120)
        let run = try await stack.whisperctl(["backup"], interruptAfter: .milliseconds(1500), signal: SIGKILL)
        #expect(run.status == 128 + SIGKILL, "the backup ended before the kill: make the data larger")
        let names = try FileManager.default.contentsOfDirectory(atPath: stack.backups)
        #expect(names.count == 1 && names[0].hasPrefix(".") && names[0].contains(".partial-"), "\(names)")
        let list = try Self.json(try await stack.whisperctl(["backup", "list", "--json"]))
        #expect(list["backups"]?.arrayValue?.isEmpty == true, "a killed backup is not a backup")
        try await Task.sleep(for: .milliseconds(500))  // pg_dump, orphaned, notices its pipe is gone
        let prune = try await stack.whisperctl(["backup", "prune"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdout.contains("never finished"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: stack.backups).isEmpty)
    }

    @Test func ctrlCDuringARestoreLeavesTheDatabaseAsItWas() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try await stack.seed(rows: 100, megabytes: 2)
        let id = try #require(try Self.json(try await stack.whisperctl(["backup", "--json"]))["id"]?.stringValue)
        let connection = try await stack.connect()
        try await connection.execute(script: "DELETE FROM abuse_reports WHERE id > 10")
        let before = try await stack.contentDigest()
        // A reader holds the table: the restore is mid-way (waiting to drop it) when Ctrl-C comes.
        try await connection.execute(script: "BEGIN; SELECT count(*) FROM bulk")
        let run = try await stack.whisperctl(["restore", id, "--yes"], interruptAfter: .milliseconds(2500))
        try await connection.execute(script: "COMMIT")
        connection.close()
        #expect(run.status == 130, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("nothing was restored"), "\(run.stderr)")
        #expect(try await stack.contentDigest() == before)
        #expect(try await stack.count("abuse_reports") == 10)
    }

    @Test func retentionKeepsTheNewestVerifiedBackup() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        for _ in 0..<3 {
            #expect(try await stack.whisperctl(["backup", "--quiet"]).status == 0)
            try await Task.sleep(for: .milliseconds(1100))  // ids are per second
        }
        // Age them all by 40 days; the middle one loses its verification.
        let store = BackupStore(directory: stack.backups)
        for (index, entry) in try store.list().entries.enumerated() {
            var manifest = entry.manifest
            manifest.createdAt = manifest.createdAt.addingTimeInterval(-40 * 86_400)
            if index == 0 { manifest.verification = nil }
            try store.save(manifest, in: entry)
        }
        let entries = try store.list().entries
        let dry = try await stack.whisperctl(["backup", "prune", "--dry-run", "--json"])
        let plan = try Self.json(dry)
        #expect(plan["kept"]?.arrayValue?.map { $0.stringValue } == [entries[1].id], "the newest verified stays, whatever its age")
        #expect(try store.list().entries.count == 3, "a dry run deletes nothing")
        let keepLast = try Self.json(try await stack.whisperctl(["backup", "prune", "--keep-last", "2", "--json"]))
        #expect(keepLast["deleted"]?.arrayValue?.map { $0.stringValue } == [entries[2].id])
    }

    @Test func statusReportsBackupFreshnessAndPendingMigrations() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        func component(_ name: String) async throws -> JSONValue? {
            let run = try await stack.whisperctl(["status", name, "--json"])
            return try Self.json(run)["components"]?.arrayValue?.first
        }
        #expect(try await component("backup")?["status"]?.stringValue == "critical", "no backup at all")
        #expect(try await stack.whisperctl(["backup", "--quiet"]).status == 0)
        #expect(try await component("backup")?["status"]?.stringValue == "ok")
        let store = BackupStore(directory: stack.backups)
        for (age, expected) in [(30, "warning"), (60, "critical")] {
            let entry = try store.list().entries[0]
            var manifest = entry.manifest
            manifest.createdAt = Date().addingTimeInterval(-Double(age) * 3600)
            try store.save(manifest, in: entry)
            #expect(try await component("backup")?["status"]?.stringValue == expected, "\(age) h old")
        }
        #expect(try await component("migrations")?["status"]?.stringValue == "ok")
        try stack.directory.write("migrations/002_add_status.up.sql", "ALTER TABLE abuse_reports ADD COLUMN status text;\n")
        let pending = try await component("migrations")
        #expect(pending?["status"]?.stringValue == "warning")
        #expect(pending?["detail"]?.stringValue?.contains("002_add_status") == true)
    }

    @Test func theScheduleIsACronEntryOrASystemdTimer() async throws {
        let stack = try await Stack.start(migrate: false)
        defer { Task { await stack.stop() } }
        let target = stack.directory.file("schedule")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let cron = try await stack.whisperctl(["backup", "--install-schedule", "cron", "--schedule-dir", target, "--at", "02:30"])
        #expect(cron.status == 0, "\(cron.stderr)")
        let entry = try String(contentsOfFile: target + "/whisperctl-backup-data-test", encoding: .utf8)
        #expect(entry.contains("30 2 * * * root") && entry.contains("backup --config") && entry.contains("backup verify"))
        let systemd = try await stack.whisperctl(["backup", "--install-schedule", "systemd", "--schedule-dir", target])
        #expect(systemd.status == 0)
        #expect(try String(contentsOfFile: target + "/whisperctl-backup-data-test.timer", encoding: .utf8).contains("OnCalendar=*-*-* 03:15:00"))
        #expect(systemd.stdout.contains("systemctl enable --now whisperctl-backup-data-test.timer"))
    }

    /// The cron line `--install-schedule cron` writes, run the way cron runs it (from $HOME,
    /// another directory), with an inventory whose paths are all relative: the backup reads the
    /// certificate beside the inventory and lands in its backups/, and both commands' output
    /// reaches the log (here a file in place of logger).
    @Test func theNightlyCronLineWorksFromAnotherDirectoryAndLogsBothCommands() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        let made = try CertificateFactory.selfSigned(commonName: "chat.test", expiresIn: 60 * 86_400)
        try FileManager.default.createDirectory(atPath: stack.directory.file("certs"), withIntermediateDirectories: true)
        try stack.directory.write("certs/combined.pem", made.certificate + made.key)
        try stack.directory.write("relative.yml", """
            deployment: nightly
            servers: []
            haproxy: ~
            redis: ~
            nats: ~
            postgres:
              url: ${DATABASE_URL}
            certs:
              - certs/combined.pem
            audit:
              log: state/audit.log
            backup:
              dir: nightly-backups
            """)
        let target = stack.directory.file("schedule")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let install = try await stack.whisperctl(["backup", "--config", "relative.yml", "--install-schedule", "cron", "--schedule-dir", target])
        #expect(install.status == 0, "\(install.stderr)")
        let entry = try String(contentsOfFile: target + "/whisperctl-backup-nightly", encoding: .utf8)
        let line = try #require(entry.split(separator: "\n").first { $0.contains("* * * root ") })
        let command = String(line[line.range(of: "* * * root ")!.upperBound...])
        #expect(command.contains("| logger -t whisperctl-backup-nightly"), "\(command)")
        let logged = stack.directory.file("cron-output.txt")
        #expect(command.contains("; } 2>&1 | logger"), "both commands' output goes to the log: \(command)")
        let runnable = command.replacingOccurrences(of: "2>&1 | logger -t whisperctl-backup-nightly", with: "> '\(logged)' 2>&1")
        let elsewhere = try TemporaryDirectory(prefix: "cron-home")
        defer { elsewhere.remove() }
        func cron(_ environment: [String: String] = [:]) async throws -> ProgramRun {
            var variables = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": elsewhere.path, "SHELL": "/bin/sh"]
            variables.merge(environment) { $1 }
            let finalVariables = variables
            return try await Offload.run {
                try Command.capture("/bin/sh", ["-c", runnable], environment: finalVariables, directory: elsewhere.path)
            }
        }
        let nightly = try await cron()
        let output = (try? String(contentsOfFile: logged, encoding: .utf8)) ?? ""
        #expect(nightly.status == 0, "\(output)\(nightly.stderr)")
        let backups = BackupStore(directory: stack.directory.file("nightly-backups"))
        let newest = try #require(try backups.list().entries.first, "a backup in the inventory's backups directory: \(output)")
        #expect(newest.isVerified, "and verified by the same line")
        #expect(newest.manifest.files.contains { $0.source == stack.directory.file("certs/combined.pem") }, "\(newest.manifest.files.map(\.source))")
        #expect(FileManager.default.fileExists(atPath: stack.directory.file("state/audit.log")), "the audit log beside the inventory")
        // A failing backup says why in the log, not only the verify.
        let failed = try await cron(["DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable"])
        let failure = (try? String(contentsOfFile: logged, encoding: .utf8)) ?? ""
        #expect(failed.status != 0 && failure.contains("whisperctl backup"), "the backup's own error is logged: \(failure) \(failed.stdout) \(failed.stderr)")
    }

    // MARK: - Migrations

    /// A dry run and `migrate status` only read: with a read-only role they work, create no
    /// schema_migrations, write no audit line, and no run prints PostgreSQL's "already exists,
    /// skipping" notices.
    @Test func aDryRunAndStatusOnlyReadAndWorkWithAReadOnlyRole() async throws {
        let stack = try await Stack.start(migrate: false)
        defer { Task { await stack.stop() } }
        let admin = try await PostgresConnection.connect(url: stack.postgres.superuserURL)
        try await admin.query("CREATE ROLE reader LOGIN PASSWORD 'reader-Secret-3'")
        admin.close()
        let reader = stack.postgres.url.replacingOccurrences(of: "\(PostgresServer.appUser):\(PostgresServer.appPassword)@", with: "reader:reader-Secret-3@")
        func tableExists() async throws -> Bool {
            let connection = try await stack.connect()
            defer { connection.close() }
            return try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").rows.first?[0].bool == true
        }
        let audited = (try? String(contentsOfFile: stack.directory.file("audit.log"), encoding: .utf8)) ?? ""
        let dry = try await stack.whisperctl(["migrate", "up", "--dry-run", "--database-url", reader])
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("001"), "the pending migration is listed: \(dry.stdout)")
        let status = try await stack.whisperctl(["migrate", "status", "--database-url", reader])
        #expect(status.status == 0 || status.status == 1, "\(status.stdout)\(status.stderr)")
        #expect(try await !tableExists(), "nothing created by a dry run or status")
        #expect(((try? String(contentsOfFile: stack.directory.file("audit.log"), encoding: .utf8)) ?? "") == audited, "no audit line")
        // Applied by the owner, then read by the reader (granted SELECT): still read-only, still quiet.
        let up = try await stack.whisperctl(["migrate", "up", "--yes"])
        #expect(up.status == 0 && !up.stderr.contains("NOTICE"), "\(up.stdout)\(up.stderr)")
        let owner = try await stack.connect()
        try await owner.query("GRANT SELECT ON schema_migrations TO reader")
        owner.close()
        let again = try await stack.whisperctl(["migrate", "up", "--dry-run", "--database-url", reader])
        #expect(again.status == 1 && again.stdout.contains("nothing to do"), "nothing pending: \(again.stdout)\(again.stderr)")
        #expect(!again.stderr.contains("NOTICE") && !again.stderr.contains("permission denied"), "\(again.stderr)")
        let second = try await stack.whisperctl(["migrate", "up", "--yes"])
        #expect(!second.stderr.contains("NOTICE"), "no notice when the table is there: \(second.stderr)")
    }

    @Test func migrateCreateUpStatusDownAndDryRun() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        let create = try await stack.whisperctl(["migrate", "create", "add_report_status"])
        #expect(create.status == 0, "\(create.stderr)")
        // The template as written is comments only: never applied as if it were a change.
        let template = try await stack.whisperctl(["migrate", "up", "--yes"])
        #expect(template.status != 0 && template.stderr.contains("002_add_report_status.up.sql") && template.stderr.contains("only comments"), "\(template.stderr)")
        try stack.directory.write("migrations/002_add_report_status.up.sql", "ALTER TABLE abuse_reports ADD COLUMN status text NOT NULL DEFAULT 'open';\n")
        try stack.directory.write("migrations/002_add_report_status.down.sql", "ALTER TABLE abuse_reports DROP COLUMN status;\n")
        let dry = try await stack.whisperctl(["migrate", "up", "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("BEGIN;") && dry.stdout.contains("SET LOCAL lock_timeout = '5000ms';") && dry.stdout.contains("ADD COLUMN status"))
        let status = try Self.json(try await stack.whisperctl(["migrate", "status", "--json"]))
        #expect(status["pending"]?.intValue == 1 && status["current"]?.intValue == 1)
        let up = try await stack.whisperctl(["migrate", "up"])
        #expect(up.status == 0 && up.stdout.contains("applied 002_add_report_status"), "\(up.stdout)\(up.stderr)")
        let again = try await stack.whisperctl(["migrate", "up"])
        #expect(again.status == 1, "nothing to do")
        let after = try Self.json(try await stack.whisperctl(["migrate", "status", "--json"]))
        let second = after["migrations"]?.arrayValue?.last
        #expect(second?["state"]?.stringValue == "applied" && second?["duration_ms"]?.intValue != nil)
        let down = try await stack.whisperctl(["migrate", "down"])
        #expect(down.status == 1, "no --yes, no terminal: refused")
        // On a terminal, answering n refuses out loud and changes nothing.
        let answeredNo = try await WhisperctlBinary.runOnTerminal(["migrate", "down"], answering: "n", in: stack.directory)
        #expect(answeredNo.status == 1 && answeredNo.stdout.contains("[y/N]"), "\(answeredNo.stdout)\(answeredNo.stderr)")
        #expect(answeredNo.stdout.contains("whisperctl migrate down: refused: not confirmed; nothing was changed"), "\(answeredNo.stdout)")
        #expect(try Self.json(try await stack.whisperctl(["migrate", "status", "--json"]))["current"]?.intValue == 2)
        let confirmed = try await stack.whisperctl(["migrate", "down", "--yes"])
        #expect(confirmed.status == 0 && confirmed.stdout.contains("reverted 002_add_report_status"))
        let goto = try await stack.whisperctl(["migrate", "goto", "2"])
        #expect(goto.status == 0, "\(goto.stderr)")
        #expect(try Self.json(try await stack.whisperctl(["migrate", "status", "--json"]))["current"]?.intValue == 2)
    }

    @Test func anSQLErrorNamesFileLineAndColumn() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try stack.directory.write("migrations/002_broken.up.sql", "-- adds a column\nALTER TABLE abuse_reports\n    ADD COLUMN flag boolen;\n")
        let run = try await stack.whisperctl(["migrate", "up"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("002_broken.up.sql:3:21: type \"boolen\" does not exist (SQLSTATE 42704)"), "\(run.stderr)")
    }

    @Test func aSecondRunWaitsForTheLockOrFailsAtOnce() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try stack.directory.write("migrations/002_x.up.sql", "CREATE TABLE x (id int);\n")
        // Another run holds the migration lock.
        let other = try await stack.connect()
        try await other.query("SELECT set_config('application_name', 'whisper-server --migrate on ws9', false)")
        try await other.query("SELECT pg_advisory_lock(7316952001)")
        let noWait = try await stack.whisperctl(["migrate", "up", "--no-wait"])
        #expect(noWait.status == 1)
        #expect(noWait.stderr.contains("whisper-server --migrate on ws9"), "\(noWait.stderr)")
        Task {
            try? await Task.sleep(for: .seconds(2))
            _ = try? await other.query("SELECT pg_advisory_unlock(7316952001)")
        }
        let waited = try await stack.whisperctl(["migrate", "up"])
        other.close()
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stderr.contains("waiting for the migration lock, held by whisper-server --migrate on ws9"))
        #expect(waited.elapsed > .seconds(1.5))
    }

    @Test func aFailureOutsideATransactionLeavesItDirtyUntilForced() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try stack.directory.write("migrations/002_index.up.sql", """
            -- whisper:no-transaction
            CREATE INDEX CONCURRENTLY abuse_reports_reason_idx ON abuse_reports (reason);
            CREATE INDEX CONCURRENTLY abuse_reports_nope_idx ON abuse_reports (nope);
            """)
        let run = try await stack.whisperctl(["migrate", "up"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("002_index.up.sql:3:") && run.stderr.contains("marked dirty"), "\(run.stderr)")
        let status = try await stack.whisperctl(["migrate", "status"])
        #expect(status.status == 1 && status.stdout.contains("DIRTY") && status.stdout.contains("migrate force 2"), "\(status.stdout)")
        let refused = try await stack.whisperctl(["migrate", "up"])
        #expect(refused.status == 1 && refused.stderr.contains("is dirty"))
        // A human finishes the job, then records it.
        let connection = try await stack.connect()
        #expect(try await connection.query("SELECT to_regclass('abuse_reports_reason_idx') IS NOT NULL").rows[0][0].bool == true, "the first statement stayed")
        connection.close()
        let forced = try await stack.whisperctl(["migrate", "force", "2", "--yes"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Self.json(try await stack.whisperctl(["migrate", "status", "--json"]))["dirty"] == .null)
    }

    @Test func aLockTimeoutIsRetriedWithBackoffThenGivenUp() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        try stack.directory.write("migrations/002_alter.up.sql", "ALTER TABLE abuse_reports ADD COLUMN note text;\n")
        let blocker = try await stack.connect()
        try await blocker.execute(script: "BEGIN; LOCK TABLE abuse_reports IN ACCESS EXCLUSIVE MODE")
        let gaveUp = try await stack.whisperctl(["migrate", "up", "--lock-timeout", "200ms", "--retries", "1"])
        #expect(gaveUp.status == 2)
        #expect(gaveUp.stderr.contains("55P03") && gaveUp.stderr.contains("attempt 2 of 2"), "\(gaveUp.stderr)")
        Task {
            try? await Task.sleep(for: .milliseconds(1500))
            _ = try? await blocker.execute(script: "COMMIT")
        }
        let retried = try await stack.whisperctl(["migrate", "up", "--lock-timeout", "300ms", "--retries", "4"])
        blocker.close()
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stderr.contains("retrying"))
    }

    // MARK: - The operations lock

    @Test func mutationsNeverOverlap() async throws {
        let stack = try await Stack.start(extraYAML: "lock:\n  backend: file\n")
        defer { Task { await stack.stop() } }
        let backend = FileLockBackend(path: stack.directory.file(".whisperctl.lock"))
        let held = try await OperationsLock.acquire(backend, command: "rollout")
        let status = try await stack.whisperctl(["lock", "status"])
        #expect(status.status == 1 && status.stdout.contains("running 'rollout'"), "\(status.stdout)")
        let blocked = try await stack.whisperctl(["backup"])
        #expect(blocked.status == 1)
        #expect(blocked.stderr.contains("held by") && blocked.stderr.contains("'rollout'"), "\(blocked.stderr)")
        Task {
            try? await Task.sleep(for: .seconds(1))
            await held.release()
        }
        let waited = try await stack.whisperctl(["backup", "--wait", "10s"])
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stderr.contains("waiting for the operations lock"))
        #expect(try await stack.whisperctl(["lock", "status"]).status == 0)
    }
}

extension DataSafetyTests {
    /// Every mutating command that is refused (no --yes, no terminal) says so in the audit log.
    @Test func everyRefusalIsAudited() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        let id = try #require(try Self.json(try await stack.whisperctl(["backup", "--json"]))["id"]?.stringValue)
        let held = try await OperationsLock.acquire(PostgresLockBackend(url: stack.postgres.url, deployment: "data-test"), command: "backup")
        let refusals: [(arguments: [String], command: String)] = [
            (["migrate", "down"], "migrate"), (["migrate", "goto", "0"], "migrate"), (["migrate", "force", "1"], "migrate"),
            (["restore", id], "restore"), (["lock", "break"], "lock"),
        ]
        for refusal in refusals {
            let run = try await stack.whisperctl(refusal.arguments)
            #expect(run.status == 1, "\(refusal.arguments): \(run.stdout)\(run.stderr)")
            let last = try #require(try stack.lastAudit())
            #expect(last["command"]?.stringValue == refusal.command && last["result"] == "refused", "\(refusal.arguments): \(last.serialized())")
        }
        // Confirmed, but the lock is someone else's: refused too, naming them.
        let locked = try await stack.whisperctl(["migrate", "down", "--yes", "--no-wait"])
        #expect(locked.status == 1 && locked.stderr.contains("running 'backup'"), "\(locked.stderr)")
        await held.release()
        #expect(try await stack.count("abuse_reports") >= 0, "nothing was reverted")
    }

    /// A backup that fails part way leaves the lock free and its failure in the audit log.
    @Test func aFailedBackupReleasesTheLockAndIsAudited() async throws {
        let stack = try await Stack.start()
        defer { Task { await stack.stop() } }
        // No pg_dump to be found: the backup fails after it took the lock.
        let empty = try TemporaryDirectory()
        defer { empty.remove() }
        let run = try await stack.whisperctl(["backup"], environment: ["WHISPERCTL_PG_BIN": empty.path])
        #expect(run.status == 2)
        let lock = try await stack.whisperctl(["lock", "status"])
        #expect(lock.status == 0 && lock.stdout.hasPrefix("free"), "\(lock.stdout)\(lock.stderr)")
        let last = try #require(try stack.lastAudit())
        #expect(last["command"] == "backup" && last["result"] == "failed" && last["error"]?.stringValue?.contains("pg_dump") == true, "\(last.serialized())")
    }
}
