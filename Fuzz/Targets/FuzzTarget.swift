import Dispatch
import Foundation
import NIOCore
import NIOEmbedded
import OpsKit
import WhisperServerCore

/// One parser of outside input, and how fuzzed bytes reach it. A target may also check an
/// invariant (a round trip, a bound) with `precondition`: a broken one is a crash like any other.
struct FuzzTarget: Sendable {
    let name: String
    /// State that lives across inputs, made before the first one (so it is not taken for a leak).
    var prepare: @Sendable () -> Void = {}
    let run: @Sendable (UnsafeRawBufferPointer) -> Void

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "client-message") { bytes in
            _ = try? ClientMessage.decode(Array(bytes))
        },
        FuzzTarget(name: "json") { bytes in
            guard let value = try? JSONValue.parse(bytes) else { return }
            // What we write, we read back the same.
            let again = try? JSONValue.parse(Array(value.serialized().utf8))
            precondition(again == value, "JSON round trip changed \(value.serialized())")
            _ = value.prettyPrinted()
        },
        FuzzTarget(name: "websocket-frames") { bytes in
            var parser = WebSocketFrameParser(role: .server, maxMessageSize: 4096)
            for chunk in Chunks(bytes) {
                parser.append(ByteBuffer(bytes: chunk))
                while let message = try? parser.next() {
                    switch message {
                    case .text(let text):
                        precondition(text.readableBytes <= 4096, "text message over the limit")
                        precondition(String(validating: text.readableBytesView, as: UTF8.self) != nil, "text message not UTF-8")
                    case .binary(let data): precondition(data.readableBytes <= 4096, "binary message over the limit")
                    case .ping(let data), .pong(let data): precondition(data.readableBytes <= 125, "control frame over 125 bytes")
                    case .close(let code, _): precondition(code.map(WebSocketFrameParser.isValidCloseCode) ?? true, "invalid close code")
                    }
                }
            }
        },
        FuzzTarget(name: "websocket-connection", prepare: ConnectionDriver.warmUp) { bytes in
            // The first line is the upgrade's URI (the resume query); the rest arrives as frames.
            let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
            let uri = "/ws?" + String(decoding: bytes[..<newline], as: UTF8.self)
            let frames = Array(bytes[min(newline + 1, bytes.count)...])
            ConnectionDriver.drive(upgradedTo: uri, input: frames)
        },
        FuzzTarget(name: "fleet-files") { bytes in
            FleetShapeEdits.exercise(String(decoding: bytes, as: UTF8.self))
        },
        FuzzTarget(name: "session-machine") { bytes in
            SessionMachine.exercise(bytes)
        },
        FuzzTarget(name: "http-request", prepare: ConnectionDriver.warmUp) { bytes in
            ConnectionDriver.drive(upgradedTo: nil, input: Array(bytes))
        },
        FuzzTarget(name: "resp") { bytes in
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPReplyDecoder()))
            defer { _ = try? channel.finish() }
            for chunk in Chunks(bytes) {
                guard (try? channel.writeInbound(ByteBuffer(bytes: chunk))) != nil else { return }
                while let reply = try? channel.readInbound(as: RESPValue.self) { _ = reply.description }
            }
        },
        FuzzTarget(name: "nats-protocol") { bytes in
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSOperationDecoder()))
            defer { _ = try? channel.finish() }
            for chunk in Chunks(bytes) {
                guard (try? channel.writeInbound(ByteBuffer(bytes: chunk))) != nil else { return }
                while (try? channel.readInbound(as: NATSServerOperation.self)) != nil {}
            }
        },
        FuzzTarget(name: "runbook") { bytes in
            // Decoding and validating never crash; a runbook with problems is never returned alone.
            let (runbook, problems) = RunbookDecoder.decode(String(decoding: bytes, as: UTF8.self), path: "fuzz.yml")
            guard let runbook else {
                precondition(!problems.isEmpty, "no runbook and no problem")
                return
            }
            for problem in problems + RunbookValidator().validate(runbook) {
                precondition(problem.location.line >= 1 && problem.location.column >= 1, "a problem outside the file: \(problem)")
            }
            _ = runbook.structure
        },
        FuzzTarget(name: "websocket-upgrade-answer") { bytes in
            // What a proxy or server answers to wait.http's upgrade request.
            guard let answer = try? WebSocketUpgradeProbe.parse(String(decoding: bytes, as: UTF8.self), key: "dGhlIHNhbXBsZSBub25jZQ==", endpoint: "fuzz") else { return }
            _ = answer.summary
        },
        FuzzTarget(name: "runbook-expression") { bytes in
            guard let expression = try? RunbookExpression.parse(String(decoding: bytes, as: UTF8.self)) else { return }
            _ = expression.references
            _ = try? expression.evaluate(in: FuzzRunbookScope())
        },
        FuzzTarget(name: "inventory") { bytes in
            // whisperctl.yml, then a NUL, then the .env beside it.
            let split = bytes.firstIndex(of: 0) ?? bytes.count
            let yaml = String(decoding: bytes[..<split], as: UTF8.self)
            let dotenv = try? DotEnv(path: ".env", text: String(decoding: bytes[min(split + 1, bytes.count)...], as: UTF8.self))
            let loader = InventoryLoader(environment: ["HOST": "db", "PASSWORD": "s3cret"], workingDirectory: "/nonexistent")
            guard let inventory = try? loader.assemble(configPath: "whisperctl.yml", configText: yaml, dotenv: dotenv) else { return }
            _ = InventoryValidator().validate(inventory)
            _ = try? inventory.redisAddress()
            _ = inventory.servers
            _ = inventory.certs
        },
        FuzzTarget(name: "pem") { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            _ = PEMBlock.split(text)
            if let certificates = try? CertificateReader.parse(pem: text, source: "fuzz") {
                for certificate in certificates { _ = certificate.daysUntilExpiry() }
            }
            // What cert combine and check do with a PEM: every certificate, the key, the chain.
            let chain = (try? X509Certificate.parseAll(pem: text, source: "fuzz")) ?? []
            for certificate in chain {
                _ = (certificate.fingerprint, certificate.keyDescription, certificate.mustStaple, certificate.isSelfSigned, certificate.covers(host: "chat.test"))
            }
            if let key = try? PrivateKey.parse(pem: text, source: "fuzz") {
                _ = key.description
                if let bundle = try? CertificateBundle.combine(certificates: chain, key: key, allowExpired: true) {
                    precondition(bundle.chain.first?.matches(key) == true, "a combined PEM whose leaf is not the key's")
                }
            }
            if !chain.isEmpty {
                _ = CertificateInspection(source: "fuzz", chain: chain, keyMatches: nil, host: "chat.test").json.serialized()
            }
        },
        FuzzTarget(name: "haproxy-stats") { bytes in
            guard let stats = try? HAProxyStats(csv: String(decoding: bytes, as: UTF8.self)) else { return }
            for backend in stats.backendNames {
                for row in stats.servers(ofBackend: backend) {
                    _ = (row.currentSessions, row.weight, row.checkStatus, HAProxyServerState(haproxyStatus: row.status))
                }
            }
        },
        FuzzTarget(name: "prometheus-text") { bytes in
            guard let families = try? PrometheusTextParser.parse(bytes) else { return }
            for family in families {
                precondition(!family.name.isEmpty, "a family without a name")
                for sample in family.samples { precondition(!sample.name.isEmpty, "a sample without a name") }
            }
        },
        FuzzTarget(name: "sql-statements") { bytes in
            let script = String(decoding: bytes, as: UTF8.self)
            var previous = 0
            for statement in SQLStatements.split(script) {
                precondition(!statement.text.isEmpty, "an empty statement")
                precondition(statement.offset > previous && statement.line >= 1, "statements out of order")
                previous = statement.offset
            }
            _ = Migration.isTransactional(script)
        },
        FuzzTarget(name: "backup-manifest") { bytes in
            guard let json = try? JSONValue.parse(bytes), let manifest = try? BackupManifest(json: json, path: "manifest.json") else { return }
            // What it writes, it reads back the same.
            let again = try? BackupManifest(json: JSONValue.parse(Array(manifest.json.serialized().utf8)), path: "manifest.json")
            precondition(again?.id == manifest.id && again?.files == manifest.files && again?.tables == manifest.tables, "manifest round trip changed")
            precondition(manifest.files.allSatisfy { !$0.name.contains("/") }, "a file name escaping the backup directory")
        },
        FuzzTarget(name: "dashboard") { bytes in
            DashboardExercise.run(bytes)
        },
        FuzzTarget(name: "diagnostics") { bytes in
            DiagnosticsExercise.run(Array(bytes))
        },
        FuzzTarget(name: "redis-info") { bytes in
            _ = parseRedisInfo(String(decoding: bytes, as: UTF8.self))
        },
        FuzzTarget(name: "addresses") { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? RedisAddress(parsing: text)
            _ = try? NATSAddress(parsing: text)
            if let servers = try? NATSAddress.list(parsing: text) { precondition(!servers.isEmpty, "a NATS_URL list with no server") }
            _ = NATSClient.connectURLs(inInfo: text)
            _ = try? PostgresConnectionInfo(parsing: text)
            _ = URLCheck.problem(text, schemes: ["http", "https"])
            _ = Redactor.redactURL(text)
            _ = Duration(parsing: text)
            _ = MigrationDirectory.parse(text)
        },
        FuzzTarget(name: "docker-log-stream") { bytes in
            // The Engine API's log frames: never past the input, a remainder only of a cut frame.
            let input = Array(bytes)
            let (chunks, remainder) = DockerLogStream.frames(input)
            precondition(remainder >= 0 && remainder <= input.count, "remainder outside the input")
            precondition(chunks.reduce(0) { $0 + $1.bytes.count } <= input.count, "more bytes out than in")
            _ = DockerLogStream.lines(input)
        },
        FuzzTarget(name: "log-source") { bytes in
            // A logs: value, and what names it again reads back the same.
            let text = String(decoding: bytes, as: UTF8.self)
            guard let source = try? LogSource(parsing: text) else { return }
            precondition((try? LogSource(parsing: source.description)) == source, "log source round trip: \(source)")
            var archive = TarArchive()
            if (try? archive.addFile(text, Array(bytes), modified: Date(timeIntervalSince1970: 0))) != nil {
                precondition(archive.bytes.count % 512 == 0, "a tar entry not in whole blocks")
            }
        },
        FuzzTarget(name: "audit-files") { bytes in
            // What `audit` reads from the host and the deployment's files: /proc/net rows,
            // a Compose file, Kubernetes manifests; never a crash, listening rows only.
            let text = String(decoding: bytes, as: UTF8.self)
            for ipv6 in [false, true] {
                for socket in ListeningSocket.parse(text, ipv6: ipv6) { precondition((0...65535).contains(socket.port), "port \(socket.port)") }
            }
            _ = try? SecurityAudit.composeFindings(path: "fuzz.yml", text: text)
            _ = SecurityAudit.kubernetesFindings([(file: "fuzz.yaml", text: text)])
        },
        FuzzTarget(name: "log-line") { bytes in
            // One line of any service's log, as each source would give it.
            let line = String(decoding: bytes, as: UTF8.self)
            let parser = LogLineParser(now: Date(timeIntervalSince1970: 1_796_284_800))
            for source: LogSource in [.file("f"), .journald(unit: "u"), .docker(container: "c"), .kubernetes(namespace: "n", selector: "a=b")] {
                let record = parser.parse(line, service: "s", source: source)
                _ = record.json.serialized()
                _ = LogMerge.timed([record])
            }
        },
        FuzzTarget(name: "peer-event") { bytes in
            if let value = try? JSONValue.parse(bytes), let event = PeerEvent(json: value) {
                precondition(PeerEvent(json: event.json) == event, "peer event round trip")
            }
            if let message = StoredMessage(bufferEntry: String(decoding: bytes, as: UTF8.self)) {
                precondition(StoredMessage(bufferEntry: message.bufferEntry) == message, "buffer entry round trip")
            }
        },
        FuzzTarget(name: "server-config") { bytes in
            // KEY=VALUE lines, as the environment.
            var environment: [String: String] = [:]
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
            }
            _ = try? ServerConfiguration.fromEnvironment(environment)
        },
    ]
}

/// Cuts the input into pieces as a network would: the first byte sets the piece size, so the
/// fuzzer explores both whole and torn frames, lines and replies.
struct Chunks: Sequence, IteratorProtocol {
    private let bytes: [UInt8]
    private var offset: Int
    private let size: Int

    init(_ bytes: UnsafeRawBufferPointer) { self.init(Array(bytes)) }

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        size = bytes.first.map { Int($0 % 64) + 1 } ?? 1
        offset = bytes.isEmpty ? 0 : 1
    }

    mutating func next() -> [UInt8]? {
        guard offset < bytes.count else { return nil }
        let end = Swift.min(offset + size, bytes.count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

/// Names for fuzzed expressions: parameters and step outputs of every type, one unknown.
struct FuzzRunbookScope: RunbookScope {
    func resolve(_ path: [String]) -> RunbookResolution {
        switch path.last ?? "" {
        case "n": .value(.number(3))
        case "s": .value(.string("ws1"))
        case "b": .value(.bool(true))
        case "l": .value(.list([.string("a"), .number(1)]))
        case "u": .unknown("known after step 'x' runs")
        default: .undefined("no \(path.joined(separator: "."))")
        }
    }

    func call(_ path: [String], _ arguments: [RunbookValue]) -> RunbookResolution { .value(.bool(arguments.count == 1)) }
}
