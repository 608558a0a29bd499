import ArgumentParser
import Foundation
import NIOPosix
import OpsKit

struct SecurityAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the deployment against the security checklist: secrets, file modes, TLS, ports, Redis, PostgreSQL, Grafana, containers.",
        discussion: """
            Secrets: placeholders (CHANGE_ME), defaults (HAProxy's stats password, Grafana's admin) and short \
            values in the .env files, the Compose environment and the inventory; values are never shown. Files: \
            each .env at 0600 and not tracked by git, each PEM holding a private key at 0600. TLS, probed through \
            haproxy.frontend: TLS 1.0/1.1 refused, TLS 1.2+ served, HSTS on the HTTPS answers, plain HTTP (--http-url, \
            default port 80 of the same host) answered with a 301 to HTTPS. Ports: what listens beyond loopback, from \
            /proc/net. Redis: a password required, bound to private addresses. PostgreSQL: scram-sha-256 for stored \
            passwords and network logins. Compose files (--compose, else those the servers' restart blocks name) and \
            Kubernetes manifests (--k8s DIR): internal backend network, resource limits, non-root users, no Docker \
            socket, read-only root filesystems, nothing privileged, only HAProxy published, Grafana's sign-up off.
            For the audit of the audit log's hash chain, see `whisperctl audit-log verify`.
            Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (as status).

            Examples:
              whisperctl audit
              whisperctl --config prod.yml audit --compose docker/docker-compose.prod.yml --json
              whisperctl audit --k8s docker/k8s --allow-port 8443
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Option(help: ArgumentHelp("A Compose file to audit; repeat it (default: those the servers' restart blocks name).", valueName: "file"),
            completion: .file(extensions: ["yml", "yaml"]))
    var compose: [String] = []

    @Option(name: .customLong("k8s"), help: ArgumentHelp("A directory of Kubernetes manifests to audit; repeat it.", valueName: "dir"),
            completion: .directory)
    var kubernetes: [String] = []

    @Option(name: .customLong("http-url"), help: ArgumentHelp("Where plain HTTP is answered (default: port 80 of haproxy.frontend's host).", valueName: "url"))
    var httpURL: String?

    @Option(name: .customLong("allow-port"), help: ArgumentHelp("A port meant to listen beyond loopback, besides 22, 80 and 443; repeat it.", valueName: "port"))
    var allowPorts: [Int] = []

    @Option(help: ArgumentHelp("Read /proc below this directory instead of /.", valueName: "dir"))
    var root = "/"

    @Option(help: ArgumentHelp("Time limit for each probe.", valueName: "duration"))
    var timeout: Duration = .seconds(3)

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        for port in allowPorts where !(1...65535).contains(port) { throw ValidationError("--allow-port is 1 to 65535, not \(port)") }
        if let httpURL, let problem = URLCheck.problem(httpURL, schemes: ["http"]) { throw ValidationError("--http-url: \(problem)") }
        for directory in kubernetes {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--k8s \(directory): not a directory")
            }
        }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        var audit = SecurityAudit(inventory: deployment)
        audit.composeFiles = compose
        audit.kubernetesDirectories = kubernetes
        audit.httpURL = httpURL
        audit.root = root
        audit.allowedPorts.formUnion(allowPorts)
        let report = await audit.run(in: ProbeEnvironment(timeout: timeout, pool: pool))
        // print masks every known secret, as everywhere.
        if json {
            print(report.json.serialized())
        } else {
            let color = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            print(DiagRendering.text(report, color: color, judged: "against the security checklist"))
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
