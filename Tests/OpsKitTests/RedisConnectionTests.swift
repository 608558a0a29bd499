import OpsKit
import TestSupport
import Testing

@Suite struct RedisConnectionTests {
    @Test func sendsCommandsAndDecodesEveryReplyType() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: redis.address))
            defer { connection.close() }
            #expect(try await connection.send(["PING"]) == .status("PONG"))
            #expect(try await connection.send(["SET", "greeting", "héllo"]) == .status("OK"))
            #expect(try await connection.send(["GET", "greeting"]).string == "héllo")
            #expect(try await connection.send(["GET", "missing"]) == .null)
            #expect(try await connection.send(["INCRBY", "counter", "5"]) == .integer(5))
            _ = try await connection.send(["RPUSH", "list", "a", "b"])
            #expect(try await connection.send(["LRANGE", "list", "0", "-1"]) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        }
    }

    @Test func pipelinesRepliesInOrderWithErrorsInPlace() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: redis.address))
            defer { connection.close() }
            let commands = (0..<200).map { ["SET", "key:\($0)", "value-\($0)"] } + [["INCR", "key:0"], ["GET", "key:199"]]
            let replies = try await connection.pipeline(commands)
            #expect(replies.count == 202)
            #expect(replies[0] == .status("OK"))
            guard case .error(let message) = replies[200] else {
                Issue.record("INCR on a string should fail, got \(replies[200])")
                return
            }
            #expect(message.contains("not an integer"))
            #expect(replies[201].string == "value-199")
        }
    }

    @Test func errorRepliesThrowWithTheEndpoint() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: redis.address))
            defer { connection.close() }
            await #expect(throws: OpsError.self) { try await connection.send(["NOSUCHCOMMAND"]) }
            do {
                _ = try await connection.send(["NOSUCHCOMMAND"])
            } catch let error as OpsError {
                #expect(error.code == .serverError)
                #expect(error.description.contains(redis.address))
            }
        }
    }

    @Test func authenticatesAndSelectsTheDatabase() async throws {
        try await withService({ try await RedisServer.start(password: "s3cret-redis") }) { redis in
            let good = try RedisAddress(parsing: "redis://:s3cret-redis@\(redis.address)/3")
            let connection = try await RedisConnection.connect(to: good)
            defer { connection.close() }
            _ = try await connection.send(["SET", "k", "in-db-3"])
            let other = try await RedisConnection.connect(to: try RedisAddress(parsing: "redis://:s3cret-redis@\(redis.address)/0"))
            defer { other.close() }
            #expect(try await other.send(["GET", "k"]) == .null)
            #expect(try await connection.send(["GET", "k"]).string == "in-db-3")

            let bad = try RedisAddress(parsing: "redis://:wrong-password@\(redis.address)")
            do {
                _ = try await RedisConnection.connect(to: bad)
                Issue.record("a wrong password must fail")
            } catch let error as OpsError {
                #expect(error.code == .authentication)
                #expect(!error.description.contains("wrong-password"))
            }
        }
    }

    @Test func refusedConnectionNamesTheAddress() async throws {
        let port = try FreePort.next()
        do {
            _ = try await RedisConnection.connect(to: try RedisAddress(parsing: "127.0.0.1:\(port)"))
            Issue.record("nothing listens there")
        } catch let error as OpsError {
            #expect(error.code == .connectionRefused)
            #expect(error.description == "connection refused at 127.0.0.1:\(port)")
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await withService({ try BlackHoleServer() }) { hole in
            let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: hole.address), timeout: .milliseconds(300))
            defer { connection.close() }
            do {
                _ = try await connection.send(["PING"])
                Issue.record("a silent server must time out")
            } catch let error as OpsError {
                #expect(error.code == .timedOut)
                #expect(error.description == "timed out after 300 ms at \(hole.address)")
            }
        }
    }

    @Test func aKilledServerIsReportedNotHung() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: redis.address))
        defer { connection.close() }
        redis.process.kill9()
        await redis.stop()
        await #expect(throws: OpsError.self) { try await connection.send(["PING"]) }
    }
}
