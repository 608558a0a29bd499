import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import OpsKit
import TestSupport
import Testing

@testable import OpsKit

/// Collects what a subscription receives, for assertions from the test's task.
final class Received: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    var texts: [String] { box.withLockedValue { $0 } }
    func add(_ message: NATSMessage) {
        var payload = message.payload
        let text = payload.readString(length: payload.readableBytes) ?? ""
        box.withLockedValue { $0.append(text) }
    }
}

/// Quick reconnects; keep-alive as in production unless a test is about noticing a dead server
/// (an aggressive one would drop healthy connections on a loaded test machine).
private func fastOptions(echo: Bool = true, pingInterval: Duration = .seconds(2)) -> NATSClient.Options {
    var options = NATSClient.Options()
    options.echo = echo
    options.reconnectDelay = (.milliseconds(20), .milliseconds(200))
    options.pingInterval = pingInterval
    return options
}

@Suite struct NATSClientTests {
    /// Publishing from the client's own event loop while the server dies: a failed write there
    /// runs the pipeline at once (NIO reads the socket to learn why), which must not re-enter the
    /// client under its lock (that trapped a whisper-server when NATS was killed at load).
    @Test func publishingOnItsOwnLoopWhileTheServerDiesDoesNotReenter() async throws {
        try await withService({ try await NATSServer.start() }) { nats in
            let client = NATSClient(address: try NATSAddress(parsing: nats.url), options: fastOptions())
            try await client.connect()
            let received = Received()
            try client.subscribe(to: "load.>") { received.add($0) }
            let publishing = client.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in
                for index in 0..<50 { try? client.publish("x", to: "load.\(index)") }
            }
            try await eventually("messages flow") { received.texts.count > 1000 }
            for _ in 0..<3 {
                await nats.kill()
                try await eventually("the client notices") { !client.isConnected }
                try await nats.restart()
                try await eventually("reconnected") { client.isConnected }
            }
            publishing.cancel()
            await client.close()
        }
    }

    @Test func publishesAndReceivesOnSubjectsAndWildcards() async throws {
        try await withService({ try await NATSServer.start() }) { nats in
            let client = NATSClient(address: try NATSAddress(parsing: nats.url), options: fastOptions())
            try await client.connect()
            let exact = Received()
            let wildcard = Received()
            try client.subscribe(to: "chat.abc") { exact.add($0) }
            let all = try client.subscribe(to: "chat.>") { wildcard.add($0) }
            try await client.flush()
            for index in 0..<100 { try client.publish("m\(index)", to: "chat.abc") }
            try client.publish("other", to: "chat.xyz")
            try await eventually("100 and 101 messages") { exact.texts.count == 100 && wildcard.texts.count == 101 }
            #expect(exact.texts == (0..<100).map { "m\($0)" })
            client.unsubscribe(all)
            try await client.flush()
            try client.publish("after", to: "chat.abc")
            try await eventually("the last message") { exact.texts.count == 101 }
            #expect(wildcard.texts.count == 101)
            await client.close()
        }
    }

    @Test func echoOffKeepsOwnMessagesAwayButOthersArrive() async throws {
        try await withService({ try await NATSServer.start() }) { nats in
            let quiet = NATSClient(address: try NATSAddress(parsing: nats.url), options: fastOptions(echo: false))
            let other = NATSClient(address: try NATSAddress(parsing: nats.url), options: fastOptions())
            try await quiet.connect()
            try await other.connect()
            let received = Received()
            try quiet.subscribe(to: "events") { received.add($0) }
            try await quiet.flush()
            try quiet.publish("mine", to: "events")
            try other.publish("theirs", to: "events")
            try await eventually("the other client's message") { received.texts == ["theirs"] }
            try await quiet.flush()
            #expect(received.texts == ["theirs"])
            await quiet.close()
            await other.close()
        }
    }

    @Test func authenticatesWithTokenAndRejectsAWrongOne() async throws {
        try await withService({ try await NATSServer.start(extraArguments: ["--auth", "s3cret-token"]) }) { nats in
            let good = NATSClient(address: try NATSAddress(parsing: "nats://s3cret-token@127.0.0.1:\(nats.port)"))
            try await good.connect()
            #expect(good.isConnected)
            await good.close()
            let bad = NATSClient(address: try NATSAddress(parsing: "nats://wrong@127.0.0.1:\(nats.port)"))
            let error = await #expect(throws: OpsError.self) { try await bad.connect() }
            #expect(error?.code == .authentication)
            #expect(error?.description.contains("127.0.0.1:\(nats.port)") == true)
            #expect(error?.description.contains("wrong") == false)
        }
    }

    @Test func authenticatesWithUserAndPassword() async throws {
        try await withService({ try await NATSServer.start(extraArguments: ["--user", "whisper", "--pass", "p@ss word"]) }) { nats in
            let client = NATSClient(address: try NATSAddress(parsing: "nats://whisper:p%40ss%20word@127.0.0.1:\(nats.port)"))
            try await client.connect()
            let received = Received()
            try client.subscribe(to: "x") { received.add($0) }
            try await client.flush()
            try client.publish("hi", to: "x")
            try await eventually("the message") { received.texts == ["hi"] }
            await client.close()
        }
    }

    @Test func refusesPayloadsOverTheServersMaxPayload() async throws {
        try await withService({ try await NATSServer.start(configuration: "max_payload: 1024\n") }) { nats in
            let client = NATSClient(address: try NATSAddress(parsing: nats.url))
            try await client.connect()
            #expect(client.maxPayload == 1024)
            try client.publish(ByteBuffer(repeating: 0x61, count: 1024), to: "big")
            let error = #expect(throws: OpsError.self) { try client.publish(ByteBuffer(repeating: 0x61, count: 1025), to: "big") }
            #expect(error?.message.contains("exceeds the server's max_payload of 1024 bytes") == true)
            #expect(throws: OpsError.self) { try client.publish("x", to: "bad subject") }
            #expect(throws: OpsError.self) { try client.publish("x", to: "chat.*") }
            #expect(client.isConnected)
            await client.close()
        }
    }

    @Test func connectionRefusedNamesTheEndpoint() async throws {
        let port = try FreePort.next()
        let client = NATSClient(address: NATSAddress(host: "127.0.0.1", port: port))
        let error = await #expect(throws: OpsError.self) { try await client.connect() }
        #expect(error?.code == .connectionRefused)
        #expect(error?.description == "connection refused at nats://127.0.0.1:\(port)")
    }

    @Test func reconnectsResubscribesAndSendsWhatWaited() async throws {
        try await withService({ try await NATSServer.start() }) { nats in
            let client = NATSClient(address: try NATSAddress(parsing: nats.url), options: fastOptions())
            try await client.connect()
            let received = Received()
            try client.subscribe(to: "chat.resume") { received.add($0) }
            try await client.flush()
            try client.publish("before", to: "chat.resume")
            try await eventually("the first message") { received.texts == ["before"] }

            await nats.kill()
            try await eventually("the client notices") { !client.isConnected }
            for index in 0..<50 { try client.publish("while-down-\(index)", to: "chat.resume") }
            try await nats.restart()
            try await eventually("reconnected") { client.isConnected }
            try await eventually("what waited is delivered") { received.texts.count == 51 }
            #expect(received.texts == ["before"] + (0..<50).map { "while-down-\($0)" })
            await client.close()
        }
    }

    @Test func aStoppedServerIsNoticedByKeepAliveAndRecoveredFrom() async throws {
        try await withService({ try await NATSServer.start() }) { nats in
            let client = NATSClient(address: try NATSAddress(parsing: nats.url), options: fastOptions(pingInterval: .milliseconds(300)))
            try await client.connect()
            nats.process.pause()
            try await eventually(timeout: .seconds(10), "the stale connection is dropped") { !client.isConnected }
            #expect(client.lastErrorDescription != nil)
            nats.process.resume()
            try await eventually(timeout: .seconds(10), "reconnected") { client.isConnected }
            await client.close()
        }
    }

    @Test func theOutboundBufferIsBounded() async throws {
        var options = fastOptions()
        options.pendingLimit = 1000
        let port = try FreePort.next()
        let client = NATSClient(address: NATSAddress(host: "127.0.0.1", port: port), options: options)
        client.start()
        // Each costs 113 bytes on the wire ("PUB s 100\r\n", payload, CRLF): 8 fit in 1000.
        for _ in 0..<8 { try client.publish(ByteBuffer(repeating: 0x61, count: 100), to: "s") }
        let error = #expect(throws: OpsError.self) {
            for _ in 0..<5 { try client.publish(ByteBuffer(repeating: 0x61, count: 100), to: "s") }
        }
        #expect(error?.message.contains("outbound buffer") == true)
        await client.close()
    }
}

@Suite struct NATSProtocolTests {
    @Test func decodesOperationsSplitAcrossReads() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSOperationDecoder()))
        let stream = "INFO {\"server_id\":\"x\",\"max_payload\":2048}\r\nPING\r\nMSG chat.a 7 inbox.1 5\r\nhe\r\nl\r\nMSG chat.b 8 0\r\n\r\n+OK\r\n-ERR 'Authorization Violation'\r\nPONG\r\n"
        let bytes = Array(stream.utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            try channel.writeInbound(ByteBuffer(bytes: bytes[chunk..<min(chunk + 7, bytes.count)]))
        }
        var operations: [NATSServerOperation] = []
        while let operation = try channel.readInbound(as: NATSServerOperation.self) { operations.append(operation) }
        #expect(operations.count == 7)
        guard case .info(let maxPayload, _) = operations[0] else { Issue.record("\(operations[0])"); return }
        #expect(maxPayload == 2048)
        guard case .msg(let sid, var message) = operations[2] else { Issue.record("\(operations[2])"); return }
        #expect(sid == 7 && message.subject == "chat.a" && message.replyTo == "inbox.1")
        #expect(message.payload.readString(length: message.payload.readableBytes) == "he\r\nl")
        guard case .msg(8, let empty) = operations[3] else { Issue.record("\(operations[3])"); return }
        #expect(empty.payload.readableBytes == 0)
        guard case .err(let text) = operations[5] else { Issue.record("\(operations[5])"); return }
        #expect(text == "Authorization Violation")
    }

    @Test func rejectsGarbage() {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSOperationDecoder()))
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\n")) }
        let other = EmbeddedChannel(handler: ByteToMessageHandler(NATSOperationDecoder()))
        #expect(throws: (any Error).self) { try other.writeInbound(ByteBuffer(string: "MSG a b 5\r\n")) }
    }

    @Test func parsesAddressesWithCredentials() throws {
        #expect(try NATSAddress(parsing: "nats://nats:4222") == NATSAddress(host: "nats", port: 4222))
        #expect(try NATSAddress(parsing: "127.0.0.1") == NATSAddress(host: "127.0.0.1", port: 4222))
        #expect(try NATSAddress(parsing: "nats://tok@h:1").credentials == .token("tok"))
        #expect(try NATSAddress(parsing: "nats://u:p%3Aw@h:1").credentials == .userPassword(user: "u", password: "p:w"))
        #expect(try NATSAddress(parsing: "nats://u:secret@h:1").description == "nats://h:1")
        #expect(throws: OpsError.self) { try NATSAddress(parsing: "tls://h:1") }
        #expect(throws: OpsError.self) { try NATSAddress(parsing: "nats://h:notaport") }
    }
}

/// A 3-node NATS cluster on loopback: the client learns the other nodes from INFO's
/// connect_urls, and when its node dies it connects to another and its subscriptions follow.
@Suite struct NATSClusterClientTests {
    @Test func aLostNodeIsReplacedByAnotherAndSubscriptionsFollow() async throws {
        let nodes = try await NATSServer.startCluster(3)
        do {
            try await Self.failOver(nodes)
        } catch {
            for node in nodes { await node.stop() }
            throw error
        }
        for node in nodes { await node.stop() }
    }

    static func failOver(_ nodes: [NATSServer]) async throws {
        let first = try NATSAddress(parsing: nodes[0].url)
        let subscriber = NATSClient(address: first, options: fastOptions())
        try await subscriber.connect()
        let received = Received()
        try subscriber.subscribe(to: "chat.>") { received.add($0) }
        try await subscriber.flush()
        #expect(Set(subscriber.knownServers.map(\.port)) == Set(try nodes.map { try NATSAddress(parsing: $0.url).port }),
            "learned from connect_urls: \(subscriber.knownServers)")

        let publisher = NATSClient(servers: try NATSAddress.list(parsing: "\(nodes[1].url),\(nodes[2].url)"), options: fastOptions())
        try await publisher.connect()
        var sent = 0
        try await eventually("a message across the route") {
            sent += 1
            try? publisher.publish("before-\(sent)", to: "chat.1")
            return received.texts.contains { $0.hasPrefix("before-") }
        }

        await nodes[0].kill()
        try await eventually(timeout: .seconds(30), "connected to another node") {
            subscriber.isConnected && subscriber.currentServer.port != first.port
        }
        try await eventually("messages again, through the node it moved to") {
            sent += 1
            try? publisher.publish("after-\(sent)", to: "chat.1")
            return received.texts.contains { $0.hasPrefix("after-") }
        }
        await subscriber.close()
        await publisher.close()
    }

    @Test func natsURLListsSeveralServersWithOneSetOfCredentials() throws {
        let servers = try NATSAddress.list(parsing: "nats://user:pw@a:4222, nats://b:4223 ,c")
        #expect(servers.map(\.description) == ["nats://a:4222", "nats://b:4223", "nats://c:4222"])
        #expect(servers.allSatisfy { $0.credentials == .userPassword(user: "user", password: "pw") })
        #expect(throws: OpsError.self) { try NATSAddress.list(parsing: " , ") }
        #expect(NATSClient.connectURLs(inInfo: #"INFO {"server_id":"x","connect_urls":["127.0.0.1:4223","127.0.0.1:4224"]}"#)
            == ["127.0.0.1:4223", "127.0.0.1:4224"])
        #expect(NATSClient.connectURLs(inInfo: "INFO {not json").isEmpty)
    }
}
