import Foundation
@testable import OpsKit
import TestSupport
import Testing

/// The parts of `bundle` and `logs` read by other programs or fed by them: the tar and gzip that
/// GNU tar and gzip unpack, the `logs:` values, Docker's log frames, a file's last lines.
@Suite struct LogsAndArchiveTests {
    @Test func gnuTarUnpacksWhatTheArchiveWrites() async throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        defer { directory.remove() }
        var tar = TarArchive()
        let created = Date(timeIntervalSince1970: 1_764_700_000)
        let deep = "b/" + String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 90) + ".txt"
        try tar.addDirectory("b", modified: created)
        try tar.addFile("b/small.txt", Array("hello\n".utf8), modified: created)
        try tar.addFile(deep, Array(repeating: UInt8(ascii: "x"), count: 1500), modified: created)
        try tar.addFile("b/empty", [], modified: created)
        #expect(throws: TarArchive.EntryError.self) { try tar.addFile("b/small.txt", [], modified: created) }
        for bad in ["/etc/passwd", "../x", "b/../x", "", "b//c"] {
            #expect(throws: TarArchive.EntryError.self, "\(bad)") { try tar.addFile(bad, [], modified: created) }
        }
        let archive = try Gzip.compress(tar.finished())
        try Data(archive).write(to: URL(fileURLWithPath: directory.file("a.tar.gz")))
        let integrity = try await ExternalTool.run("gzip", ["-t", directory.file("a.tar.gz")], in: directory.path)
        #expect(integrity.status == 0, "\(ExternalTool.output(integrity))")
        let listing = try await ExternalTool.run("tar", ["-tvzf", directory.file("a.tar.gz")], in: directory.path)
        #expect(listing.status == 0 && listing.stderr.isEmpty, "\(ExternalTool.output(listing))")
        #expect(listing.stdout.contains("-rw------- root/root         6 ") && listing.stdout.contains("drwx------ root/root"), "\(listing.stdout)")
        let unpack = try await ExternalTool.run("tar", ["-xzf", directory.file("a.tar.gz")], in: directory.path)
        #expect(unpack.status == 0, "\(ExternalTool.output(unpack))")
        #expect(try String(contentsOfFile: directory.file("b/small.txt"), encoding: .utf8) == "hello\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.file(deep))).count == 1500)
        #expect(FileManager.default.fileExists(atPath: directory.file("b/empty")))
        #expect(try Gzip.compress(tar.finished()) == archive, "the same input, the same bytes")
    }

    @Test func logSourcesReadAsTheInventoryWritesThem() throws {
        #expect(try LogSource(parsing: "/var/log/haproxy.log") == .file("/var/log/haproxy.log"))
        #expect(try LogSource(parsing: "logs/ws1.log") == .file("logs/ws1.log"))
        #expect(try LogSource(parsing: "file:C:weird") == .file("C:weird"))
        // What would not read back bare is named with its prefix (the inventory and bundle show it).
        #expect(LogSource.file("C:weird").description == "file:C:weird" && LogSource.file(" x").description == "file: x")
        #expect(LogSource.file("logs/ws1.log").description == "logs/ws1.log")
        #expect(try LogSource(parsing: "journald:whisper-server@1") == .journald(unit: "whisper-server@1"))
        #expect(try LogSource(parsing: "docker:whisper-ws1-1") == .docker(container: "whisper-ws1-1"))
        #expect(try LogSource(parsing: "k8s:whisper/app=whisper-server,tier=ws") == .kubernetes(namespace: "whisper", selector: "app=whisper-server,tier=ws"))
        for (bad, says) in [
            ("", "empty"), ("journald:", "needs a unit"), ("docker:../x", "container name"), ("docker:-f", "container name"),
            ("k8s:whisper", "NAMESPACE/SELECTOR"), ("syslog:local0", "unknown log source 'syslog:'"),
        ] {
            #expect(performing: { try LogSource(parsing: bad) }, throws: { ($0 as? LogSourceError)?.description.contains(says) == true })
        }
    }

    @Test func aBadLogsValueIsAConfigurationErrorWithItsLine() throws {
        let loader = InventoryLoader(environment: [:], workingDirectory: "/nonexistent")
        let inventory = try loader.assemble(
            configPath: "/srv/whisperctl.yml",
            configText: "servers:\n  - name: ws1\n    url: http://127.0.0.1:1\n    logs: syslog:x\nredis:\n  addr: 127.0.0.1:6379\n  logs: \"journald:\"\n",
            dotenv: nil)
        let problems = InventoryValidator().validate(inventory, checkFiles: false).filter { $0.severity == .error }
        #expect(problems.contains { $0.location == "/srv/whisperctl.yml:4" && $0.message.contains("unknown log source") }, "\(problems)")
        #expect(problems.contains { $0.field == "redis.logs" && $0.message.contains("needs a unit") }, "\(problems)")
    }

    @Test func relativeLogFilesAreReadBesideTheInventory() throws {
        let loader = InventoryLoader(environment: [:], workingDirectory: "/nonexistent")
        let inventory = try loader.assemble(
            configPath: "/srv/prod/whisperctl.yml", configText: "servers:\n  - name: ws1\n    url: http://127.0.0.1:1\n    logs: logs/ws1.log\nnats:\n  url: nats://127.0.0.1:4222\n  logs: k8s:whisper/app=nats\n",
            dotenv: nil)
        let logs = inventory.serviceLogs
        #expect(logs.map(\.service) == ["ws1", "nats"])
        #expect(try logs[0].source() == .file("/srv/prod/logs/ws1.log"))
        #expect(try logs[1].source() == .kubernetes(namespace: "whisper", selector: "app=nats"))
    }

    @Test func dockerFramesAreSplitByStreamAndCutFramesWait() {
        let frame: (UInt8, String) -> [UInt8] = { stream, text in
            let bytes = Array(text.utf8)
            return [stream, 0, 0, 0, UInt8(bytes.count >> 24 & 0xff), UInt8(bytes.count >> 16 & 0xff), UInt8(bytes.count >> 8 & 0xff), UInt8(bytes.count & 0xff)] + bytes
        }
        let stream = frame(1, "out one\n") + frame(2, "err one\n") + frame(1, "out two\n")
        #expect(DockerLogStream.lines(stream) == ["out one", "err one", "out two"])
        let cut = Array(stream.dropLast(3))
        let (chunks, remainder) = DockerLogStream.frames(cut)
        #expect(chunks.map(\.stream) == [1, 2] && remainder == 8 + 5)
        #expect(DockerLogStream.lines(Array("tty line\nsecond\n".utf8)) == ["tty line", "second"], "a TTY container's raw bytes")
    }

    @Test func theLastLinesOfALargeFileCostOnlyTheirBlocks() throws {
        let directory = try TemporaryDirectory(prefix: "tail")
        defer { directory.remove() }
        let lines = (1...100_000).map { "line \($0) " + String(repeating: "x", count: $0 % 50) }
        try directory.write("big.log", lines.joined(separator: "\n") + "\n")
        #expect(try LogTail.lastLines(3, ofFile: directory.file("big.log")) == Array(lines.suffix(3)))
        #expect(try LogTail.lastLines(2000, ofFile: directory.file("big.log")) == Array(lines.suffix(2000)), "across several blocks")
        try directory.write("short.log", "one\ntwo")
        #expect(try LogTail.lastLines(10, ofFile: directory.file("short.log")) == ["one", "two"], "no newline at the end")
        try directory.write("empty.log", "")
        #expect(try LogTail.lastLines(10, ofFile: directory.file("empty.log")).isEmpty)
        #expect(performing: { try LogTail.lastLines(1, ofFile: directory.file("none.log")) }, throws: {
            "\($0)".contains("cannot read log \(directory.file("none.log")): No such file or directory")
        })
        #expect(performing: { try LogTail.lastLines(1, ofFile: directory.path) }, throws: { "\($0)".contains("not a regular file") })
    }

    /// journalctl -o json, from a fixture: the time and level from journald, a whisper-server JSON
    /// line inside MESSAGE read as one, bytes that are not UTF-8 kept.
    @Test func journalEntriesFromAFixture() throws {
        let text = try String(contentsOfFile: Repository.path("Tests/Fixtures/journal/whisper-server.json"), encoding: .utf8)
        let parser = LogLineParser()
        let records = text.split(separator: "\n").map { parser.parse(String($0), service: "ws1", source: .journald(unit: "whisper-server@1")) }
        #expect(records.map(\.message) == ["listening", "plain line from a wrapper script", "bad \u{FFFD}byte", "redis unreachable"])
        #expect(records.map(\.level) == [.info, .warning, .error, .error])
        #expect(records[0].fields.map(\.0) == ["addr"], "whisper-server's fields")
        #expect(records[1].time.map { LogTime.format($0) } == "2026-12-03T08:00:02.500Z", "journald's time for a line with none")
        #expect(records[3].time.map { LogTime.format($0) } == "2026-12-03T08:00:04.125Z", "the line's own time first")
    }

    @Test func eachServiceFormatGivesTimeAndLevel() {
        let parser = LogLineParser(now: LogTime.parseISO("2026-12-03T09:00:00Z")!)
        func check(_ line: String, _ source: LogSource = .file("x"), time: String?, level: LogLevel?, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let record = parser.parse(line, service: "s", source: source)
            #expect(record.time.map { LogTime.format($0) } == time, "\(line)", sourceLocation: sourceLocation)
            #expect(record.level == level, "\(line)", sourceLocation: sourceLocation)
            #expect(record.message == message, "\(line)", sourceLocation: sourceLocation)
        }
        check("12345:M 03 Dec 2026 08:00:00.123 * Ready to accept connections tcp", time: "2026-12-03T08:00:00.123Z", level: .notice, message: "Ready to accept connections tcp")
        check("[4242] 2026/12/03 08:00:01.654321 [WRN] Slow consumer", time: "2026-12-03T08:00:01.654Z", level: .warning, message: "Slow consumer")
        check("2026-12-03 08:00:02.250 UTC [77] LOG:  database system is ready to accept connections", time: "2026-12-03T08:00:02.250Z", level: .info,
              message: "database system is ready to accept connections")
        check("2026-12-03 08:00:02.250 UTC [77] FATAL:  password authentication failed", time: "2026-12-03T08:00:02.250Z", level: .critical,
              message: "password authentication failed")
        check("[NOTICE]   (9) : New worker (10) forked", time: nil, level: .notice, message: "New worker (10) forked")
        check("Dec  3 08:00:03 lb1 haproxy[9]: 10.0.0.1:5000 [03/Dec/2026:08:00:03.000] fe be/ws1 0/0/1/2/3 101", time: "2026-12-03T08:00:03.000Z", level: nil,
              message: "10.0.0.1:5000 [03/Dec/2026:08:00:03.000] fe be/ws1 0/0/1/2/3 101")
        check("2026-12-03T08:00:04Z warning slow client session=9", time: "2026-12-03T08:00:04.000Z", level: .warning, message: "slow client session=9")
        check("2026-12-03T08:00:05.123456789Z {\"ts\":\"2026-12-03T08:00:05Z\",\"level\":\"info\",\"msg\":\"hi\"}", .docker(container: "c"),
              time: "2026-12-03T08:00:05.000Z", level: .info, message: "hi")
        check("[pod/ws-0/server] 2026-12-03T08:00:06.5Z plain text", .kubernetes(namespace: "n", selector: "a=b"), time: "2026-12-03T08:00:06.500Z", level: nil,
              message: "plain text")
        check("\tat some.Frame(File.swift:12)", time: nil, level: nil, message: "\tat some.Frame(File.swift:12)")
    }

    @Test func mergingKeepsEachLogsOrderAndCarriesTimesForward() {
        let parser = LogLineParser()
        let a = LogMerge.timed(["2026-12-03T08:00:01Z info a1", "continuation of a1", "2026-12-03T08:00:03Z info a3"].map { parser.parse($0, service: "a", source: .file("a")) })
        let b = LogMerge.timed(["2026-12-03T08:00:02Z info b2", "2026-12-03T08:00:01.5Z info b1.5 (out of order)", "2026-12-03T08:00:04Z info b4"].map {
            parser.parse($0, service: "b", source: .file("b"))
        })
        let merged = LogMerge.merge([a, b]).map(\.record.message)
        #expect(merged == ["a1", "continuation of a1", "b2", "b1.5 (out of order)", "a3", "b4"], "\(merged)")
        let since = LogFilter(since: LogTime.parseISO("2026-12-03T08:00:01Z"), level: .info)
        #expect(a.filter { since.keeps($0.record, time: $0.time) }.count == 2, "the continuation has no level: --level leaves it out")
    }
}
