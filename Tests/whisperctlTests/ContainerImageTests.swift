import Foundation
import OpsKit
import Testing
import TestSupport

/// The image of docker/Dockerfile built here (the locally made Debian base, the release
/// binaries) and run with podman: what it serves, what it holds, and the rollout's `docker`
/// driver against podman's Engine API with a real container of it.
@Suite(.serialized) struct ContainerImageTests {
    @Test func theImageServesAChatAsItsOwnUser() async throws {
        let image = try await WhisperImage.build()
        try await withService({ try await PodmanContainer.start(image: image, environment: ["SERVER_NAME": "ws-image"]) }) { container in
            let ready = try await HTTPClient().get(container.baseURL + "/ready", timeout: .seconds(2))
            #expect(ready.status == 200)
            // A real chat through the published port, behind HAProxy as in production: the load
            // test gives each client its own 127.x source address, which the engine's port
            // forwarding (DNAT) does not carry into the container; HAProxy connects from 127.0.0.1.
            try await withService({ try await HAProxyServer.start(servers: [("ws1", container.port)]) }) { haproxy in
                try await haproxy.waitFor(.up, servers: ["ws1"])
                let directory = try TemporaryDirectory()
                defer { directory.remove() }
                let chat = try await WhisperctlBinary.run(
                    ["loadtest", "--url", "ws://127.0.0.1:\(haproxy.frontendPort)/ws", "--connections", "8", "--chatting-pairs", "4", "--rate", "40",
                     "--duration", "3s", "--ramp", "500ms", "--json"], in: directory, binary: try ProductBinary.release("whisperctl"))
                #expect(chat.status == 0, "\(chat.stdout)\n\(chat.stderr)")
                let report = try JSONValue.parse(Array(chat.stdout.utf8))
                #expect(report["passed"] == .bool(true) && report["lost"]?.intValue == 0 && (report["delivered"]?.intValue ?? 0) > 0, "\(chat.stdout)")

                let version = try await container.exec(["whisperctl", "--version"])
                #expect(version.status == 0 && !version.stdout.isEmpty, "\(ExternalTool.output(version))")
                #expect(try await container.exec(["id", "-u"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "10001")
                for binary in ["whisper-server", "whisperctl"] {
                    let ldd = try await container.exec(["ldd", "/usr/local/bin/\(binary)"])
                    #expect(ldd.status == 0 && !ldd.stdout.contains("not found"), "\(binary): \(ldd.stdout)")
                    #expect(!ldd.stdout.contains("libswift"), "the Swift runtime is linked in statically")
                }
                let pgDump = try await container.exec(["pg_dump", "--version"])
                #expect(pgDump.status == 0, "whisperctl backup has pg_dump: \(ExternalTool.output(pgDump))")
                #expect(try await container.exec(["ls", "/usr/local/share/whisperctl/runbooks/rolling-update.yml", "/usr/local/share/whisper/migrations"]).status == 0)
                let runbooks = try await container.exec(["whisperctl", "runbook", "list"])
                #expect(runbooks.stdout.contains("rolling-update"), "the shipped runbooks are found beside the binary: \(ExternalTool.output(runbooks))")
                // The image's own health check (HEALTHCHECK on /live), run once by podman.
                let health = try await Podman.run(["healthcheck", "run", container.name])
                #expect(health.status == 0, "\(ExternalTool.output(health))")
                let stopSignal = try await container.inspect("{{.Config.StopSignal}}")
                #expect(stopSignal.contains("SIGTERM") || stopSignal == "15", "\(stopSignal)")

                // Every whisper_ and process_ metric the alerts and the dashboard read is one the
                // server in the image exports (the memory limit too: the container has one).
                let exported = Set(try PrometheusTextParser.parse(try await HTTPClient().get(container.baseURL + "/metrics").text).map(\.name))
                #expect(exported.contains("whisper_memory_limit_bytes"))
                for name in try Self.serverMetricNames() {
                    #expect(exported.contains(name), "\(name) is exported by whisper-server")
                }
                let size = try await Podman.must(["image", "inspect", "--format", "{{.Size}}", image])
                print("image \(image): \(size) bytes")
            }
        }
    }

    /// drain (SIGTERM through the Engine API), stopped, started again, ready and UP in HAProxy;
    /// then a rollout whose version check fails is rolled back by the block's command.
    @Test func theDockerDriverRollsARealContainer() async throws {
        let image = try await WhisperImage.build()
        let engine = try await PodmanService.start()
        let container = try await PodmanContainer.start(image: image, environment: ["WHISPER_VERSION": "0.1.0", "SERVER_NAME": "ws1"])
        // A second server to take ws1's clients while it restarts (the preflight asks for one).
        let other = try await WhisperServerProcess.start(environment: ["WHISPER_VERSION": "0.1.0", "SERVER_NAME": "ws2"])
        let haproxy = try await HAProxyServer.start(servers: [("ws1", container.port), ("ws2", other.port)])
        let directory = try TemporaryDirectory()
        do {
            let podman = try Executables.require("podman")
            let previous = ["DRAIN_GRACE": "0s", "DRAIN_SPREAD": "100ms", "WHISPER_VERSION": "0.0.9", "SERVER_NAME": "ws1"]
            let recreate = ([podman, "--runtime", "runc", "rm", "-f", "-t", "0", container.name].joined(separator: " ")) + " && "
                + ([podman, "--runtime", "runc"] + PodmanContainer.runArguments(name: container.name, port: container.port, image: image, environment: previous, memory: "512m"))
                .joined(separator: " ")
            try Self.writeInventory(
                in: directory, ws1: container.baseURL,
                restart: "{driver: docker, container: \(container.name), socket: \(engine.socket), rollback: \"\(recreate)\", stop_timeout: 60s}",
                ws2: other.baseURL, haproxy: haproxy)
            try await eventually(timeout: .seconds(20), "HAProxy sees ws1 UP") { await Self.haproxyStatus(haproxy) == "UP" }
            let started = try await container.inspect("{{.State.StartedAt}}")
            // The docker driver restarts the same container (a new image needs a new container:
            // the compose or command driver).
            // The rollback command runs podman, which runs iptables from /usr/sbin.
            let path = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
            let rollout = try await WhisperctlBinary.run(["rollout", "--yes", "--only", "ws1", "--no-soak"], environment: path, in: directory)
            #expect(rollout.status == 0, "\(rollout.stdout)\n\(rollout.stderr)")
            #expect(rollout.stdout.contains("docker container \(container.name)"), "\(rollout.stdout)")
            #expect(try await container.inspect("{{.State.StartedAt}}") != started, "the container was stopped and started again")
            #expect(try await container.inspect("{{.State.ExitCode}}") == "0", "the drain ended the server cleanly")
            #expect(await Self.haproxyStatus(haproxy) == "UP")

            let failed = try await WhisperctlBinary.run(["rollout", "--yes", "--only", "ws1", "--expect-version", "0.2.0", "--no-soak", "--auto-rollback"], environment: path, in: directory)
            #expect(failed.status == 1, "\(failed.stdout)\n\(failed.stderr)")
            #expect(failed.stdout.contains("rolled back"), "\(failed.stdout)")
            let health = try JSONValue.parse(try await HTTPClient().get(container.baseURL + "/health").body)
            #expect(health["version"] == .string("0.0.9"), "the previous version serves again")
            #expect(await Self.haproxyStatus(haproxy) == "UP")
        } catch {
            Issue.record(error)
        }
        directory.remove()
        await haproxy.stop()
        await other.stop()
        await container.stop()
        await engine.stop()
    }

    /// Compose (v1, the one Debian ships) against podman's Engine API: a one-service project of
    /// the image, then the `compose` driver replaces it with the next version (a changed setting
    /// in the project's .env, so `up -d --no-deps` recreates the container).
    @Test func theComposeDriverReplacesAServerInAProject() async throws {
        let image = try await WhisperImage.build()
        let engine = try await PodmanService.start()
        let directory = try TemporaryDirectory()
        let project = "whisper-test-\(UInt32.random(in: 1...UInt32.max))"
        let port = try FreePort.next()
        let environment = ["DOCKER_HOST": "unix://\(engine.socket)", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let other = try await WhisperServerProcess.start(environment: ["WHISPER_VERSION": "0.1.0", "SERVER_NAME": "ws2"])
        var haproxy: HAProxyServer?
        do {
            try directory.write("compose.yml", """
                services:
                  wsserver-1:
                    image: \(image)
                    environment:
                      WHISPER_VERSION: ${WHISPER_VERSION}
                      SERVER_NAME: ws1
                      DRAIN_GRACE: 0s
                      DRAIN_SPREAD: 100ms
                    ports:
                      - "127.0.0.1:\(port):8080"
                    stop_grace_period: 45s
                    ulimits:
                      nofile: {soft: 4096, hard: 4096}
                      nproc: {soft: 1024, hard: 1024}
                """)
            try directory.write(".env", "WHISPER_VERSION=0.1.0\n")
            let up = try await ExternalTool.run("docker-compose", ["-p", project, "-f", "compose.yml", "up", "-d"], in: directory.path, environment: environment)
            #expect(up.status == 0, "\(ExternalTool.output(up))")
            try await eventually(timeout: .seconds(30), "the project's server answers") {
                (try? await HTTPClient().get("http://127.0.0.1:\(port)/ready", timeout: .milliseconds(500)))?.status == 200
            }
            let proxy = try await HAProxyServer.start(servers: [("ws1", port), ("ws2", other.port)])
            haproxy = proxy
            try await proxy.waitFor(.up, servers: ["ws1", "ws2"])
            try Self.writeInventory(
                in: directory, ws1: "http://127.0.0.1:\(port)",
                restart: "{driver: compose, service: wsserver-1, file: compose.yml, project: \(project), compose_command: docker-compose, stop_timeout: 60s}",
                ws2: other.baseURL, haproxy: proxy)
            try directory.write(".env", "WHISPER_VERSION=0.2.0\n")
            let rollout = try await WhisperctlBinary.run(["rollout", "--yes", "--only", "ws1", "--expect-version", "0.2.0", "--no-soak"], environment: environment, in: directory)
            #expect(rollout.status == 0, "\(rollout.stdout)\n\(rollout.stderr)")
            #expect(rollout.stdout.contains("compose service wsserver-1"), "\(rollout.stdout)")
            let health = try JSONValue.parse(try await HTTPClient().get("http://127.0.0.1:\(port)/health").body)
            #expect(health["version"] == .string("0.2.0"), "the new version serves")
            #expect(await Self.haproxyStatus(proxy) == "UP")
        } catch {
            Issue.record(error)
        }
        _ = try? await ExternalTool.run("docker-compose", ["-p", project, "-f", "compose.yml", "down", "-t", "0"], in: directory.path, environment: environment)
        await haproxy?.stop()
        await other.stop()
        directory.remove()
        await engine.stop()
    }

    /// ws1, restarted by `restart`, and ws2, which stays, behind `haproxy`.
    static func writeInventory(in directory: TemporaryDirectory, ws1: String, restart: String, ws2: String, haproxy: HAProxyServer) throws {
        try directory.write("whisperctl.yml", """
            servers:
              - name: ws1
                url: \(ws1)
                restart: \(restart)
              - name: ws2
                url: \(ws2)
            haproxy:
              stats_url: \(haproxy.statsURL)
              runtime_api: \(haproxy.runtimeSocket)
              backend: \(haproxy.backend)
            audit:
              log: \(directory.file("audit.log"))
            """)
    }

    static func haproxyStatus(_ haproxy: HAProxyServer) async -> String? {
        try? await haproxy.stats().servers(ofBackend: haproxy.backend).first { $0.service == "ws1" }?.status
    }

    /// whisper_ and process_ metric families named in alerts.yml and the Grafana dashboard
    /// (a histogram's _bucket series named by its family).
    static func serverMetricNames() throws -> Set<String> {
        var texts = Array(try DeploymentFilesTests.alertExpressions().values)
        let dashboard = try String(contentsOfFile: Repository.path("docker/grafana/dashboards/whisper.json"), encoding: .utf8)
        texts.append(dashboard)
        let pattern = try Regex(#"\b(?:whisper|process)_[a-z_]+"#)
        var names = Set<String>()
        for text in texts {
            for match in text.matches(of: pattern) {
                var name = String(text[match.range])
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && name.hasPrefix("whisper_") {
                    name = String(name.dropLast(suffix.count))
                }
                names.insert(name)
            }
        }
        return names
    }
}
