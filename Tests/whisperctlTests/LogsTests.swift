import Foundation
import OpsKit
import TestSupport
import Testing

/// `whisperctl logs` over the logs real services write: Redis, NATS, PostgreSQL, HAProxy and two
/// whisper-servers; following through a rotation; sources that cannot be read.
@Suite(.serialized) struct LogsTests {
    @Test func everyServiceInOneStreamInTimeOrder() async throws {
        let directory = try TemporaryDirectory(prefix: "logs")
        defer { directory.remove() }
        let stack = try await LoggingStack.start()
        defer { Task.detached { await stack.stop() } }
        let haproxy = stack.haproxy
        // HAProxy writes a line of its own when a server goes into maintenance.
        try await HAProxyRuntimeAPI(parsing: haproxy.runtimeSocket).setState("maint", server: "ws2", backend: haproxy.backend)
        try await eventually("HAProxy's log line") {
            ((try? String(contentsOfFile: haproxy.process.logPath, encoding: .utf8)) ?? "").contains("maintenance")
        }
        try directory.write("whisperctl.yml", stack.inventory(deployment: "logs-test"))

        let run = try await WhisperctlBinary.run(["logs", "--json", "-n", "1000"], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let records = try run.stdout.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
        let services = Set(records.compactMap { $0["service"]?.stringValue })
        #expect(services == ["ws1", "ws2", "haproxy", "redis", "nats", "postgres"], "every service's lines: \(services)")
        // whisper-server's own JSON lines, as they are, with the service added.
        let server = try #require(records.first { $0["service"]?.stringValue == "ws1" })
        #expect(server["msg"]?.stringValue != nil && server["ts"]?.stringValue != nil, "\(server.serialized())")
        #expect(records.contains { $0["service"]?.stringValue == "haproxy" && $0["level"]?.stringValue == "warning" && $0["message"]?.stringValue?.contains("maintenance") == true })
        // Redis, NATS and PostgreSQL lines are read by their formats: a time and a level each.
        for service in ["redis", "nats", "postgres"] {
            let own = records.filter { $0["service"]?.stringValue == service }
            #expect(own.contains { $0["time"]?.stringValue != nil && $0["level"]?.stringValue != nil }, "\(service): \(own.prefix(3).map { $0.serialized() })")
        }
        // In time order across services (a line without a time goes with the one before it).
        let times = records.compactMap { record -> Date? in
            guard let text = record["time"]?.stringValue ?? record["ts"]?.stringValue else { return nil }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
            return formatter.date(from: text)
        }
        #expect(times.count > 10 && times == times.sorted(), "time order")

        let warnings = try await WhisperctlBinary.run(["logs", "--json", "--level", "warning", "-n", "1000"], in: directory)
        let severe = warnings.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8))["level"]?.stringValue }
        #expect(severe.allSatisfy { ["warning", "error", "critical"].contains(LogLevel(named: $0)?.name ?? "") }, "\(severe)")

        let text = try await WhisperctlBinary.run(["logs", "redis", "--grep", "READY TO ACCEPT"], in: directory)
        #expect(text.status == 0 && text.stdout.contains(" redis ") && text.stdout.contains("Ready to accept connections"), "\(text.stdout)\(text.stderr)")
        #expect(!text.stdout.contains(" nats "), "only the service named")

        let typo = try await WhisperctlBinary.run(["logs", "reddis"], in: directory)
        #expect(typo.status == 64 && typo.stderr.contains("did you mean 'redis'?"), "\(typo.stderr)")
    }

    /// -f shows each new line once, in order, across a logrotate-style rename and a
    /// copytruncate; Ctrl-C ends it with status 0.
    @Test func followingSurvivesRotation() async throws {
        let directory = try TemporaryDirectory(prefix: "logs-follow")
        defer { directory.remove() }
        let log = directory.file("ws1.log")
        func append(_ message: String, to path: String? = nil) throws {
            let handle = FileHandle(forWritingAtPath: path ?? log)!
            handle.seekToEndOfFile()
            handle.write(Data("{\"ts\":\"2026-12-03T08:00:00Z\",\"level\":\"info\",\"msg\":\"\(message)\"}\n".utf8))
            try handle.close()
        }
        try directory.write("ws1.log", "")
        try append("old one")
        try append("old two")
        try directory.write("whisperctl.yml", "deployment: f\nservers:\n  - name: ws1\n    url: http://127.0.0.1:1\n    logs: ws1.log\n")
        let output = directory.file("out.txt")
        let pid = try spawnWithCleanSignals(
            program: "/usr/bin/env", arguments: ["/usr/bin/env", "-C", directory.path, WhisperctlBinary.path, "logs", "-f", "-n", "1"],
            outputPath: output, errorPath: directory.file("err.txt"), environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
        func shown() -> [String] {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                line.range(of: "INFO  ").map { String(line[$0.upperBound...]) }
            }
        }
        try await eventually("the last line of the history") { shown() == ["old two"] }
        try append("new one")
        try await eventually("a line appended") { shown().last == "new one" }
        // logrotate's create: renamed away, a line still lands in the old file, then a new file.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        try append("late in the old file", to: log + ".1")
        try directory.write("ws1.log", "")
        try append("first in the new file")
        try await eventually("the new file's line") { shown().last == "first in the new file" }
        // copytruncate: the same file emptied in place.
        try append("before truncation")
        try await eventually("the line before truncation") { shown().last == "before truncation" }
        truncate(log, 0)
        try append("after truncation")
        try await eventually("the line after truncation") { shown().last == "after truncation" }
        kill(pid, SIGINT)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 0, "Ctrl-C stops following, status 0 (\(status))")
        #expect(shown() == ["old two", "new one", "late in the old file", "first in the new file", "before truncation", "after truncation"],
                "each line once, in order: \(shown())")
    }

    /// A log that cannot be read is named with its cause and the exit status says so; the other
    /// logs are still shown. journalctl missing is such a cause.
    @Test func unreadableSourcesAreNamedAndTheRestShown() async throws {
        let directory = try TemporaryDirectory(prefix: "logs-bad")
        defer { directory.remove() }
        try directory.write("ws1.log", "{\"ts\":\"2026-12-03T08:00:00Z\",\"level\":\"info\",\"msg\":\"still shown\"}\n")
        try directory.write("whisperctl.yml", """
            deployment: bad
            servers:
              - name: ws1
                url: http://127.0.0.1:1
                logs: ws1.log
              - name: ws2
                url: http://127.0.0.1:2
                logs: gone/ws2.log
            redis:
              addr: 127.0.0.1:1
              logs: journald:redis-server

            """)
        let run = try await WhisperctlBinary.run(["logs"], environment: ["PATH": "/nonexistent"], in: directory)
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ws1   INFO  still shown"), "\(run.stdout)")
        #expect(run.stderr.contains("ws2: cannot read log \(directory.path)/gone/ws2.log: No such file or directory"), "\(run.stderr)")
        #expect(run.stderr.contains("redis: journald:redis-server: journalctl is not installed"), "\(run.stderr)")

        try directory.write("whisperctl.yml", "deployment: none\nservers:\n  - name: ws1\n    url: http://127.0.0.1:1\n")
        let none = try await WhisperctlBinary.run(["logs"], in: directory)
        #expect(none.status == 3 && none.stderr.contains("no service has a logs: source"), "\(none.stderr)")
    }
}
