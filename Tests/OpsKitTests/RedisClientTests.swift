import NIOCore
import OpsKit
import TestSupport
import Testing

private func client(for redis: RedisServer, password: String? = nil, commandTimeout: Duration = .seconds(10)) throws -> RedisClient {
    var address = try RedisAddress(parsing: redis.address)
    address.password = password
    var options = RedisClient.Options()
    options.commandTimeout = commandTimeout
    options.reconnectDelay = (.milliseconds(20), .milliseconds(200))
    return RedisClient(address: address, options: options)
}

@Suite struct RedisClientTests {
    @Test func pipelinesConcurrentCommandsAndKeepsRepliesWithTheirCommands() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let client = try client(for: redis)
            try await client.connect()
            #expect(try await client.command("SET", "k", "héllo").string == "OK")
            #expect(try await client.command("GET", "k").string == "héllo")
            #expect(try await client.command("GET", "missing") == .null)
            let values = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<500 {
                    group.addTask {
                        _ = try await client.command("SET", "key:\(index)", "value-\(index)")
                        return (index, try await client.command("GET", "key:\(index)").string)
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(values.count == 500)
            #expect(values.allSatisfy { $0.value == "value-\($0.key)" })
            let replies = try await client.pipeline([["INCR", "n"], ["INCR", "k"], ["INCR", "n"]]).get()
            #expect(replies[0] == .integer(1) && replies[2] == .integer(2))
            guard case .error(let message) = replies[1] else { Issue.record("\(replies[1])"); return }
            #expect(message.contains("not an integer"))
            await #expect(throws: OpsError.self) { try await client.command("INCR", "k") }
            await client.close()
        }
    }

    @Test func authenticatesAndRejectsAWrongPassword() async throws {
        try await withService({ try await RedisServer.start(password: "r3dis-Secret") }) { redis in
            let good = try client(for: redis, password: "r3dis-Secret")
            try await good.connect()
            #expect(try await good.command("PING") == .status("PONG"))
            await good.close()
            let bad = try client(for: redis, password: "nope")
            let error = await #expect(throws: OpsError.self) { try await bad.connect() }
            #expect(error?.code == .authentication)
            #expect(error?.description.contains("nope") == false)
        }
    }

    @Test func runsScriptsAndReloadsThemAfterAFlush() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let client = try client(for: redis)
            try await client.connect()
            let script = RedisScript(name: "add", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.run(script, keys: ["total"], arguments: ["5"]) == .integer(5))
            #expect(try await client.run(script, keys: ["total"], arguments: ["5"]) == .integer(10))
            _ = try await client.command("SCRIPT", "FLUSH")
            #expect(try await client.run(script, keys: ["total"], arguments: ["1"]) == .integer(11))
            let broken = RedisScript(name: "broken", source: "return redis.call('NOPE')")
            let error = await #expect(throws: OpsError.self) { try await client.run(broken, keys: [], arguments: []) }
            #expect(error?.message.contains("script broken") == true)
            await client.close()
        }
    }

    @Test func failsFastWhileRedisIsDownAndRecoversByItself() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let client = try client(for: redis)
            try await client.connect()
            await redis.kill()
            try await eventually("the client notices") { !client.isConnected }
            let error = await #expect(throws: OpsError.self) { try await client.command("PING") }
            #expect(error?.description.contains("Redis is unavailable") == true)
            #expect(error?.description.contains(redis.address) == true)
            try await redis.restart()
            try await eventually("reconnected") { client.isConnected }
            #expect(try await client.command("PING") == .status("PONG"))
            await client.close()
        }
    }

    @Test func aStoppedServerTimesCommandsOutAndIsReconnectedAfter() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let client = try client(for: redis, commandTimeout: .seconds(1))
            try await client.connect()
            redis.process.pause()
            let error = await #expect(throws: OpsError.self) { try await client.command("PING") }
            #expect(error?.code == .timedOut)
            try await eventually("the connection is dropped") { !client.isConnected }
            try await Task.sleep(for: .milliseconds(500))
            #expect(!client.isConnected, "a stopped server must not count as connected")
            redis.process.resume()
            try await eventually("reconnected") { client.isConnected }
            #expect(try await client.command("PING") == .status("PONG"))
            await client.close()
        }
    }
}
