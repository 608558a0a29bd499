import Foundation
import OpsKit
import TestSupport

/// whisperctl backup beside plain pg_dump on the same database in the same run, and migrate with
/// 500 migrations.
enum DataSafetyBench {
    static func inventory(_ postgres: PostgresServer, in directory: TemporaryDirectory, migrations: String? = nil) throws {
        try directory.write("whisperctl.yml", """
            deployment: bench
            servers: []
            haproxy: ~
            redis: ~
            nats: ~
            postgres:
              url: \(postgres.url)
            backup:
              dir: \(directory.file("backups"))
            audit:
              log: \(directory.file("audit.log"))
            \(migrations.map { "migrations:\n  dir: \($0)" } ?? "")
            """)
    }

    /// `megabytes` of data, then `runs` rounds of (pg_dump -Fc to a file, whisperctl backup), alternating.
    static func backup(megabytes: Int, runs: Int) async throws {
        let postgres = try await PostgresServer.start()
        let directory = try TemporaryDirectory(prefix: "whisper-bench")
        try inventory(postgres, in: directory)
        let connection = try await PostgresConnection.connect(url: postgres.url)
        try await connection.execute(script: "CREATE TABLE bulk (id int PRIMARY KEY, payload text)")
        let rows = megabytes * 1024
        var inserted = 0
        while inserted < rows {
            let batch = min(50_000, rows - inserted)
            try await connection.query(
                "INSERT INTO bulk SELECT g, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 32) s) FROM generate_series($1::int, $2::int) g",
                [inserted + 1, inserted + batch], timeout: .seconds(3600))
            inserted += batch
        }
        let size = try await connection.query("SELECT pg_database_size(current_database())").rows.first?[0].int ?? 0
        connection.close()
        print("database: \(ByteCount.format(size))")
        let pgDump = try await PostgresClientTools.find("pg_dump", serverMajor: 15)
        let (conninfo, password) = try PostgresConnectionInfo(parsing: postgres.url).forChildProcess()
        var plain: [Duration] = []
        var ours: [Duration] = []
        for round in 0..<runs {
            let file = directory.file("plain-\(round).dump")
            let started = ContinuousClock.now
            _ = try Command.capture(
                pgDump.path, ["--format=custom", "--no-password", "--file=\(file)", "--dbname=\(conninfo)"],
                environment: password.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a }, directory: directory.path)
            plain.append(ContinuousClock.now - started)
            try? FileManager.default.removeItem(atPath: file)
            let run = try Command.capture(ProductBinary.path("whisperctl"), ["backup", "--quiet", "--keep-last", "1"], environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path], directory: directory.path)
            guard run.status == 0 else { throw SupportError("backup failed: \(run.stderr)") }
            ours.append(run.elapsed)
            for entry in try BackupStore(directory: directory.file("backups")).list().entries { try? FileManager.default.removeItem(atPath: entry.path) }
        }
        let plainMedian = median(plain)
        let oursMedian = median(ours)
        print(String(
            format: "backup of %@: pg_dump -Fc to a file median %.2f s, whisperctl backup (dump + SHA-256 + row counts + fsync + verify) median %.2f s: %+.1f%% (%d runs each, alternating)",
            ByteCount.format(size), plainMedian.seconds, oursMedian.seconds, (oursMedian.seconds / plainMedian.seconds - 1) * 100, runs))
        print("  pg_dump: " + plain.map { String(format: "%.2f", $0.seconds) }.joined(separator: " ") + "; whisperctl: " + ours.map { String(format: "%.2f", $0.seconds) }.joined(separator: " "))
        await postgres.stop()
        directory.remove()
    }

    /// `migrate up` and `migrate status` with `count` migrations.
    static func migrations(count: Int, runs: Int) async throws {
        let directory = try TemporaryDirectory(prefix: "whisper-bench")
        let migrations = directory.file("migrations")
        try FileManager.default.createDirectory(atPath: migrations, withIntermediateDirectories: true)
        for index in 1...count {
            try directory.write("migrations/\(String(format: "%03d", index))_table_\(index).up.sql", "CREATE TABLE t\(index) (id bigint PRIMARY KEY, note text);\nCREATE INDEX t\(index)_note ON t\(index) (note);\n")
            try directory.write("migrations/\(String(format: "%03d", index))_table_\(index).down.sql", "DROP TABLE t\(index);\n")
        }
        var ups: [Duration] = []
        var statuses: [Duration] = []
        for _ in 0..<runs {
            let postgres = try await PostgresServer.start()
            try inventory(postgres, in: directory, migrations: migrations)
            let environment = ["PATH": "/usr/bin:/bin", "HOME": directory.path]
            let up = try Command.capture(ProductBinary.path("whisperctl"), ["migrate", "up"], environment: environment, directory: directory.path)
            guard up.status == 0 else { throw SupportError("migrate up: \(up.stderr)") }
            ups.append(up.elapsed)
            let status = try Command.capture(ProductBinary.path("whisperctl"), ["migrate", "status", "--json"], environment: environment, directory: directory.path)
            guard status.status == 0 else { throw SupportError("migrate status: \(status.stderr)") }
            statuses.append(status.elapsed)
            await postgres.stop()
        }
        print("\(count) migrations: migrate up median \(ms(median(ups))) (\(String(format: "%.1f", median(ups).seconds * 1000 / Double(count))) ms each), migrate status median \(ms(median(statuses))) over \(runs) runs")
        directory.remove()
    }
}
