import Foundation
import TestSupport
import Testing

@testable import OpsKit

/// The file edits of `whisperctl scale` on the shipped production files, each checked by the
/// program that reads it, and undone exactly by the removal.
@Suite struct ScaleFileEditTests {
    @Test func addingAServerToTheShippedFilesKeepsThemValidAndRemovingItRestoresThem() async throws {
        let copy = try DeploymentCopy()
        defer { copy.remove() }
        let inventoryPath = copy.directory.file("whisperctl.prod.yml")
        let original = try String(contentsOfFile: inventoryPath, encoding: .utf8)
        try (original.replacingOccurrences(of: "  backend: ws_servers\n", with: "  backend: ws_servers\n  config: haproxy/haproxy.prod.cfg\n")
            + "prometheus:\n  config: prometheus/prometheus.yml\n").write(toFile: inventoryPath, atomically: true, encoding: .utf8)
        let files = ["whisperctl.prod.yml", "haproxy/haproxy.prod.cfg", "prometheus/prometheus.yml", "docker-compose.prod.yml"]
        let before = try files.map { try String(contentsOfFile: copy.directory.file($0), encoding: .utf8) }
        let inventory = try InventoryLoader(explicitPath: inventoryPath, environment: [:]).load()

        let changes = try ScaleFiles(inventory: inventory).adding(.init(name: "ws3", url: "http://wsserver-3:8080"))
        #expect(changes.map(\.path) == files.map { copy.directory.file($0) })
        for change in changes { try change.apply() }

        let grown = try InventoryLoader(explicitPath: inventoryPath, environment: ["DATABASE_URL": "postgres://u@db/w", "REDIS_PASSWORD": "pw"]).load()
        #expect(grown.diagnostics.isEmpty, "\(grown.diagnostics)")
        let added = try #require(grown.servers.last)
        #expect(added.name == "ws3" && added.url == "http://wsserver-3:8080")
        #expect(added.restart?.driver == .compose && added.restart?.settings["service"] == "wsserver-3")
        let haproxy = try String(contentsOfFile: copy.directory.file("haproxy/haproxy.prod.cfg"), encoding: .utf8)
        #expect(haproxy.contains("    server ws2 wsserver-2:8080\n    server ws3 wsserver-3:8080\n"))
        #expect(FleetShapeEdits.runtimeOptions(haproxy, backend: "ws_servers") == ["check", "inter", "2s", "fall", "2", "rise", "2", "maxconn", "50000"])
        let made = try await WhisperctlBinary.run(["cert", "self-signed", "--cn", "chat.test", "--out", "tls"], in: copy.directory)
        #expect(made.status == 0)
        try haproxy.replacingOccurrences(of: "/etc/haproxy/certs/whisper.pem", with: copy.directory.file("tls/combined.pem")).write(toFile: copy.directory.file("checked.cfg"), atomically: true, encoding: .utf8)
        let check = try await ExternalTool.run("haproxy", ["-dW", "-c", "-f", copy.directory.file("checked.cfg")], environment: ["HAPROXY_STATS_PASSWORD": "s3cret-stats"])
        #expect(check.status == 0, "\(ExternalTool.output(check))")
        let promtool = try await ExternalTool.run("promtool", ["check", "config", "prometheus.yml"], in: copy.directory.file("prometheus"))
        #expect(promtool.status == 0, "\(ExternalTool.output(promtool))")
        #expect(try String(contentsOfFile: copy.directory.file("prometheus/prometheus.yml"), encoding: .utf8)
            .contains(#"["wsserver-1:8080", "wsserver-2:8080", "wsserver-3:8080"]"#))
        let compose = try await ExternalTool.run("docker-compose", ["-f", "docker-compose.prod.yml", "config"], in: copy.path)
        #expect(compose.status == 0, "\(ExternalTool.output(compose))")
        #expect(compose.stdout.contains("  wsserver-3:") && compose.stdout.contains("SERVER_NAME: ws3") && compose.stdout.contains("hostname: wsserver-3"))
        // HAProxy waits for the new server as for the others.
        #expect(compose.stdout.components(separatedBy: "wsserver-3:\n        condition: service_healthy").count == 2, "\(compose.stdout)")

        let removal = try ScaleFiles(inventory: grown).removing(added)
        for change in removal { try change.apply() }
        let after = try files.map { try String(contentsOfFile: copy.directory.file($0), encoding: .utf8) }
        for (index, file) in files.enumerated() {
            #expect(after[index] == before[index], "\(file) is back as it was:\n\(FileChange(path: file, before: before[index], after: after[index]).diff)")
        }
    }

    @Test func editsThatCannotFindTheirPlaceSayWhereAndWhat() throws {
        #expect(throws: OpsError.self) { try FleetShapeEdits.haproxy("backend other\n    server a 1.2.3.4:80\n", backend: "ws_servers", adding: .init(name: "b", url: "http://h:1"), path: "h.cfg") }
        #expect(throws: OpsError.self) { try FleetShapeEdits.prometheus("targets:\n  - a:1\n", existing: ["a:1"], adding: .init(name: "b", url: "http://b:1"), path: "p.yml") }
        #expect(throws: OpsError.self) { try FleetShapeEdits.inventory("servers: [{name: a, url: http://a}]\n", adding: .init(name: "b", url: "http://b"), composeService: nil, path: "w.yml") }
        let text = "servers:\n  - name: a\n    url: http://a:1\n  - name: b\n    url: http://b:1\nredis:\n  addr: r:6379\n"
        #expect(try FleetShapeEdits.inventory(text, removing: "a", path: "w.yml") == "servers:\n  - name: b\n    url: http://b:1\nredis:\n  addr: r:6379\n")
        #expect(try FleetShapeEdits.inventory(text, adding: .init(name: "c", url: "http://c:1"), composeService: nil, path: "w.yml")
            == "servers:\n  - name: a\n    url: http://a:1\n  - name: b\n    url: http://b:1\n  - name: c\n    url: http://c:1\nredis:\n  addr: r:6379\n")
        #expect(FileChange(path: "f", before: "a\nb\n", after: "a\nb\nc\n").diff == "--- f\n+++ f\n@@ -1,3 +1,4 @@\n a\n b\n+c\n \n")
    }
}

/// `scale add` of a third server on a real HAProxy takes traffic; `scale remove` drains it; the
/// chats through HAProxy meanwhile lose nothing and no client fails. The release builds, as
/// operators run them.
@Suite struct ScaleUnderLoadTests {
    @Test func aThirdServerAddedTakesTrafficAndRemovedDrainsLosingNothing() async throws {
        let server = try ProductBinary.release("whisper-server")
        let whisperctl = try ProductBinary.release("whisperctl")
        try await RolloutFleet.with(serverBinary: server) { fleet in
            try fleet.writeInventory(version: "0.1.0")
            let directory = fleet.directory
            let inventoryPath = directory.file("whisperctl.yml")
            let haproxyConfig = fleet.haproxy.directory.file("haproxy.cfg")
            let targets = fleet.names.map { "\"127.0.0.1:\(fleet.ports[$0]!)\"" }.joined(separator: ", ")
            try directory.write("prometheus.yml", "scrape_configs:\n  - job_name: whisper\n    static_configs:\n      - targets: [\(targets)]\n")
            let inventory = try String(contentsOfFile: inventoryPath, encoding: .utf8)
                .replacingOccurrences(of: "  backend: \(fleet.haproxy.backend)\n", with: "  backend: \(fleet.haproxy.backend)\n  config: \(haproxyConfig)\n")
            try directory.write("whisperctl.yml", inventory + "\nprometheus:\n  config: prometheus.yml\n")

            let frontend = "ws://127.0.0.1:\(fleet.haproxy.frontendPort)/ws"
            async let load = WhisperctlBinary.run(
                ["loadtest", "--url", frontend, "--connections", "200", "--chatting-pairs", "100", "--rate", "500", "--duration", "40s",
                 "--ramp", "1s", "--json"], in: directory, binary: whisperctl)
            for name in fleet.names {
                try await eventually(timeout: .seconds(60), "\(name) relays chat messages") {
                    ((try? await fleet.metric(name, #"whisper_messages_total{type="received"}"#)) ?? 0) > 100
                }
            }
            let port = try FreePort.next()
            try await fleet.launch("ws3", port: port)
            let url = "http://127.0.0.1:\(port)"
            let add = try await WhisperctlBinary.run(["scale", "add", "ws3", "--url", url, "--write", "--yes"], in: directory, binary: whisperctl)
            #expect(add.status == 0, "\(add.stdout)\n\(add.stderr)")
            #expect(add.stdout.contains("+    server ws3 127.0.0.1:\(port) check"), "the HAProxy config's diff: \(add.stdout)")
            try await eventually("ws3 UP in HAProxy") { await fleet.haproxyStatus("ws3") == "UP" }
            let check = try await ExternalTool.run("haproxy", ["-c", "-f", haproxyConfig])
            #expect(check.status == 0, "\(ExternalTool.output(check))")
            let promtool = try await ExternalTool.run("promtool", ["check", "config", "prometheus.yml"], in: directory.path)
            let scraped = try String(contentsOfFile: directory.file("prometheus.yml"), encoding: .utf8)
            #expect(promtool.status == 0 && scraped.contains("127.0.0.1:\(port)"), "\(ExternalTool.output(promtool))")
            let config = try await WhisperctlBinary.run(["config", "check"], in: directory, binary: whisperctl)
            let recorded = try String(contentsOfFile: inventoryPath, encoding: .utf8)
            #expect(config.status == 0 && recorded.contains("- name: ws3\n    url: \(url)\n"), "\(config.stdout)\(config.stderr)")
            let again = try await WhisperctlBinary.run(["scale", "add", "ws3", "--url", url, "--yes"], in: directory, binary: whisperctl)
            #expect(again.status == 1 && again.stdout.contains("nothing to do"), "\(again.stdout)\(again.stderr)")

            // New users arrive: leastconn sends them to the server with the fewest, ws3.
            async let arrivals = WhisperctlBinary.run(
                ["loadtest", "--url", frontend, "--connections", "100", "--chatting-pairs", "50", "--rate", "200", "--duration", "15s",
                 "--ramp", "2s", "--json"], in: directory, binary: whisperctl)
            try await eventually(timeout: .seconds(30), "ws3 relays chat messages") {
                let text = (try? await HTTPClient().get(url + "/metrics", timeout: .seconds(2)))?.text ?? ""
                return text.split(separator: "\n").contains { $0.hasPrefix(#"whisper_messages_total{type="received"} "#) && !$0.hasSuffix(" 0") }
            }

            // The operator gives it a restart block, as for the others, so its drain is its own.
            let pidFile = fleet.pidFile("ws3")
            let withRestart = try String(contentsOfFile: inventoryPath, encoding: .utf8).replacingOccurrences(
                of: "- name: ws3\n    url: \(url)\n",
                with: "- name: ws3\n    url: \(url)\n    restart: {driver: process, pid_file: \(pidFile), start: \"true\"}\n")
            try directory.write("whisperctl.yml", withRestart)
            let remove = try await WhisperctlBinary.run(["scale", "remove", "ws3", "--write", "--yes"], in: directory, binary: whisperctl)
            #expect(remove.status == 0, "\(remove.stdout)\n\(remove.stderr)")
            #expect(await fleet.haproxyStatus("ws3") == nil, "deleted from HAProxy")
            let inventoryAfter = try String(contentsOfFile: inventoryPath, encoding: .utf8)
            let haproxyAfter = try String(contentsOfFile: haproxyConfig, encoding: .utf8)
            #expect(!inventoryAfter.contains("ws3") && !haproxyAfter.contains("ws3"))
            let audit = try String(contentsOfFile: directory.file("audit.log"), encoding: .utf8)
            #expect(audit.contains("\"scale\"") && audit.contains("\"add\"") && audit.contains("\"remove\""), "\(audit)")

            let arrived = try await arrivals
            // Those who arrived on ws3 were handed to the others by its drain, and resumed there.
            #expect((try JSONValue.parse(Array(arrived.stdout.utf8))["resumed"]?.intValue ?? 0) > 0, "\(arrived.stdout)")
            for run in [arrived, try await load] {
                let report = try JSONValue.parse(Array(run.stdout.utf8))
                #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
                #expect(report["lost"] == .int(0) && report["duplicated"] == .int(0) && report["resume_failures"] == .int(0), "\(run.stdout)")
            }
        }
    }
}
