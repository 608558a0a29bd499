import Foundation
import OpsKit
import TestSupport
import Testing

/// What an on-call engineer meets in the first week, each fixed as a class: every command and
/// every path kind, not only the one first seen.
@Suite struct FirstDayTests {
    /// Every relative path in the inventory is relative to the inventory file, for every
    /// command, wherever it runs from (cron runs in $HOME).
    @Test func relativePathsAreBesideTheInventoryForEveryCommand() async throws {
        let home = try TemporaryDirectory(prefix: "inventory-home")
        defer { home.remove() }
        let elsewhere = try TemporaryDirectory(prefix: "elsewhere")
        defer { elsewhere.remove() }
        try FileManager.default.createDirectory(atPath: home.file("certs"), withIntermediateDirectories: true)
        let made = try CertificateFactory.selfSigned(commonName: "chat.test", expiresIn: 60 * 86_400)
        try home.write("certs/combined.pem", made.certificate + made.key)
        try home.write("haproxy.cfg", "global\n  maxconn 1000\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  timeout tunnel 3600s\n")
        let inventory = try home.write("whisperctl.yml", """
            deployment: relative
            servers: []
            redis: ~
            nats: ~
            postgres: ~
            haproxy:
              config: haproxy.cfg
            certs:
              - certs/combined.pem
            audit:
              log: state/audit.log
            """)
        let status = try await WhisperctlBinary.run(["status", "--config", inventory, "--json"], in: elsewhere)
        let cert = try JSONValue.parse(Array(status.stdout.utf8))["components"]?.arrayValue?.first { $0["kind"] == "cert" }
        #expect(cert?["status"] == "ok", "status reads the certificate beside the inventory: \(status.stdout)")
        let check = try await WhisperctlBinary.run(["config", "check", "--config", inventory], in: elsewhere)
        // Exit 1: the deliberate `servers: []` is a warning; no error, so no file was missed.
        #expect(check.status == 1 && (check.stdout + check.stderr).contains("0 error(s)"), "\(check.stdout)\(check.stderr)")
        let diag = try await WhisperctlBinary.run(["diag", "cert", "--config", inventory, "--json"], in: elsewhere)
        let findings = try JSONValue.parse(Array(diag.stdout.utf8))["findings"]?.arrayValue ?? []
        #expect(findings.contains { $0["component"] == "cert" && $0["severity"] == "ok" }, "\(diag.stdout)")
        let certCheck = try await WhisperctlBinary.run(["cert", "check", "--config", inventory, "--json"], in: elsewhere)
        #expect(certCheck.status == 0, "\(certCheck.stdout)\(certCheck.stderr)")
        try FileManager.default.createDirectory(atPath: elsewhere.file("units"), withIntermediateDirectories: true)
        let schedule = try await WhisperctlBinary.run(
            ["cert", "renew", "--config", inventory, "--install-schedule", "cron", "--schedule-dir", "units", "--domain", "chat.test", "--http-01-port", "8888",
             "--pem", "certs/combined.pem"], in: elsewhere)
        #expect(schedule.status == 0, "\(schedule.stdout)\(schedule.stderr)")
        #expect(FileManager.default.fileExists(atPath: home.file("state/audit.log")), "the audit log beside the inventory")
        let line = try String(contentsOfFile: elsewhere.file("units/whisperctl-cert-renew-relative"), encoding: .utf8)
        #expect(line.contains("--pem \(elsewhere.file("certs/combined.pem"))") && line.contains("--config \(inventory)"), "flags made absolute: \(line)")
        #expect(line.contains("2>&1 | logger -t whisperctl-cert-renew-relative"), "\(line)")
    }

    /// IP addresses are names a certificate covers: `cert self-signed --san 127.0.0.1` makes one
    /// that `cert check --host 127.0.0.1` (and ::1) accepts, and every output lists them.
    @Test func ipAddressSANsAreNamesACertificateCovers() async throws {
        let directory = try TemporaryDirectory(prefix: "ip-san")
        defer { directory.remove() }
        let made = try await WhisperctlBinary.run(
            ["cert", "self-signed", "--cn", "chat.test", "--san", "127.0.0.1", "--san", "::1", "--out", "certs"], in: directory)
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let pem = directory.file("certs/combined.pem")
        for host in ["127.0.0.1", "::1", "[::1]", "chat.test"] {
            let run = try await WhisperctlBinary.run(["cert", "check", pem, "--host", host, "--json"], in: directory)
            #expect(run.status == 0, "\(host): \(run.stdout)\(run.stderr)")
        }
        let other = try await WhisperctlBinary.run(["cert", "check", pem, "--host", "10.1.2.3"], in: directory)
        #expect(other.status == 2 && other.stdout.contains("127.0.0.1") && other.stdout.contains("::1"), "the names it does cover: \(other.stdout)")
        let text = try await WhisperctlBinary.run(["cert", "check", pem], in: directory)
        #expect(text.stdout.contains("chat.test, 127.0.0.1, ::1"), "\(text.stdout)")
        try directory.write("whisperctl.yml", "deployment: ip\ncerts:\n  - certs/combined.pem\n")
        let status = try await WhisperctlBinary.run(["status", "--json"], in: directory)
        let cert = try JSONValue.parse(Array(status.stdout.utf8))["components"]?.arrayValue?.first { $0["kind"] == "cert" }
        #expect(cert?["ip_addresses"] == .array(["127.0.0.1", "::1"].map(JSONValue.string)), "\(status.stdout)")
    }

    /// The command line forgives what operators type: a typo gets the closest command, `help`
    /// works anywhere, options may come before the subcommand, a URL without its scheme and a
    /// run on the built-in defaults are named.
    @Test func theCommandLineSaysWhatWasMeant() async throws {
        let directory = try TemporaryDirectory(prefix: "cli")
        defer { directory.remove() }
        let typo = try await WhisperctlBinary.run(["stauts"], in: directory)
        #expect(typo.status == 64 && typo.stderr.contains("did you mean 'status'?"), "\(typo.stderr)")
        let nosuch = try await WhisperctlBinary.run(["help", "nosuch"], in: directory)
        #expect(nosuch.status == 64 && nosuch.stderr.contains("unknown command 'nosuch'"), "\(nosuch.stderr)")
        for group in ["rollout", "backup"] {
            let help = try await WhisperctlBinary.run([group, "help"], in: directory)
            #expect(help.status == 0 && help.stdout.contains("USAGE: whisperctl \(group)"), "\(group): \(help.stdout)\(help.stderr)")
        }
        let rolloutHelp = try await WhisperctlBinary.run(["rollout", "--help"], in: directory)
        #expect(rolloutHelp.stdout.contains("--expect-version") && rolloutHelp.stdout.contains("--soak-idle-ok"), "\(rolloutHelp.stdout)")
        try directory.write("whisperctl.yml", "deployment: cli\nbackup:\n  dir: backups\n")
        try FileManager.default.createDirectory(atPath: directory.file("backups"), withIntermediateDirectories: true)
        let list = try await WhisperctlBinary.run(["backup", "--json", "list"], in: directory)
        #expect(list.status == 0 && (try? JSONValue.parse(Array(list.stdout.utf8)))?["backups"] != nil, "\(list.stdout)\(list.stderr)")
        let json = try await WhisperctlBinary.run(["--json", "config", "check"], in: directory)
        #expect((try? JSONValue.parse(Array(json.stdout.utf8)))?["valid"] != nil, "\(json.stdout)\(json.stderr)")
        let metrics = try await WhisperctlBinary.run(["metrics", "127.0.0.1:8081/metrics"], in: directory)
        #expect(metrics.status != 0 && metrics.stderr.contains("http://127.0.0.1:8081/metrics"), "\(metrics.stderr)")
        let bare = try TemporaryDirectory(prefix: "no-inventory")
        defer { bare.remove() }
        let defaults = try await WhisperctlBinary.run(["status", "--timeout", "200ms"], in: bare)
        #expect(defaults.stderr.contains("no inventory") && defaults.stderr.contains("local development stack"), "\(defaults.stderr)")
    }

    /// The first frame of `status --watch` is the first check, not "no change since the last
    /// refresh" (there was none).
    @Test func theFirstWatchFrameIsTheFirstCheck() async throws {
        let directory = try TemporaryDirectory(prefix: "watch")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: watch\nservers: []\n")
        let run = try await WhisperctlBinary.run(["status", "--watch", "1s"], in: directory, interruptAfter: .milliseconds(1500))
        let frames = run.stdout.components(separatedBy: "Ctrl-C to stop.")
        #expect(frames.first?.contains("first check") == true && frames.first?.contains("no change since") == false, "\(run.stdout)")
        if frames.count > 2 { #expect(frames[1].contains("no change since the last refresh"), "\(run.stdout)") }
    }

    /// The completions offer the deployment's own names: diag's components and servers,
    /// rollout --only's servers (the way the generated scripts ask the binary).
    @Test func completionsOfferTheDeploymentsNames() async throws {
        let directory = try TemporaryDirectory(prefix: "complete")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: c\nservers:\n  - name: ws1\n    url: http://127.0.0.1:1\n  - name: ws2\n    url: http://127.0.0.1:2\n")
        let diag = try await WhisperctlBinary.run(["---completion", "diag", "--", "positional@0", "2", "0", "whisperctl", "diag", ""], in: directory)
        let offered = Set(diag.stdout.split(separator: "\n").map(String.init))
        #expect(offered.isSuperset(of: ["redis", "kernel", "cert", "ws1", "ws2"]), "\(diag.stdout)\(diag.stderr)")
        let only = try await WhisperctlBinary.run(
            ["---completion", "rollout", "run", "--", "--only", "3", "0", "whisperctl", "rollout", "--only", ""], in: directory)
        #expect(Set(only.stdout.split(separator: "\n").map(String.init)) == ["ws1", "ws2"], "\(only.stdout)\(only.stderr)")
    }

    /// The names come from the inventory the command line names (`--config`), not only
    /// ./whisperctl.yml; runbook names are the deployment's own and the shipped ones.
    @Test func completionsReadTheInventoryTheCommandLineNames() async throws {
        let directory = try TemporaryDirectory(prefix: "complete-config")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("prod/runbooks"), withIntermediateDirectories: true)
        try directory.write("prod/deploy.yml", "deployment: p\nservers:\n  - name: edge1\n    url: http://127.0.0.1:1\n")
        try directory.write("prod/runbooks/our-own-drill.yml", "name: our-own-drill\n")
        let only = try await WhisperctlBinary.run(
            ["---completion", "rollout", "run", "--", "--only", "5", "0", "whisperctl", "--config", "prod/deploy.yml", "rollout", "--only", ""], in: directory)
        #expect(only.stdout.split(separator: "\n").map(String.init) == ["edge1"], "\(only.stdout)\(only.stderr)")
        let runbooks = try await WhisperctlBinary.run(
            ["---completion", "runbook", "run", "--", "positional@0", "4", "0", "whisperctl", "runbook", "run", "--config=prod/deploy.yml", ""], in: directory)
        let offered = runbooks.stdout.split(separator: "\n").map(String.init)
        #expect(offered.contains("our-own-drill") && offered.contains("rolling-update") && offered.contains("emergency-rollback"), "\(runbooks.stdout)\(runbooks.stderr)")
        #expect(Set(offered).count == offered.count, "no name twice")
        let none = try await WhisperctlBinary.run(
            ["---completion", "rollout", "run", "--", "--only", "5", "0", "whisperctl", "--config", "missing.yml", "rollout", "--only", ""], in: directory)
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.isEmpty, "an unreadable inventory offers nothing, silently")
    }

    /// Bash itself completes with the committed script: a name is not turned into a directory
    /// (`redis/` beside the inventory), a component whose name is two words is not offered, none
    /// twice, and `rollout --` offers `rollout run`'s options.
    @Test func bashCompletesWithTheCommittedScript() async throws {
        let directory = try TemporaryDirectory(prefix: "bash-complete")
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: c\nservers:\n  - name: ws1\n    url: http://127.0.0.1:1\nredis:\n  addr: 127.0.0.1:1\ncerts:\n  - certs/combined.pem\n")
        try FileManager.default.createDirectory(atPath: directory.path + "/redis", withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binaries = URL(fileURLWithPath: WhisperctlBinary.path).deletingLastPathComponent().path
        try directory.write(
            "complete.sh",
            """
            source "$1"
            complete -p whisperctl
            line="$2"
            read -ra COMP_WORDS <<< "$line"
            [[ "$line" == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE="$line" COMP_POINT=${#line}
            PATH="\(binaries):$PATH"
            _whisperctl whisperctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """)
        func complete(_ line: String) async throws -> [String] {
            let script = root.appendingPathComponent("completions/whisperctl.bash").path
            let path = directory.path
            let run = try await Offload.run {
                try Command.capture("/bin/bash", [path + "/complete.sh", script, line], environment: ["HOME": path, "PATH": "/usr/bin:/bin"], directory: path)
            }
            #expect(run.status == 0, "\(run.stderr)")
            var lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "complete -F _whisperctl whisperctl", "registered without -o filenames: \(run.stdout)")
            lines.removeFirst()
            return lines
        }
        let status = try await complete("whisperctl status ")
        #expect(status.contains("redis") && status.contains("ws1") && status.contains("cert"), "\(status)")
        #expect(Set(status).count == status.count, "offered twice: \(status)")
        #expect(!status.contains { $0.contains(" ") }, "two words offered as one: \(status)")
        let rollout = try await complete("whisperctl rollout --")
        #expect(Set(rollout).isSuperset(of: ["--only", "--dry-run", "--max-unavailable", "--help"]), "\(rollout)")
        #expect(try await complete("whisperctl rollout --only ") == ["ws1"])
        #expect(try await complete("whisperctl rollout r") == ["run"])
        #expect(try await complete("whisperctl backup --").contains("--keep-days"))
    }
}
