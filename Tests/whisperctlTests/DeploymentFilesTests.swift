import Foundation
import OpsKit
import Testing
import TestSupport
import Yams

/// Every deployment file under docker/ checked by the program that reads it: hadolint, both
/// Compose validators, `haproxy -dW -c`, promtool, systemd-analyze, kubernetes-validate,
/// shellcheck, yamllint. Grafana has no validator here: its dashboard is checked for structure
/// and every query goes through promtool's parser.
@Suite struct DeploymentFilesTests {
    /// The server's DRAIN_TIMEOUT default (docs/server.md): every stop timeout must outlive it.
    static let drainTimeout = Duration.seconds(30)

    @Test func theDockerfileLintsClean() async throws {
        let lint = try await ExternalTool.run("hadolint", ["docker/Dockerfile"])
        #expect(lint.status == 0 && ExternalTool.output(lint).isEmpty, "\(ExternalTool.output(lint))")
        let text = try String(contentsOfFile: Repository.path("docker/Dockerfile"), encoding: .utf8)
        for promise in ["AS builder", "AS runtime-base", "AS prebuilt", "AS runtime", "STOPSIGNAL SIGTERM", "USER 10001:10001", "/live", "COPY migrations", "COPY runbooks"] {
            #expect(text.contains(promise), "the Dockerfile has \(promise)")
        }
    }

    @Test(arguments: ["docker-compose.yml", "docker-compose.prod.yml"])
    func composeFilesPassBothValidators(_ file: String) async throws {
        let copy = try DeploymentCopy()
        defer { copy.remove() }
        let legacy = try await ExternalTool.run("docker-compose", ["-f", file, "config", "-q"], in: copy.path)
        #expect(legacy.status == 0 && ExternalTool.output(legacy).isEmpty, "docker-compose: \(ExternalTool.output(legacy))")
        let spec = try await ExternalTool.run("check-jsonschema", ["--builtin-schema", "vendor.compose-spec", file], in: copy.path)
        #expect(spec.status == 0, "the compose spec: \(ExternalTool.output(spec))")
    }

    /// The production file as docker-compose resolves it (anchors merged, variables set).
    @Test func theProductionComposeFileIsolatesAndBoundsEveryService() async throws {
        let copy = try DeploymentCopy()
        defer { copy.remove() }
        let resolved = try await ExternalTool.run("docker-compose", ["-f", "docker-compose.prod.yml", "config"], in: copy.path)
        #expect(resolved.status == 0, "\(resolved.stderr)")
        let file = try #require(try Yams.load(yaml: resolved.stdout) as? [String: Any])
        let networks = try #require(file["networks"] as? [String: Any])
        #expect((networks["backend"] as? [String: Any])?["internal"] as? Bool == true, "the backend network is internal")
        let services = try #require(file["services"] as? [String: [String: Any]])
        #expect(services.filter { $0.value["ports"] != nil }.map(\.key) == ["haproxy"], "only HAProxy publishes ports")
        for (name, service) in services {
            let logging = service["logging"] as? [String: Any]
            #expect((logging?["options"] as? [String: Any])?["max-size"] != nil, "\(name) rotates its log")
            let limits = ((service["deploy"] as? [String: Any])?["resources"] as? [String: Any])?["limits"] as? [String: Any]
            #expect(limits?["memory"] != nil || name == "migrate", "\(name) has a memory limit")
            let volumes = (service["volumes"] as? [Any] ?? []).map { "\($0)" }
            #expect(!volumes.contains { $0.contains("docker.sock") }, "\(name) does not mount the Docker socket")
        }
        for name in ["wsserver-1", "wsserver-2"] {
            let server = try #require(services[name])
            let grace = try #require((server["stop_grace_period"] as? String).flatMap(Duration.init(parsing:)))
            #expect(grace > Self.drainTimeout, "\(name) stops after its drain")
            #expect(server["read_only"] as? Bool == true)
            #expect(((server["ulimits"] as? [String: Any])?["nofile"] as? [String: Any])?["soft"] as? Int ?? 0 >= 100_000)
            #expect(Set((server["networks"] as? [String: Any])?.keys.map { $0 } ?? []) == ["frontend", "backend"])
            let conditions = (server["depends_on"] as? [String: [String: Any]])?.mapValues { $0["condition"] as? String }
            #expect(conditions?["redis"] == "service_healthy" && conditions?["migrate"] == "service_completed_successfully")
        }
        let command = (services["backup"]?["command"] as? [String])?.joined(separator: " ") ?? ""
        #expect(command.contains("whisperctl backup") && command.contains("backup verify"), "\(command)")
    }

    @Test(arguments: ["haproxy.cfg", "haproxy.prod.cfg"])
    func haproxyConfigurationsPassWithWarningsFatal(_ name: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let made = try await WhisperctlBinary.run(["cert", "self-signed", "--cn", "chat.test", "--out", "tls"], in: directory)
        #expect(made.status == 0)
        let text = try String(contentsOfFile: Repository.path("docker/haproxy/\(name)"), encoding: .utf8)
            .replacingOccurrences(of: "/etc/haproxy/certs/whisper.pem", with: directory.file("tls/combined.pem"))
        let config = try directory.write(name, text)
        let check = try await ExternalTool.run("haproxy", ["-dW", "-c", "-f", config], environment: ["HAPROXY_STATS_PASSWORD": "s3cret-stats"])
        #expect(check.status == 0, "\(ExternalTool.output(check))")
        #expect(HAProxyDiagnosis(runtime: nil, statsURL: nil, backend: "ws_servers", configPath: nil, tier: CapacityTier(named: "10k")!)
            .timeouts(in: text, path: name).isEmpty, "the tunnel timeout outlives the heartbeat")
    }

    @Test func prometheusConfigurationAndAlertsPassPromtool() async throws {
        let prometheus = Repository.path("docker/prometheus")
        for file in ["prometheus.yml", "prometheus.dev.yml"] {
            let check = try await ExternalTool.run("promtool", ["check", "config", file], in: prometheus)
            #expect(check.status == 0, "\(ExternalTool.output(check))")
        }
        let rules = try await ExternalTool.run("promtool", ["check", "rules", "alerts.yml"], in: prometheus)
        #expect(rules.status == 0, "\(ExternalTool.output(rules))")
        let tests = try await ExternalTool.run("promtool", ["test", "rules", "alerts.test.yml"], in: prometheus)
        #expect(tests.status == 0 && tests.stdout.contains("SUCCESS"), "\(ExternalTool.output(tests))")
        // Each alert is fired by at least one test case, so none of them is untested.
        let fired = Set(try Self.yaml("docker/prometheus/alerts.test.yml")["tests"].array.flatMap { test in
            test["alert_rule_test"].array.filter { !$0["exp_alerts"].array.isEmpty }.compactMap { $0["alertname"].string }
        })
        #expect(Set(try Self.alertExpressions().keys) == fired, "every alert has a test that fires it")
    }

    /// Grafana: unique ids, panels inside the 24-column grid and not overlapping, the provisioned
    /// data source on every panel, and each query parsed by promtool as a recording rule.
    @Test func theGrafanaDashboardIsWellFormedAndEveryQueryParses() async throws {
        let data = try #require(FileManager.default.contents(atPath: Repository.path("docker/grafana/dashboards/whisper.json")))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let source = try Self.yaml("docker/grafana/provisioning/datasources/prometheus.yml")["datasources"].array.first?["uid"].string
        #expect(source == "prometheus")
        let provider = try Self.yaml("docker/grafana/provisioning/dashboards/whisper.yml")["providers"].array.first
        #expect(provider?["options"]["path"].string == "/var/lib/grafana/dashboards")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 8)
        #expect(Set(panels.compactMap { $0["id"] as? Int }).count == panels.count, "unique panel ids")
        var occupied: [(x: Int, y: Int, w: Int, h: Int, title: String)] = []
        var queries: [String] = []
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            let grid = try #require(panel["gridPos"] as? [String: Int], "\(title) has a position")
            let box = (x: grid["x"] ?? -1, y: grid["y"] ?? -1, w: grid["w"] ?? 0, h: grid["h"] ?? 0, title: title)
            #expect(box.x >= 0 && box.y >= 0 && box.w > 0 && box.h > 0 && box.x + box.w <= 24, "\(title) is inside the grid")
            for other in occupied where box.x < other.x + other.w && other.x < box.x + box.w && box.y < other.y + other.h && other.y < box.y + box.h {
                Issue.record("\(title) overlaps \(other.title)")
            }
            occupied.append(box)
            #expect((panel["datasource"] as? [String: Any])?["uid"] as? String == source, "\(title) reads the provisioned data source")
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "\(title) has a query")
            queries += targets.compactMap { $0["expr"] as? String }
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let rules = queries.enumerated().map { "      - record: panel:query_\($0.offset)\n        expr: '\($0.element.replacingOccurrences(of: "'", with: "''"))'" }
        let file = try directory.write("queries.yml", "groups:\n  - name: dashboard\n    rules:\n" + rules.joined(separator: "\n") + "\n")
        let check = try await ExternalTool.run("promtool", ["check", "rules", file])
        #expect(check.status == 0 && check.stdout.contains("\(queries.count) rules found"), "\(ExternalTool.output(check))")
    }

    /// The shipped units and the ones `backup` and `cert renew --install-schedule systemd` write,
    /// verified in a root that holds systemd's own units and the executables they name; any
    /// output fails (systemd-analyze exits 0 on errors it can ignore). The exposure scores are
    /// bounded.
    @Test func systemdUnitsVerifyAndAreHardened() async throws {
        let root = try SystemdRoot()
        defer { root.remove() }
        let shipped = ["whisper-server@.service", "whisperctl-backup.service", "whisperctl-backup.timer", "whisperctl-cert-renew.service", "whisperctl-cert-renew.timer"]
        for unit in shipped { try root.install(contentsOf: Repository.path("docker/systemd/\(unit)")) }
        let written = try TemporaryDirectory()
        defer { written.remove() }
        let backup = try await WhisperctlBinary.run(["backup", "--install-schedule", "systemd", "--schedule-dir", written.file("units")], in: written)
        #expect(backup.status == 0, "\(backup.stderr)")
        let renew = try await WhisperctlBinary.run(
            ["cert", "renew", "--install-schedule", "systemd", "--schedule-dir", written.file("units"), "--domain", "chat.test", "--http-01-port", "8888"], in: written)
        #expect(renew.status == 0, "\(renew.stderr)")
        let generated = try FileManager.default.contentsOfDirectory(atPath: written.file("units")).sorted()
        #expect(generated.count == 4, "\(generated)")
        for unit in generated { try root.install(contentsOf: written.file("units/\(unit)")) }
        // What the generated units run: this build's whisperctl, by its absolute path.
        try root.provide(WhisperctlBinary.path)
        let units = ["whisper-server@1.service"] + shipped.dropFirst() + generated
        let verify = try await ExternalTool.run("systemd-analyze", ["verify", "--man=no", "--root=\(root.path)"] + units, in: root.unitDirectory)
        #expect(verify.status == 0 && ExternalTool.output(verify).isEmpty, "\(ExternalTool.output(verify))")
        for (unit, bound) in [("whisper-server@1.service", 2.0), ("whisperctl-backup.service", 3.0), ("whisperctl-cert-renew.service", 3.0)] {
            let security = try await ExternalTool.run("systemd-analyze", ["security", "--offline=yes", "--root=\(root.path)", unit], in: root.unitDirectory)
            let score = Self.exposure(ExternalTool.output(security))
            #expect(score != nil && score! <= bound, "\(unit) exposure \(score.map { "\($0)" } ?? "unreadable") (at most \(bound)): \(security.stdout.suffix(300))")
        }
        let server = try String(contentsOfFile: Repository.path("docker/systemd/whisper-server@.service"), encoding: .utf8)
        let stop = server.split(separator: "\n").first { $0.hasPrefix("TimeoutStopSec=") }.flatMap { Duration(parsing: String($0.dropFirst("TimeoutStopSec=".count))) }
        #expect(stop != nil && stop! > Self.drainTimeout, "systemd waits for the drain")
    }

    /// Each manifest and each rendered overlay against the oldest and the newest Kubernetes the
    /// validator bundles; a warning (an unknown kind) fails too.
    @Test func kubernetesManifestsValidateStrictly() async throws {
        let base = Repository.path("docker/k8s/base")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: base).filter { $0.hasSuffix(".yaml") && $0 != "kustomization.yaml" }.sorted()
            .map { "\(base)/\($0)" } + [Repository.path("docker/k8s/overlays/prod/backups-pvc.yaml")]
        var files = manifests
        let rendered = try TemporaryDirectory()
        defer { rendered.remove() }
        if Executables.find("kubectl") != nil {
            for overlay in ["dev", "prod"] {
                let render = try await ExternalTool.run("kubectl", ["kustomize", Repository.path("docker/k8s/overlays/\(overlay)")])
                #expect(render.status == 0, "\(ExternalTool.output(render))")
                files.append(try rendered.write("\(overlay).yaml", render.stdout))
            }
            #expect(try String(contentsOfFile: rendered.file("prod.yaml"), encoding: .utf8).contains("namespace: whisper\n"), "the prod overlay sets its namespace")
        } else {
            // Debian has no kubectl package: the overlays are rendered where it is installed.
            print("kubectl is not installed: the kustomize overlays are not rendered here")
        }
        for version in ["1.25.0", "1.37.0"] {
            let check = try await ExternalTool.run("kubernetes-validate", ["--strict", "-k", version] + files)
            #expect(check.status == 0 && !check.stdout.contains("WARN") && !check.stderr.contains("WARN"), "\(version): \(ExternalTool.output(check))")
        }
        let deployment = try Self.yaml("docker/k8s/base/deployment.yaml")
        let pod = deployment["spec"]["template"]["spec"]
        #expect(Duration.seconds(pod["terminationGracePeriodSeconds"].int ?? 0) > Self.drainTimeout)
        let container = pod["containers"].array.first ?? YAMLNode(nil)
        #expect(container["readinessProbe"]["httpGet"]["path"].string == "/ready")
        #expect(container["livenessProbe"]["httpGet"]["path"].string == "/live")
        #expect(container["lifecycle"]["preStop"].value != nil)
        #expect(container["securityContext"]["readOnlyRootFilesystem"].bool == true && pod["securityContext"]["runAsNonRoot"].bool == true)
        #expect(container["resources"]["limits"]["memory"].value != nil)
    }

    @Test func shellScriptsAndYAMLLintClean() async throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: Repository.path("scripts")).sorted().map { "scripts/\($0)" }
        let shellcheck = try await ExternalTool.run("shellcheck", scripts + [".ci/run"])
        #expect(shellcheck.status == 0, "\(ExternalTool.output(shellcheck))")
        let yamllint = try await ExternalTool.run("yamllint", ["--strict", "-c", ".yamllint.yml", "docker", "runbooks", ".yamllint.yml"])
        #expect(yamllint.status == 0 && ExternalTool.output(yamllint).isEmpty, "\(ExternalTool.output(yamllint))")
    }

    // MARK: - Reading the files

    /// "→ Overall exposure level for x.service: 1.2 OK 🙂" → 1.2.
    static func exposure(_ report: String) -> Double? {
        guard let match = report.firstMatch(of: #/Overall exposure level for \S+: ([0-9.]+)/#) else { return nil }
        return Double(match.1)
    }

    static func yaml(_ relative: String) throws -> YAMLNode {
        YAMLNode(try Yams.load(yaml: try String(contentsOfFile: Repository.path(relative), encoding: .utf8)))
    }

    /// alert name → PromQL, from alerts.yml.
    static func alertExpressions() throws -> [String: String] {
        var found: [String: String] = [:]
        for group in try yaml("docker/prometheus/alerts.yml")["groups"].array {
            for rule in group["rules"].array {
                if let name = rule["alert"].string, let expr = rule["expr"].string { found[name] = expr }
            }
        }
        return found
    }
}

/// A loosely typed walk through parsed YAML: a missing key is nil, not a crash.
struct YAMLNode {
    let value: Any?
    init(_ value: Any?) { self.value = value }
    subscript(key: String) -> YAMLNode { YAMLNode((value as? [String: Any])?[key]) }
    var array: [YAMLNode] { (value as? [Any] ?? []).map(YAMLNode.init) }
    var string: String? { value as? String }
    var int: Int? { value as? Int }
    var bool: Bool? { value as? Bool }
}

/// docker/ copied to a temporary directory with `.env` made from `.env.example`, as an operator
/// prepares it (docker-compose.prod.yml refuses to resolve without it).
struct DeploymentCopy {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    init() throws {
        directory = try TemporaryDirectory(prefix: "whisper-docker")
        try FileManager.default.removeItem(atPath: directory.path)
        try FileManager.default.copyItem(atPath: Repository.path("docker"), toPath: directory.path)
        try FileManager.default.copyItem(atPath: directory.file(".env.example"), toPath: directory.file(".env"))
    }

    func remove() { directory.remove() }
}

/// A root directory for `systemd-analyze --root`: systemd's own units (targets the shipped
/// units name), the units under test, and the executables they start.
struct SystemdRoot {
    let directory: TemporaryDirectory
    var path: String { directory.path }
    var unitDirectory: String { directory.file("etc/systemd/system") }

    init() throws {
        directory = try TemporaryDirectory(prefix: "whisper-systemd")
        let manager = FileManager.default
        try manager.createDirectory(atPath: unitDirectory, withIntermediateDirectories: true)
        try manager.createDirectory(atPath: directory.file("lib/systemd"), withIntermediateDirectories: true)
        try manager.copyItem(atPath: "/lib/systemd/system", toPath: directory.file("lib/systemd/system"))
        for executable in ["/bin/sh", "/usr/local/bin/whisper-server", "/usr/local/bin/whisperctl"] { try provide(executable) }
    }

    func install(contentsOf unit: String) throws {
        try FileManager.default.copyItem(atPath: unit, toPath: unitDirectory + "/" + (unit as NSString).lastPathComponent)
    }

    /// An executable at `path` inside the root (systemd-analyze checks that ExecStart exists).
    func provide(_ path: String) throws {
        let inside = directory.path + path
        try FileManager.default.createDirectory(atPath: (inside as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: inside) else { return }
        FileManager.default.createFile(atPath: inside, contents: Array("#!/bin/sh\n".utf8).withUnsafeBufferPointer { Data($0) }, attributes: [.posixPermissions: 0o755])
    }

    func remove() { directory.remove() }
}
