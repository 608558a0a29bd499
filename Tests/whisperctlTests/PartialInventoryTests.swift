import Foundation
import OpsKit
import TestSupport
import Testing

/// An inventory that names only some components: the others are not configured, never probed
/// at the local stack's addresses, never critical, never the lock's home.
@Suite(.serialized) struct PartialInventoryTests {
    @Test func statusAndTopWithOnlyAServerProbeOnlyTheServer() async throws {
        let server = try await WhisperServerProcess.start()
        defer { Task { await server.stop() } }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: one\nservers:\n  - name: ws1\n    url: \(server.baseURL)\n")
        let status = try await WhisperctlBinary.run(["status", "--json"], in: directory)
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        let document = try JSONValue.parse(Array(status.stdout.utf8))
        #expect(document["components"]?.arrayValue?.map { $0["name"] } == [.string("ws1")])
        #expect(document["not_configured"] == .array(["haproxy", "redis", "nats", "postgres"].map(JSONValue.string)))
        let text = try await WhisperctlBinary.run(["status"], in: directory)
        #expect(text.status == 0 && text.stdout.contains("not configured: haproxy, redis, nats, postgres"), "\(text.stdout)")
        let top = try await WhisperctlBinary.run(["top", "--once", "--json"], in: directory)
        #expect(top.status == 0, "\(top.stdout)\(top.stderr)")
        #expect(!top.stdout.contains("6379") && !top.stdout.contains("8404") && !top.stdout.contains("8222"), "no default address probed: \(top.stdout)")
    }

    @Test func withOnlyNATSsURLStatusPingsItOverTheClientProtocol() async throws {
        try await withService({ try await NATSServer.start() }) { nats in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try directory.write("whisperctl.yml", "deployment: bus\nnats:\n  url: \(nats.url)\n")
            let run = try await WhisperctlBinary.run(["status", "nats", "--json"], in: directory)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            let component = try JSONValue.parse(Array(run.stdout.utf8))["components"]?.arrayValue?.first
            #expect(component?["status"] == "ok" && component?["detail"]?.stringValue?.contains("PING") == true, "\(run.stdout)")
            await nats.stop()
            let down = try await WhisperctlBinary.run(["status", "nats"], in: directory)
            #expect(down.status == 2, "\(down.stdout)\(down.stderr)")
        }
    }

    @Test func migrateWithOnlyPostgresLocksInPostgres() async throws {
        try await withService({ try await PostgresServer.start() }) { postgres in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try FileManager.default.createDirectory(atPath: directory.file("migrations"), withIntermediateDirectories: true)
            try directory.write("migrations/001_notes.up.sql", "CREATE TABLE notes (id int);\n")
            try directory.write("migrations/001_notes.down.sql", "DROP TABLE notes;\n")
            try directory.write("whisperctl.yml", "deployment: db\npostgres:\n  url: \(postgres.url)\naudit:\n  log: \(directory.file("audit.log"))\n")
            let up = try await WhisperctlBinary.run(["migrate", "up"], in: directory)
            #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
            #expect(!up.stderr.contains("6379"), "no Redis nobody named: \(up.stderr)")
            let lock = try await WhisperctlBinary.run(["lock", "status"], in: directory)
            #expect(lock.status == 0 && lock.stdout.contains("postgres advisory lock"), "\(lock.stdout)\(lock.stderr)")
            let audit = try String(contentsOfFile: directory.file("audit.log"), encoding: .utf8)
            #expect(audit.contains(#""command":"migrate""#) && audit.contains(#""result":"ok""#))
        }
    }

    @Test func configShowListsWhatIsNotConfigured() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: x\nredis:\n  addr: 10.0.0.3:6379\n")
        let run = try await WhisperctlBinary.run(["config", "show"], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        for key in ["postgres.url", "nats.url", "haproxy.stats_url"] {
            #expect(run.stdout.contains(key) && run.stdout.contains("(not configured)"), "\(key): \(run.stdout)")
        }
        #expect(!run.stdout.contains("127.0.0.1:5432"))
    }
}
