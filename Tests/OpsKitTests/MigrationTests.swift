import Foundation
import OpsKit
import TestSupport
import Testing

@testable import OpsKit

@Suite struct MigrationTests {
    @Test func appliesRecordsAndRevertsTheRepositorysMigrations() async throws {
        try await withService({ try await PostgresServer.start() }) { postgres in
            let connection = try await PostgresConnection.connect(url: postgres.url)
            defer { connection.close() }
            let runner = MigrationRunner(connection: connection, migrations: try MigrationDirectory.load(Repository.path("migrations")))
            #expect(try await runner.status().map(\.appliedAt).allSatisfy { $0 == nil })
            #expect(try await runner.up(dryRun: true).map(\.version) == [1])
            #expect(try await runner.status().first?.appliedAt == nil, "a dry run changes nothing")

            #expect(try await runner.up().map(\.name) == ["create_abuse_reports"])
            #expect(try await runner.up().isEmpty, "applying again does nothing")
            let status = try await runner.status()
            #expect(status.count == 1 && status[0].appliedAt != nil && !status[0].modified)
            let columns = try await connection.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'abuse_reports' ORDER BY ordinal_position")
            #expect(columns.rows.map { $0[0].string } == ["id", "reported_session", "reporter_session", "reported_ip_hash", "reason", "chat_id", "created_at"])
            let indexes = try await connection.query("SELECT indexname FROM pg_indexes WHERE tablename = 'abuse_reports'")
            #expect(indexes.rows.contains { $0[0].string == "abuse_reports_ip_hash_created_at_idx" })

            #expect(try await runner.down().map(\.version) == [1])
            let exists = try await connection.query("SELECT to_regclass('abuse_reports') IS NOT NULL")
            #expect(exists.rows[0][0].bool == false)
            #expect(try await runner.status()[0].appliedAt == nil)
        }
    }

    @Test func aFailingMigrationNamesFileAndLineAndLeavesNothingBehind() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("001_first.up.sql", "CREATE TABLE first (id int);\n")
        _ = try directory.write("002_broken.up.sql", "CREATE TABLE second (id int);\n\nCREATE TABLE third (id intt);\n")
        try await withService({ try await PostgresServer.start() }) { postgres in
            let connection = try await PostgresConnection.connect(url: postgres.url)
            defer { connection.close() }
            let runner = MigrationRunner(connection: connection, migrations: try MigrationDirectory.load(directory.path))
            let error = await #expect(throws: MigrationError.self) { try await runner.up() }
            #expect(error?.description.hasPrefix(directory.file("002_broken.up.sql") + ":3:24: type \"intt\" does not exist") == true, "\(error.map { "\($0)" } ?? "")")
            let status = try await runner.status()
            #expect(status.map { $0.appliedAt != nil } == [true, false])
            let second = try await connection.query("SELECT to_regclass('second') IS NOT NULL")
            #expect(second.rows[0][0].bool == false, "the failed migration's first statement was rolled back")
        }
    }

    @Test func refusesAnAppliedMigrationWhoseFileChanged() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("001_first.up.sql", "CREATE TABLE first (id int);\n")
        try await withService({ try await PostgresServer.start() }) { postgres in
            let connection = try await PostgresConnection.connect(url: postgres.url)
            defer { connection.close() }
            try await MigrationRunner(connection: connection, migrations: try MigrationDirectory.load(directory.path)).up()
            try "CREATE TABLE first (id bigint);\n".write(toFile: path, atomically: true, encoding: .utf8)
            let changed = MigrationRunner(connection: connection, migrations: try MigrationDirectory.load(directory.path))
            #expect(try await changed.status()[0].modified)
            let error = await #expect(throws: MigrationChecksumError.self) { try await changed.up() }
            #expect(error?.version == 1)
            #expect(error?.description.contains("changed after it was applied") == true)
            #expect(error?.description.contains("001_first.up.sql") == true)
            let noDown = await #expect(throws: OpsError.self) { try await changed.down() }
            #expect(noDown?.message.contains("no down script") == true)
        }
    }

    @Test func badFileNamesAndDuplicateVersionsNameTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("001_a.up.sql", "SELECT 1;")
        _ = try directory.write("1_b.up.sql", "SELECT 1;")
        let duplicate = #expect(throws: OpsError.self) { try MigrationDirectory.load(directory.path) }
        #expect(duplicate?.description.contains("version 1 is also used by") == true)

        let other = try TemporaryDirectory()
        defer { other.remove() }
        _ = try other.write("create_things.sql", "SELECT 1;")
        let badName = #expect(throws: OpsError.self) { try MigrationDirectory.load(other.path) }
        #expect(badName?.endpoint == other.file("create_things.sql"))
        #expect(throws: OpsError.self) { try MigrationDirectory.load(other.file("missing")) }
        #expect(MigrationRunner.line(of: 1, in: "a\nb") == 1)
        #expect(MigrationRunner.line(of: 3, in: "a\nb") == 2)
    }
}
