import Foundation
import OpsKit
import TestSupport
import Testing

/// Certificates made by the `openssl` command at test time: a root, an intermediate and leaves
/// of every kind. `openssl` also judges what whisperctl writes; the product never runs it.
final class CertificateFixtures: @unchecked Sendable {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "whisper-certs")
        try FileManager.default.createDirectory(atPath: directory.file("ca"), withIntermediateDirectories: true)
        try directory.write("ca/index.txt", "")
        try directory.write("ca/serial", "1000\n")
        try FileManager.default.createDirectory(atPath: directory.file("ca/new"), withIntermediateDirectories: true)
        try directory.write("ca.cnf", """
            [ca]
            default_ca = local
            [local]
            dir = \(directory.file("ca"))
            database = $dir/index.txt
            new_certs_dir = $dir/new
            serial = $dir/serial
            default_md = sha256
            policy = any
            unique_subject = no
            [any]
            commonName = supplied
            [leaf]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = $ENV::SAN
            [intermediate]
            basicConstraints = critical,CA:TRUE,pathlen:0
            keyUsage = critical,keyCertSign,cRLSign
            """)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("root.key"), "-out", path("root.pem"),
                     "-subj", "/CN=Whisper Test Root", "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("intermediate.key"), "-out", path("intermediate.csr"),
                     "-subj", "/CN=Whisper Test Intermediate"])
        try openssl(["ca", "-batch", "-config", path("ca.cnf"), "-cert", path("root.pem"), "-keyfile", path("root.key"), "-in", path("intermediate.csr"),
                     "-out", path("intermediate.pem"), "-days", "1825", "-extensions", "intermediate", "-notext"], environment: ["SAN": "DNS:unused"])
    }

    func path(_ name: String) -> String { directory.file(name) }

    @discardableResult
    func openssl(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let run = try Command.capture("/usr/bin/openssl", arguments, environment: environment.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a }, directory: directory.path)
        guard run.status == 0 else { throw SupportError("openssl \(arguments.prefix(2).joined(separator: " ")): \(run.stderr)") }
        return run.stdout
    }

    /// A leaf signed by the intermediate: `name.key` and `name.pem`.
    func leaf(_ name: String, san: String = "DNS:chat.test,DNS:www.chat.test", rsa: Bool = false, start: String? = nil, end: String? = nil) throws {
        let keyOptions = rsa ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try openssl(["req"] + keyOptions + ["-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(name).chat.test"])
        var arguments = ["ca", "-batch", "-config", path("ca.cnf"), "-cert", path("intermediate.pem"), "-keyfile", path("intermediate.key"),
                         "-in", path("\(name).csr"), "-out", path("\(name).pem"), "-extensions", "leaf", "-notext"]
        arguments += start.map { ["-startdate", $0] } ?? []
        arguments += end.map { ["-enddate", $0] } ?? ["-days", "90"]
        try openssl(arguments, environment: ["SAN": san])
    }

    func remove() { directory.remove() }
}

@Suite struct CertTests {
    @Test func combineOrdersTheChainChecksEveryLinkAndWrites0600() async throws {
        let fixtures = try CertificateFixtures()
        defer { fixtures.remove() }
        try fixtures.leaf("ec")
        let directory = fixtures.directory
        // Given out of order: the intermediate first, in its own file.
        let run = try await WhisperctlBinary.run(
            ["cert", "combine", "--cert", fixtures.path("intermediate.pem"), "--cert", fixtures.path("ec.pem"), "--key", fixtures.path("ec.key"),
             "--out", fixtures.path("haproxy.pem")], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("reordered the chain"), "\(run.stdout)")
        var status = stat()
        stat(fixtures.path("haproxy.pem"), &status)
        #expect(status.st_mode & 0o777 == 0o600)
        let blocks = PEMBlock.split(try String(contentsOfFile: fixtures.path("haproxy.pem"), encoding: .utf8)).map(\.label)
        #expect(blocks == ["CERTIFICATE", "CERTIFICATE", "PRIVATE KEY"], "leaf, intermediate, key: \(blocks)")
        // The independent judge: the first certificate verifies through the second to the root.
        try directory.write("only-intermediate.pem", PEMBlock.split(try String(contentsOfFile: fixtures.path("haproxy.pem"), encoding: .utf8))[1].text)
        let verify = try Command.capture("/usr/bin/openssl", ["verify", "-CAfile", fixtures.path("root.pem"), "-untrusted", fixtures.path("only-intermediate.pem"), fixtures.path("haproxy.pem")],
            environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
        #expect(verify.stdout.contains(": OK"), "\(verify.stdout)\(verify.stderr)")
        let modulus = try fixtures.openssl(["pkey", "-in", fixtures.path("haproxy.pem"), "-pubout"])
        let certificateKey = try fixtures.openssl(["x509", "-in", fixtures.path("haproxy.pem"), "-noout", "-pubkey"])
        #expect(modulus == certificateKey, "the key in the PEM belongs to its first certificate")
    }

    @Test func combineIntoAMissingDirectoryNamesTheDirectory() async throws {
        let fixtures = try CertificateFixtures()
        defer { fixtures.remove() }
        try fixtures.leaf("ec")
        let missing = fixtures.path("no-such-dir")
        let run = try await WhisperctlBinary.run(
            ["cert", "combine", "--cert", fixtures.path("ec.pem"), "--cert", fixtures.path("intermediate.pem"), "--key", fixtures.path("ec.key"),
             "--out", missing + "/haproxy.pem"], in: fixtures.directory)
        #expect(run.status == 2)
        #expect(run.stderr.contains("the directory \(missing) does not exist"), "\(run.stderr)")
    }

    @Test func combineRefusesWhatWouldTakeHAProxyDown() async throws {
        let fixtures = try CertificateFixtures()
        defer { fixtures.remove() }
        try fixtures.leaf("good")
        try fixtures.leaf("other")
        try fixtures.leaf("expired", start: "20200101000000Z", end: "20210101000000Z")
        try fixtures.openssl(["pkey", "-in", fixtures.path("good.key"), "-aes256", "-passout", "pass:s3cret-phrase", "-out", fixtures.path("encrypted.key")])
        try fixtures.directory.write("phrase", "s3cret-phrase\n")
        let directory = fixtures.directory
        func combine(_ certificates: [String], key: String, _ extra: [String] = []) async throws -> ProgramRun {
            try await WhisperctlBinary.run(
                ["cert", "combine"] + certificates.flatMap { ["--cert", fixtures.path($0)] } + ["--key", fixtures.path(key), "--out", fixtures.path("out.pem")] + extra,
                in: directory)
        }
        let mismatched = try await combine(["good.pem", "intermediate.pem"], key: "other.key")
        #expect(mismatched.status == 2 && mismatched.stderr.contains("matches none of the certificates"), "\(mismatched.stderr)")
        let stranger = try await combine(["good.pem", "intermediate.pem", "other.pem"], key: "good.key")
        #expect(stranger.status == 2 && stranger.stderr.contains("not part of the chain"), "\(stranger.stderr)")
        let expired = try await combine(["expired.pem", "intermediate.pem"], key: "expired.key")
        #expect(expired.status == 2 && expired.stderr.contains("expired on 2021-01-01"), "\(expired.stderr)")
        #expect(try await combine(["expired.pem", "intermediate.pem"], key: "expired.key", ["--allow-expired"]).status == 0)
        let locked = try await combine(["good.pem", "intermediate.pem"], key: "encrypted.key")
        #expect(locked.status == 2 && locked.stderr.contains("encrypted") && locked.stderr.contains("--key-passphrase-file"), "\(locked.stderr)")
        let wrongPhrase = try await combine(["good.pem", "intermediate.pem"], key: "encrypted.key", ["--key-passphrase-file", fixtures.path("ca.cnf")])
        #expect(wrongPhrase.status == 2 && wrongPhrase.stderr.contains("passphrase does not open"), "\(wrongPhrase.stderr)")
        #expect(try await combine(["good.pem", "intermediate.pem"], key: "encrypted.key", ["--key-passphrase-file", fixtures.path("phrase")]).status == 0)
        #expect(!mismatched.stderr.contains("s3cret") && !locked.stderr.contains("s3cret"))
    }

    @Test func checkJudgesByDaysNamesAndTheKey() async throws {
        let fixtures = try CertificateFixtures()
        defer { fixtures.remove() }
        let soon = ISO8601DateFormatter.compact(Date().addingTimeInterval(20 * 86_400))
        let later = ISO8601DateFormatter.compact(Date().addingTimeInterval(400 * 86_400))
        try fixtures.leaf("rsa", rsa: true)
        try fixtures.leaf("soon", end: soon)
        try fixtures.leaf("future", start: later, end: ISO8601DateFormatter.compact(Date().addingTimeInterval(500 * 86_400)))
        let directory = fixtures.directory
        func check(_ file: String, _ extra: [String] = []) async throws -> (ProgramRun, JSONValue?) {
            let run = try await WhisperctlBinary.run(["cert", "check", fixtures.path(file), "--json"] + extra, in: directory)
            return (run, try? JSONValue.parse(Array(run.stdout.utf8))["certificates"]?.arrayValue?.first ?? .null)
        }
        let (good, goodJSON) = try await check("rsa.pem", ["--host", "www.chat.test"])
        #expect(good.status == 0, "\(good.stdout)")
        #expect(goodJSON?["key"] == .string("RSA 2048") && goodJSON?["covers_host"] == .bool(true) && (goodJSON?["days_left"]?.intValue ?? 0) >= 88)
        let (wrongHost, _) = try await check("rsa.pem", ["--host", "evil.example"])
        #expect(wrongHost.status == 2)
        let (expiring, _) = try await check("soon.pem")
        #expect(expiring.status == 1, "under 30 days: \(expiring.stdout)")
        #expect(try await check("soon.pem", ["--critical-days", "25"]).0.status == 2, "configurable thresholds")
        let (notYet, _) = try await check("future.pem")
        #expect(notYet.status == 2 && notYet.stdout.contains("not valid before"))
        // A PEM with a key that is not the certificate's.
        try directory.write("mixed.pem", try String(contentsOfFile: fixtures.path("rsa.pem"), encoding: .utf8) + String(contentsOfFile: fixtures.path("soon.key"), encoding: .utf8))
        let (mixed, mixedJSON) = try await check("mixed.pem")
        #expect(mixed.status == 2 && mixedJSON?["key_matches"] == .bool(false))
        let independent = try fixtures.openssl(["x509", "-in", fixtures.path("rsa.pem"), "-noout", "-fingerprint", "-sha256"])
        #expect(independent.contains(goodJSON?["fingerprint_sha256"]?.stringValue ?? "-"), "\(independent)")
    }

    @Test func selfSignedWritesWhatOpenSSLAccepts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for kind in ["ec", "rsa"] {
            let run = try await WhisperctlBinary.run(["cert", "self-signed", "--cn", "chat.test", "--san", "127.0.0.1", "--days", "30", "--out", "out-\(kind)", "--key-type", kind], in: directory)
            #expect(run.status == 0, "\(run.stderr)")
            let certificate = directory.file("out-\(kind)/cert.pem")
            let verify = try Command.capture("/usr/bin/openssl", ["verify", "-CAfile", certificate, certificate], environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let checkend = try Command.capture("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-checkend", "\(29 * 86_400)"], environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
            #expect(checkend.status == 0, "valid for at least 29 days")
            let late = try Command.capture("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-checkend", "\(31 * 86_400)"], environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
            #expect(late.status == 1, "and not beyond 30")
            let text = try Command.capture("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-text"], environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
            #expect(text.stdout.contains("DNS:chat.test") && text.stdout.contains("IP Address:127.0.0.1"))
            #expect(text.stdout.contains(kind == "rsa" ? "2048 bit" : "prime256v1"))
        }
    }

    /// HAProxy serves a combined PEM; `check --connect` reads back the chain it presents.
    @Test func checkReadsWhatHAProxyPresents() async throws {
        let fixtures = try CertificateFixtures()
        defer { fixtures.remove() }
        try fixtures.leaf("served")
        let directory = fixtures.directory
        let combine = try await WhisperctlBinary.run(
            ["cert", "combine", "--cert", fixtures.path("served.pem"), "--cert", fixtures.path("intermediate.pem"), "--key", fixtures.path("served.key"), "--out", fixtures.path("haproxy.pem")],
            in: directory)
        #expect(combine.status == 0)
        let server = try await WhisperServerProcess.start()
        let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port)], tlsCertificate: fixtures.path("haproxy.pem"))
        defer {
            Task {
                await haproxy.stop()
                await server.stop()
            }
        }
        let run = try await WhisperctlBinary.run(["cert", "check", "--connect", "127.0.0.1:\(haproxy.frontendPort)", "--servername", "chat.test", "--json"], in: directory)
        let served = try JSONValue.parse(Array(run.stdout.utf8))["certificates"]?.arrayValue?.first
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(served?["chain"]?.arrayValue?.count == 2 && served?["chain_in_order"] == .bool(true), "\(run.stdout)")
        let local = try await WhisperctlBinary.run(["cert", "check", fixtures.path("haproxy.pem"), "--json"], in: directory)
        let file = try JSONValue.parse(Array(local.stdout.utf8))["certificates"]?.arrayValue?.first
        #expect(served?["fingerprint_sha256"] == file?["fingerprint_sha256"] && file?["key_matches"] == .bool(true))
        let refused = try await WhisperctlBinary.run(["cert", "check", "--connect", "127.0.0.1:\(try FreePort.next())"], in: directory)
        #expect(refused.status == 2 && refused.stderr.contains("connect"), "\(refused.stderr)")
    }
}

extension ISO8601DateFormatter {
    /// openssl ca's date form: 20261231235959Z.
    static func compact(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }
}

/// A real renewal, offline: Let's Encrypt's test CA (pebble) on loopback, certbot against it,
/// and a real HAProxy whose served certificate is swapped through its runtime API while a client
/// keeps handshaking with it.
@Suite struct CertRenewTests {
    @Test func certbotRenewsAndHAProxyServesTheNewCertificateWithoutAFailedHandshake() async throws {
        let fixtures = try CertificateFixtures()
        defer { fixtures.remove() }
        let directory = fixtures.directory
        // pebble's own TLS certificate, which certbot is told to trust.
        try fixtures.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", fixtures.path("pebble.key"),
                              "-out", fixtures.path("pebble.pem"), "-subj", "/CN=localhost", "-days", "30", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        let (acme, management, http, tls, challenge) = (try FreePort.next(), try FreePort.next(), try FreePort.next(), try FreePort.next(), try FreePort.next())
        try directory.write("pebble.json", """
            {"pebble": {"listenAddress": "127.0.0.1:\(acme)", "managementListenAddress": "127.0.0.1:\(management)",
              "certificate": "\(fixtures.path("pebble.pem"))", "privateKey": "\(fixtures.path("pebble.key"))",
              "httpPort": \(http), "tlsPort": \(tls), "ocspResponderURL": "", "externalAccountBindingRequired": false}}
            """)
        let pebble = try ServiceProcess(
            name: "pebble", executable: "/usr/bin/pebble", arguments: ["-config", fixtures.path("pebble.json")], logPath: fixtures.path("pebble.log"),
            environment: ["PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PATH": "/usr/bin:/bin"])
        defer { pebble.stop() }
        try await eventually("pebble answers") {
            (try? await HTTPClient().execute(HTTPRequest(url: "https://127.0.0.1:\(acme)/dir", insecureTLS: true)))?.status == 200
        }

        // HAProxy starts on a self-signed certificate.
        let first = try await WhisperctlBinary.run(["cert", "self-signed", "--cn", "chat.test", "--out", "initial"], in: directory)
        #expect(first.status == 0)
        let pem = fixtures.path("haproxy.pem")
        try FileManager.default.copyItem(atPath: fixtures.path("initial/combined.pem"), toPath: pem)
        let server = try await WhisperServerProcess.start()
        let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port)], tlsCertificate: pem)
        defer {
            Task {
                await haproxy.stop()
                await server.stop()
            }
        }
        try directory.write("whisperctl.yml", """
            deployment: certtest
            servers: []
            redis: ~
            nats: ~
            postgres: ~
            haproxy:
              runtime_api: \(haproxy.runtimeSocket)
              config: \(haproxy.directory.file("haproxy.cfg"))
            certs:
              - \(pem)
            audit:
              log: \(fixtures.path("audit.log"))
            """)
        let initial = try X509Certificate.parseAll(pem: try String(contentsOfFile: pem, encoding: .utf8), source: pem)[0].fingerprint

        // A client that keeps handshaking, and counts what it sees.
        let frontend = haproxy.frontendPort
        // Its timeout is generous: on a machine busy with other tests a slow handshake is not a failed one.
        let polling = Task { () -> (failures: [String], seen: Set<String>, handshakes: Int) in
            var failures: [String] = []
            var seen: Set<String> = []
            var handshakes = 0
            while !Task.isCancelled {
                do {
                    let chain = try await TLSPeerChain.fetch(host: "127.0.0.1", port: frontend, serverName: "chat.test", timeout: .seconds(10))
                    seen.insert(chain[0].fingerprint)
                } catch is CancellationError {
                    break  // the test is over: the handshake in flight was abandoned, not failed
                } catch {
                    failures.append("\(error)")
                }
                handshakes += 1
                try? await Task.sleep(for: .milliseconds(20))
            }
            return (failures, seen, handshakes)
        }
        let environment = ["REQUESTS_CA_BUNDLE": fixtures.path("pebble.pem")]
        let arguments = ["cert", "renew", "--domain", "chat.test", "--certbot-dir", fixtures.path("letsencrypt"), "--http-01-port", "\(challenge)",
                         "--server", "https://127.0.0.1:\(acme)/dir", "--verify", "127.0.0.1:\(frontend)", "--json"]
        let run = try await WhisperctlBinary.run(arguments, environment: environment, in: directory)
        try await Task.sleep(for: .milliseconds(300))
        polling.cancel()
        let observed = await polling.value
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)\n\((try? String(contentsOfFile: fixtures.path("pebble.log"), encoding: .utf8))?.suffix(1500) ?? "")")
        let outcome = try? JSONValue.parse(Array(run.stdout.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8))
        #expect(outcome?["renewed"] == .bool(true), "\(run.stdout)")
        let renewed = outcome?["fingerprint_sha256"]?.stringValue ?? "-"
        #expect(renewed != initial)
        #expect(observed.failures.isEmpty, "no failed handshake during the swap (\(observed.handshakes) handshakes): \(observed.failures)")
        #expect(observed.seen == [initial, renewed], "the old certificate, then the new one: \(observed.seen.count) seen")
        // The renewal's check is true right after its run: a retried procedure would not renew again.
        let renewal = CertificateRenewal(
            domains: ["chat.test"], certbotDirectory: fixtures.path("letsencrypt"), challenge: .standalone(port: challenge), acmeServer: nil,
            email: nil, force: false, pemPath: pem, haproxyConfig: nil, swap: .command("true"), verify: [], emit: { _ in })
        let inventory = try InventoryLoader(explicitPath: directory.file("whisperctl.yml"), environment: [:]).load()
        #expect(try await OperationRunner(inventory: inventory, confirm: { _ in true }).check(RenewCertificate(renewal: renewal)))
        let served = try await TLSPeerChain.fetch(host: "127.0.0.1", port: frontend, serverName: "chat.test")
        #expect(served[0].fingerprint == renewed && served[0].dnsNames == ["chat.test"] && served.count >= 2, "leaf and pebble's intermediate")
        #expect(try String(contentsOfFile: fixtures.path("audit.log"), encoding: .utf8).contains("\"command\":\"cert renew\""))

        // The binds come from the configuration when --verify is not given.
        let config = try String(contentsOfFile: haproxy.directory.file("haproxy.cfg"), encoding: .utf8)
        #expect(CertificateRenewal.binds(inConfiguration: config, servingPEM: pem).map { "\($0.host):\($0.port)" } == ["127.0.0.1:\(frontend)"])

        // A configuration HAProxy rejects: the renewed certificate is not swapped in, the PEM and
        // what HAProxy serves stay as they were.
        let valid = try String(contentsOfFile: directory.file("whisperctl.yml"), encoding: .utf8)
        try directory.write("broken-haproxy.cfg", config.replacingOccurrences(of: "balance leastconn", with: "balance no-such-algorithm"))
        try directory.write("whisperctl.yml", valid.replacingOccurrences(of: haproxy.directory.file("haproxy.cfg"), with: directory.file("broken-haproxy.cfg")))
        let rejected = try await WhisperctlBinary.run(Array(arguments.dropLast()) + ["--force"], environment: environment, in: directory)
        #expect(rejected.status == 2 && rejected.stderr.contains("haproxy -c rejects"), "\(rejected.stdout)\(rejected.stderr)")
        #expect(try X509Certificate.parseAll(pem: try String(contentsOfFile: pem, encoding: .utf8), source: pem)[0].fingerprint == renewed, "the PEM is untouched")
        #expect(!FileManager.default.fileExists(atPath: pem + ".new"))
        #expect(try await TLSPeerChain.fetch(host: "127.0.0.1", port: frontend, serverName: "chat.test")[0].fingerprint == renewed)
        try directory.write("whisperctl.yml", valid)
        // A renewal that works clears the failure status shows.
        let recovered = try await WhisperctlBinary.run(Array(arguments.dropLast()) + ["--force"], environment: environment, in: directory)
        #expect(recovered.status == 0 && !FileManager.default.fileExists(atPath: RenewalFailure.path(for: pem)), "\(recovered.stdout)\(recovered.stderr)")
        let current = try await TLSPeerChain.fetch(host: "127.0.0.1", port: frontend, serverName: "chat.test")[0].fingerprint

        // Not due: certbot renews nothing, HAProxy is left alone.
        let again = try await WhisperctlBinary.run(Array(arguments.dropLast()), environment: environment, in: directory)
        #expect(again.status == 0 && again.stdout.contains("nothing renewed"), "\(again.stdout)\(again.stderr)")

        // The cert-renewal runbook, forced: the same renewal as a step, HAProxy serving what it renewed.
        let runbook = try await WhisperctlBinary.run(
            ["runbook", "run", "cert-renewal", "--param", "domain=chat.test", "--param", "certbot_dir=\(fixtures.path("letsencrypt"))",
             "--param", "http_01_port=\(challenge)", "--param", "acme_server=https://127.0.0.1:\(acme)/dir", "--param", "force=true", "--yes"],
            environment: environment, in: directory)
        #expect(runbook.status == 0 && runbook.stdout.contains("verdict ok: renewed: valid until"), "\(runbook.stdout)\(runbook.stderr)")
        let byRunbook = try await TLSPeerChain.fetch(host: "127.0.0.1", port: frontend, serverName: "chat.test")[0].fingerprint
        #expect(byRunbook != current && runbook.stderr.contains(String(byRunbook.prefix(16))), "\(runbook.stderr)")
        let current2 = byRunbook

        // A CA that does not answer: loud, nothing changed, and status shows it until a renewal works.
        let broken = try await WhisperctlBinary.run(
            ["cert", "renew", "--domain", "chat.test", "--certbot-dir", fixtures.path("letsencrypt"), "--http-01-port", "\(challenge)", "--force",
             "--server", "https://127.0.0.1:\(try FreePort.next())/dir"], environment: environment, in: directory)
        #expect(broken.status == 2 && broken.stderr.contains("FAILED, HAProxy keeps the certificate it had"), "\(broken.stderr)")
        let after = try await TLSPeerChain.fetch(host: "127.0.0.1", port: frontend, serverName: "chat.test")
        #expect(after[0].fingerprint == current2)
        let schedule = try await WhisperctlBinary.run(
            ["cert", "renew", "--install-schedule", "systemd", "--schedule-dir", directory.file("units"), "--domain", "chat.test", "--http-01-port", "8888"], in: directory)
        #expect(schedule.status == 0)
        let unit = try String(contentsOfFile: directory.file("units/whisperctl-cert-renew-certtest.service"), encoding: .utf8)
        #expect(unit.contains("whisperctl cert renew --domain chat.test") && unit.contains("ExecStart=/") && unit.contains("--http-01-port 8888"), "\(unit)")
        let status = try await WhisperctlBinary.run(["status", "--json"], in: directory)
        #expect(status.status == 2 && status.stdout.contains("last renewal FAILED"), "\(status.stdout)")
    }
}
