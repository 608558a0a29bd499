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
}
