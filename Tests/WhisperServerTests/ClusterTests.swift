import Foundation
import NIOConcurrencyHelpers
import OpsKit
import TestSupport
import Testing
@testable import WhisperServerCore

/// Two whisper-server processes sharing real Redis, NATS (one node, or a cluster of several)
/// and (when asked) PostgreSQL.
final class Cluster: Sendable {
    let redis: RedisServer
    /// The first NATS node; every node of a NATS cluster is in `natsNodes`.
    let nats: NATSServer
    let natsNodes: [NATSServer]
    let postgres: PostgresServer?
    let one: WhisperServerProcess
    let two: WhisperServerProcess

    private init(redis: RedisServer, natsNodes: [NATSServer], postgres: PostgresServer?, one: WhisperServerProcess, two: WhisperServerProcess) {
        self.redis = redis
        self.nats = natsNodes[0]
        self.natsNodes = natsNodes
        self.postgres = postgres
        self.one = one
        self.two = two
    }

    /// - Parameters:
    ///   - serverBinary: the debug build beside the tests unless given.
    ///   - natsNodes: with more than one, a NATS cluster; ws-one lists its nodes in order in
    ///     NATS_URL and ws-two in reverse, so the two start on different nodes and talk over a route.
    static func run<T>(
        postgres withPostgres: Bool = false, environment: [String: String] = [:], serverBinary: String? = nil, natsNodes count: Int = 1,
        _ body: (Cluster) async throws -> T
    ) async throws -> T {
        let redis = try await RedisServer.start()
        let natsNodes: [NATSServer]
        do {
            natsNodes = count == 1 ? [try await NATSServer.start()] : try await NATSServer.startCluster(count)
        } catch {
            await redis.stop()
            throw error
        }
        var postgres: PostgresServer?
        var started: [any StoppableService] = [redis] + natsNodes
        func stopAll() async { for service in started.reversed() { await service.stop() } }
        do {
            var variables = [
                "REDIS_ADDR": redis.address, "NATS_URL": natsNodes.map(\.url).joined(separator: ","), "MATCH_FALLBACK": "300ms", "RESUME_WINDOW": "5s", "LOG_LEVEL": "info",
            ]
            if withPostgres {
                let server = try await PostgresServer.start()
                started.append(server)
                postgres = server
                variables["DATABASE_URL"] = server.url
                variables["MIGRATIONS_DIR"] = Repository.path("migrations")
                let environment = variables
                let migrate = try await Offload.run {
                    try Command.capture(WhisperServerProcess.binary, ["--migrate"], environment: environment, directory: "/")
                }
                guard migrate.status == 0 else { throw SupportError("--migrate failed: \(migrate.stderr)") }
            }
            variables.merge(environment) { _, new in new }
            let one = try await WhisperServerProcess.start(environment: variables.merging(["SERVER_NAME": "ws-one"]) { _, new in new }, binary: serverBinary)
            started.append(one)
            let reversed = natsNodes.reversed().map(\.url).joined(separator: ",")
            let two = try await WhisperServerProcess.start(
                environment: variables.merging(["SERVER_NAME": "ws-two", "NATS_URL": reversed]) { _, new in new }, binary: serverBinary)
            started.append(two)
            let cluster = Cluster(redis: redis, natsNodes: natsNodes, postgres: postgres, one: one, two: two)
            try await eventually("both servers ready") { await cluster.bothReady() }
            do {
                let result = try await body(cluster)
                await stopAll()
                return result
            } catch {
                Issue.record("ws-one log:\n\(one.process.logTail)\nws-two log:\n\(two.process.logTail)")
                throw error
            }
        } catch {
            await stopAll()
            throw error
        }
    }

    /// NATS restarts while ws-two is frozen: once this returns ws-one is back on the bus and
    /// publishes to subjects nobody listens to yet.
    func cutTwoOffTheBus() async throws {
        await nats.kill()
        two.process.pause()
        try await nats.restart()
        try await eventually(timeout: .seconds(10), "ws-one reconnected") { await self.ready(self.one) }
    }

    func bothReady() async -> Bool {
        let first = await ready(one)
        let second = await ready(two)
        return first && second
    }

    func ready(_ server: WhisperServerProcess) async -> Bool {
        (try? await HTTPClient().get(server.baseURL + "/ready", timeout: .seconds(1)))?.status == 200
    }

    func health(_ server: WhisperServerProcess) async throws -> JSONValue {
        try JSONValue.parse(Array(try await HTTPClient().get(server.baseURL + "/health").body))
    }

    /// `a` on one server and `b` on the other, matched; returns them with a's resume token.
    func pairAcross(interest: String = "across") async throws -> (a: ChatClient, b: ChatClient, token: String) {
        let a = try await ChatClient(one)
        let b = try await ChatClient(two)
        let welcome = try await a.expect("welcome")
        #expect(welcome["server"] == "ws-one")
        #expect(try await b.expect("welcome")["server"] == "ws-two")
        try await a.send(#"{"type":"find","interests":["\#(interest)"]}"#)
        try await a.expect("queued")
        try await b.send(#"{"type":"find","interests":["\#(interest)"]}"#)
        try await b.expect("queued")
        let matchedA = try await a.expect("matched")
        let matchedB = try await b.expect("matched")
        #expect(matchedA["chat"] == matchedB["chat"])
        #expect(matchedA["common_interests"] == .array([.string(interest)]))
        return (a, b, welcome["resume_token"]?.stringValue ?? "")
    }
}

@Suite struct ClusterTests {
    @Test func usersOnDifferentInstancesChatBothWays() async throws {
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            for index in 0..<20 {
                try await a.send(#"{"type":"message","text":"a\#(index)","client_id":"c\#(index)"}"#)
                #expect(try await a.expect("ack")["client_id"] == .string("c\(index)"))
                #expect(try await b.expect("message")["text"] == .string("a\(index)"))
                try await b.send(#"{"type":"message","text":"b\#(index)"}"#)
                try await b.expect("ack")
                #expect(try await a.expect("message")["text"] == .string("b\(index)"))
            }
            try await a.send(#"{"type":"typing"}"#)
            try await b.expect("typing")
            try await b.send(#"{"type":"leave"}"#)
            try await a.expect("partner_left")
            try await b.send(#"{"type":"message","text":"anyone?"}"#)
            #expect(try await b.expect("error")["code"] == "not_in_chat")
            // The queue depth is shared: one user waiting on one instance shows on both.
            try await a.send(#"{"type":"find","interests":["alone"]}"#)
            try await a.expect("queued")
            try await eventually("the depth on the other instance") {
                (try? await cluster.two.metric("whisper_match_queue_size")) == 1
            }
        }
    }

    @Test func idleChatsSurviveLongerThanTheReadTimeout() async throws {
        // Also guards the test harness: servers once died some seconds in, with the thread that
        // had spawned them (the kernel's parent-death signal).
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            try await Task.sleep(for: .seconds(12))
            try await b.send(#"{"type":"message","text":"still there?"}"#)
            #expect(try await a.expect("message")["text"] == "still there?")
        }
    }

    @Test func aUserResumesOnTheOtherInstanceWithNothingLostOrDuplicated() async throws {
        try await Cluster.run { cluster in
            let (a, b, token) = try await cluster.pairAcross()
            try await b.send(#"{"type":"message","text":"first"}"#)
            let first = try await a.expect("message")
            await a.socket.abort()
            try await b.expect("ack")
            try await b.expect("partner_reconnecting")
            for index in 1...5 {
                try await b.send(#"{"type":"message","text":"meanwhile \#(index)"}"#)
                try await b.expect("ack")
            }
            // Back, on the other instance: the one b is on.
            let back = try await ChatClient.resuming(cluster.two, token: token, lastID: first["id"]?.intValue)
            let welcome = try await back.expect("welcome")
            #expect(welcome["resumed"] == .bool(true))
            #expect(welcome["server"] == "ws-two")
            for index in 1...5 {
                #expect(try await back.expect("message")["text"] == .string("meanwhile \(index)"))
            }
            try await b.expect("partner_back")
            try await back.send(#"{"type":"message","text":"hello again"}"#)
            try await back.expect("ack")
            #expect(try await b.expect("message")["text"] == "hello again")
            try await b.send(#"{"type":"message","text":"welcome back"}"#)
            #expect(try await back.expect("message")["text"] == "welcome back")
        }
    }

    /// Trimming and renewing the expiry ride along only now and then, so the buffer in Redis may
    /// briefly hold more than RESUME_BUFFER: a resume still gets exactly the newest RESUME_BUFFER,
    /// counts the rest lost, and the buffer stays bounded and expiring.
    @Test func aResumeGetsTheNewestResumeBufferMessagesWhileTheBufferStaysBoundedAndExpiring() async throws {
        let capacity = 5
        try await Cluster.run(environment: ["RESUME_BUFFER": String(capacity)]) { cluster in
            let (a, b, token) = try await cluster.pairAcross()
            try await b.send(#"{"type":"message","text":"first"}"#)
            let first = try await a.expect("message")
            await a.socket.abort()
            try await b.expect("ack")
            try await b.expect("partner_reconnecting")
            let sent = 3 * BufferUpkeepSchedule.trimEvery + 6
            for index in 1...sent {
                try await b.send(#"{"type":"message","text":"meanwhile \#(index)"}"#)
                try await b.expect("ack")
            }
            let redis = try await RedisConnection.connect(to: try RedisAddress(parsing: cluster.redis.address))
            defer { redis.close() }
            let session = try await redis.send(["GET", "resume:\(token)"]).string ?? ""
            let length = try await redis.send(["LLEN", "buffer:\(session)"]).int ?? 0
            #expect(length >= capacity && length <= capacity + BufferUpkeepSchedule.trimEvery)
            let ttl = try await redis.send(["PTTL", "buffer:\(session)"]).int ?? 0
            #expect(ttl > 0 && ttl <= 3_600_000)

            let back = try await ChatClient.resuming(cluster.one, token: token, lastID: first["id"]?.intValue)
            #expect(try await back.expect("welcome")["resumed"] == .bool(true))
            for index in (sent - capacity + 1)...sent {
                #expect(try await back.expect("message")["text"] == .string("meanwhile \(index)"))
            }
            try await b.send(#"{"type":"message","text":"after"}"#)
            #expect(try await back.expect("message")["text"] == "after")
            let metrics = String(decoding: try await HTTPClient().get(cluster.one.baseURL + "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("whisper_messages_total{type=\"lost\"} \(sent - capacity)\n"))
        }
    }

    /// The client comes back on the other instance while its old connection is still open there
    /// (its instance has not noticed it gone): the old connection hands over, recording how far it
    /// got, and the resumed one numbers its messages after it. Nothing is lost or written twice.
    @Test func aResumeWhileTheOldConnectionIsStillOpenWaitsForItsHandOver() async throws {
        try await Cluster.run { cluster in
            let (a, b, token) = try await cluster.pairAcross()
            for index in 1...3 {
                try await a.send(#"{"type":"message","text":"before \#(index)","client_id":"m\#(index)"}"#)
                try await a.expect("ack")
                #expect(try await b.expect("message")["text"] == .string("before \(index)"))
            }
            let back = try await ChatClient.resuming(cluster.two, token: token)
            let welcome = try await back.expect("welcome")
            #expect(welcome["resumed"] == .bool(true))
            #expect(try await a.closeCode() == 1000, "the old connection was handed over and closed")
            try await back.send(#"{"type":"message","text":"after","client_id":"m4"}"#)
            let ack = try await back.expect("ack")
            #expect(ack["id"] == .int(4), "numbered after what the old connection sent: \(ack)")
            // b hears its partner reconnecting (the old connection's departure was recorded) and back.
            var heard: [String] = []
            var after = try await b.next()
            while after["type"] != "message" {
                heard.append(after["type"]?.stringValue ?? "")
                after = try await b.next()
            }
            #expect(heard.contains("partner_reconnecting") && heard.contains("partner_back"), "\(heard)")
            #expect(after["text"] == "after" && after["id"] == .int(4), "\(after)")
            try await b.send(#"{"type":"message","text":"seen"}"#)
            #expect(try await back.expect("message")["text"] == "seen")
        }
    }

    @Test func aUserSurvivesTheirInstanceCrashing() async throws {
        try await Cluster.run { cluster in
            let (a, b, token) = try await cluster.pairAcross()
            try await b.send(#"{"type":"message","text":"first"}"#)
            let first = try await a.expect("message")
            try await b.expect("ack")
            try await Offload.run { cluster.one.process.kill9() }
            for index in 1...3 {
                try await b.send(#"{"type":"message","text":"into the void \#(index)"}"#)
                try await b.expect("ack")
            }
            let back = try await ChatClient.resuming(cluster.two, token: token, lastID: first["id"]?.intValue)
            #expect(try await back.expect("welcome")["resumed"] == .bool(true))
            for index in 1...3 {
                #expect(try await back.expect("message")["text"] == .string("into the void \(index)"))
            }
            try await b.expect("partner_back")
            try await back.send(#"{"type":"message","text":"survived"}"#)
            #expect(try await b.expect("message")["text"] == "survived")
        }
    }

    @Test func aPartnerWhoseInstanceCrashedAndNeverCameBackHasLeft() async throws {
        try await Cluster.run(environment: ["RESUME_WINDOW": "1s"]) { cluster in
            let (_, b, _) = try await cluster.pairAcross()
            try await Offload.run { cluster.one.process.kill9() }
            // Noticed once the crashed instance's liveness key expires (5 s), checked every 2 s.
            try await b.expect("partner_reconnecting", timeout: .seconds(15))
            try await b.expect("partner_left", timeout: .seconds(5))
            try await b.send(#"{"type":"find","interests":["next"]}"#)
            try await b.expect("queued")
        }
    }

    @Test func theRateLimitFollowsASessionToTheOtherInstance() async throws {
        try await Cluster.run(environment: ["MAX_MSGS_PER_10S": "6"]) { cluster in
            let (a, b, token) = try await cluster.pairAcross()
            for _ in 1...5 {
                try await a.send(#"{"type":"message","text":"x"}"#)
                try await a.expect("ack")
                try await b.expect("message")
            }
            await a.socket.abort()
            try await b.expect("partner_reconnecting")
            let back = try await ChatClient.resuming(cluster.two, token: token)
            #expect(try await back.expect("welcome")["resumed"] == .bool(true))
            try await back.send(#"{"type":"message","text":"one more"}"#)
            #expect(try await back.expect("error")["code"] == "rate_limited")
        }
    }

    @Test func aDrainedInstanceHandsItsUsersToTheOther() async throws {
        try await Cluster.run { cluster in
            let (a, b, token) = try await cluster.pairAcross()
            cluster.one.process.signal(SIGTERM)
            try await a.expect("draining", timeout: .seconds(10))
            let lastID = 0
            #expect(try await a.closeCode() == 1012)
            let back = try await ChatClient.resuming(cluster.two, token: token, lastID: lastID)
            #expect(try await back.expect("welcome")["resumed"] == .bool(true))
            try await b.send(#"{"type":"message","text":"still here?"}"#)
            // partner_reconnecting / partner_back come around the ack, depending on who was faster.
            var heard: [String] = []
            while !heard.contains("ack") {
                let type = try await b.next()["type"]?.stringValue ?? ""
                #expect(["ack", "partner_reconnecting", "partner_back"].contains(type))
                heard.append(type)
            }
            var seen: [String] = []
            while !seen.contains("message") {
                let next = try await back.next()
                seen.append(next["type"]?.stringValue ?? "")
                if next["type"] == "message" { #expect(next["text"] == "still here?") }
            }
            #expect(cluster.one.process.waitForExitCode(timeout: .seconds(10)) == 0)
        }
    }

    @Test func threeReportsOnOneInstanceBanOnTheOther() async throws {
        try await Cluster.run(environment: ["REPORTS_TO_BAN": "3"]) { cluster in
            let abuser = "127.0.66.6"
            for reporter in 1...3 {
                let bad = try await ChatClient(cluster.two, from: abuser)
                let good = try await ChatClient(cluster.one, from: "127.0.7.\(reporter)")
                try await bad.expect("welcome")
                try await good.expect("welcome")
                try await bad.send(#"{"type":"find","interests":["ban-\#(reporter)"]}"#)
                try await bad.expect("queued")
                try await good.send(#"{"type":"find","interests":["ban-\#(reporter)"]}"#)
                try await good.expect("queued")
                try await good.expect("matched")
                try await good.send(#"{"type":"report","reason":"spam"}"#)
                try await good.expect("ack")
                await bad.socket.close()
            }
            try await eventually("the ban counted") { (try? await cluster.one.metric("whisper_bans_total")) == 1 }
            for server in [cluster.one, cluster.two] {
                let error = await #expect(throws: OpsError.self) { try await ChatClient(server, from: abuser) }
                #expect(error?.message.contains("HTTP 403") == true)
            }
            // Somebody else is still welcome, and only a salted hash of the address is stored.
            _ = try await ChatClient(cluster.two, from: "127.0.7.9").expect("welcome")
            let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: cluster.redis.address))
            defer { connection.close() }
            let keys = try await connection.send(["KEYS", "*"]).array?.compactMap(\.string) ?? []
            #expect(keys.contains { $0.hasPrefix("ban:") })
            #expect(!keys.contains { $0.contains(abuser) })
        }
    }

    @Test func behindATrustedProxyTheForwardedAddressCounts() async throws {
        try await Cluster.run(environment: ["TRUSTED_PROXIES": "127.0.0.1", "MAX_CONNS_PER_IP": "1"]) { cluster in
            let first = try await ChatClient(cluster.one, headers: [("X-Forwarded-For", "203.0.113.7")])
            try await first.expect("welcome")
            let other = try await ChatClient(cluster.one, headers: [("X-Forwarded-For", "203.0.113.8")])
            try await other.expect("welcome")
            let error = await #expect(throws: OpsError.self) {
                try await ChatClient(cluster.one, headers: [("X-Forwarded-For", "203.0.113.7")])
            }
            #expect(error?.message.contains("HTTP 429") == true)
            // An untrusted peer cannot pick its address with the header.
            let untrusted = try await ChatClient(cluster.one, from: "127.0.9.1", headers: [("X-Forwarded-For", "203.0.113.8")])
            try await untrusted.expect("welcome")
        }
    }

    @Test func redisDownMakesInstancesUnreadyKeepsClientsAndRecovers() async throws {
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            await cluster.redis.kill()
            try await eventually("/ready is 503") { await !cluster.ready(cluster.one) }
            let health = try await cluster.health(cluster.one)
            #expect(health["status"] == "unhealthy")
            #expect(health["checks"]?["redis"]?.stringValue?.hasPrefix("down") == true)
            // Connected users keep chatting through NATS; the ack waits until the message is
            // kept in b's buffer, once Redis is back.
            try await a.send(#"{"type":"message","text":"during the outage"}"#)
            #expect(try await b.expect("message")["text"] == "during the outage")
            try await cluster.redis.restart()
            try await a.expect("ack", timeout: .seconds(15))
            try await eventually("ready again") { await cluster.bothReady() }
            #expect(try await cluster.health(cluster.two)["status"] == "healthy")
            // New users match again (the restarted Redis is empty: the state starts afresh).
            let (c, d, _) = try await cluster.pairAcross(interest: "after")
            try await c.send(#"{"type":"message","text":"fresh"}"#)
            #expect(try await d.expect("message")["text"] == "fresh")
        }
    }

    @Test func natsStoppedMidChatDelaysMessagesAndRecovers() async throws {
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            cluster.nats.process.pause()
            // Both notice (keep-alive PINGs unanswered); whichever reconnects first, the message
            // sent meanwhile must reach b: live, or from the resume buffer when b's instance
            // catches up after it resubscribed.
            try await eventually(timeout: .seconds(10), "/ready is 503") {
                let one = await cluster.ready(cluster.one)
                let two = await cluster.ready(cluster.two)
                return !one && !two
            }
            #expect(try await cluster.health(cluster.one)["checks"]?["nats"]?.stringValue?.hasPrefix("down") == true)
            try await a.send(#"{"type":"message","text":"while NATS sleeps"}"#)
            try await a.expect("ack")
            cluster.nats.process.resume()
            try await eventually(timeout: .seconds(10), "ready again") { await cluster.bothReady() }
            #expect(try await b.expect("message", timeout: .seconds(10))["text"] == "while NATS sleeps")
            try await b.send(#"{"type":"message","text":"and back"}"#)
            try await b.expect("ack")
            #expect(try await a.expect("message")["text"] == "and back")
        }
    }

    @Test func natsKilledAndRestartedMidChat() async throws {
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            await cluster.nats.kill()
            try await eventually("/ready is 503") { await !cluster.ready(cluster.two) }
            try await cluster.nats.restart()
            try await eventually(timeout: .seconds(10), "ready again") { await cluster.bothReady() }
            try await a.send(#"{"type":"message","text":"after restart"}"#)
            try await a.expect("ack")
            #expect(try await b.expect("message")["text"] == "after restart")
        }
    }

    @Test func anInstanceThatMissedMessagesWhileCutOffCatchesUp() async throws {
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            // ws-two must find the message in Redis when it returns.
            try await cluster.cutTwoOffTheBus()
            try await a.send(#"{"type":"message","text":"while you were away"}"#)
            try await a.expect("ack")
            cluster.two.process.resume()
            #expect(try await b.expect("message", timeout: .seconds(10))["text"] == "while you were away")
            try await a.send(#"{"type":"message","text":"and live again"}"#)
            #expect(try await b.expect("message")["text"] == "and live again")
        }
    }

    @Test func aMessageWhoseLiveCopyAndBufferWriteBothFailIsAckedOnlyOnceKept() async throws {
        try await Cluster.run { cluster in
            let (a, b, _) = try await cluster.pairAcross()
            // The live copy goes nowhere: nobody listens to b's subject. And Redis is down when a
            // sends, so the buffer write fails too.
            try await cluster.cutTwoOffTheBus()
            await cluster.redis.kill()
            try await eventually("ws-one sees Redis down") { await !cluster.ready(cluster.one) }
            try await a.send(#"{"type":"message","text":"kept before acked"}"#)
            try await cluster.redis.restart()
            // The ack means the message is in b's buffer: written again once Redis is back.
            try await a.expect("ack", timeout: .seconds(15))
            cluster.two.process.resume()
            #expect(try await b.expect("message", timeout: .seconds(15))["text"] == "kept before acked")
            #expect(try await cluster.one.metric(#"whisper_messages_total{type="unbuffered"}"#) == 0)
        }
    }

    @Test func manyConcurrentFindsAcrossInstancesNeverDoubleMatch() async throws {
        try await Cluster.run { cluster in
            let count = 240
            let clients = try await withThrowingTaskGroup(of: (Int, ChatClient).self) { group in
                for index in 0..<count {
                    group.addTask {
                        let client = try await ChatClient(index % 2 == 0 ? cluster.one : cluster.two, from: "127.0.\(20 + index / 200).\(index % 200 + 1)")
                        try await client.expect("welcome")
                        return (index, client)
                    }
                }
                return try await group.reduce(into: [Int: ChatClient]()) { $0[$1.0] = $1.1 }
            }
            let topics = ["a", "b", "c", "d", "e"]
            // Everyone finds at once; each collects what it hears until matched.
            let chats = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (index, client) in clients {
                    group.addTask {
                        let interests = [topics[index % 5], topics[(index / 5) % 5]]
                        try await client.send(#"{"type":"find","interests":["\#(interests[0])","\#(interests[1])"]}"#)
                        try await client.expect("queued", timeout: .seconds(20))
                        let matched = try await client.expect("matched", timeout: .seconds(20))
                        return (index, matched["chat"]?.stringValue ?? "")
                    }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }
            #expect(chats.count == count)
            let byChat = Dictionary(grouping: chats.keys, by: { chats[$0]! })
            #expect(byChat.count == count / 2, "every chat has exactly two users")
            #expect(byChat.values.allSatisfy { $0.count == 2 })
            // Nobody hears a second match.
            for client in clients.values.prefix(20) {
                try await client.send(#"{"type":"ping"}"#)
                try await client.expect("pong")
            }
            // The depth is measured once a second.
            try await eventually("an empty queue") { (try? await cluster.one.metric("whisper_match_queue_size")) == 0 }
        }
    }

    @Test func reportsGoToPostgresAndWaitOutAnOutage() async throws {
        try await Cluster.run(postgres: true) { cluster in
            let postgres = try #require(cluster.postgres)
            let (a, _, _) = try await cluster.pairAcross()
            try await a.send(#"{"type":"report","reason":"rude"}"#)
            try await a.expect("ack")
            let connection = try await PostgresConnection.connect(url: postgres.url)
            try await eventually("the row") {
                ((try? await connection.query("SELECT count(*) FROM abuse_reports"))?.rows.first?[0].int ?? 0) == 1
            }
            let row = try await connection.query("SELECT reported_ip_hash, reason, chat_id FROM abuse_reports").rows[0]
            #expect(row[0].string?.count == 64 && row[0].string?.contains("127.0.0.1") == false)
            #expect(row[1].string == "rude" && row[2].string?.isEmpty == false)
            connection.close()

            _ = try? await Offload.run { postgres.halt() }
            try await a.send(#"{"type":"report","reason":"while down"}"#)
            try await a.expect("ack")
            try await eventually("health degraded") {
                (try? await cluster.health(cluster.one))?["status"] == "degraded"
            }
            #expect(await cluster.ready(cluster.one), "PostgreSQL down does not take the instance out")
            try await postgres.restart()
            let again = try await PostgresConnection.connect(url: postgres.url)
            defer { again.close() }
            try await eventually(timeout: .seconds(20), "the waiting report is written") {
                ((try? await again.query("SELECT count(*) FROM abuse_reports WHERE reason = 'while down'"))?.rows.first?[0].int ?? 0) == 1
            }
            try await eventually("healthy again") { (try? await cluster.health(cluster.one))?["status"] == "healthy" }
        }
    }
}

@Suite struct RollingUpdateTests {
    /// A load test: the release builds, whose rate does not depend on the machine's speed.
    @Test func drainingOneInstanceMidLoadLosesNothing() async throws {
        let generator = try ProductBinary.release("whisperctl")
        try await Cluster.run(environment: ["DRAIN_SPREAD": "500ms"], serverBinary: try ProductBinary.release("whisper-server")) { cluster in
            let one = cluster.one
            Task {
                try await eventually("messages flow") {
                    ((try? await one.metric(#"whisper_messages_total{type="received"}"#)) ?? 0) > 200
                }
                one.process.signal(SIGTERM)
            }
            let urls = [cluster.one, cluster.two].flatMap { ["--url", "ws://127.0.0.1:\($0.port)/ws"] }
            let run = try await Offload.run {
                try Command.capture(
                    generator,
                    ["loadtest"] + urls + ["--connections", "40", "--chatting-pairs", "20", "--rate", "400", "--duration", "4s", "--ramp", "200ms", "--json"],
                    environment: ["PATH": "/usr/bin:/bin"], directory: "/")
            }
            let report = try JSONValue.parse(Array(run.stdout.utf8))
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            #expect(report["lost"] == .int(0) && report["duplicated"] == .int(0))
            #expect((report["resumed"]?.intValue ?? 0) >= 20, "every client of the drained instance resumed on the other")
            #expect(report["resume_failures"] == .int(0))
            #expect((report["sent"]?.intValue ?? 0) > 1000)
            #expect(one.process.waitForExitCode(timeout: .seconds(10)) == 0)
        }
    }
}
