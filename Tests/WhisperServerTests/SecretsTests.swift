import TestSupport
import Testing

@Suite struct SecretsTests {
    @Test func debugLogsNeverShowPasswords() async throws {
        let redisPort = try FreePort.next()
        let natsPort = try FreePort.next()
        let environment = [
            "LOG_LEVEL": "debug", "REDIS_ADDR": "127.0.0.1:\(redisPort)", "REDIS_PASSWORD": "redis-Pw-41",
            "NATS_URL": "nats://nats-user:nats-Pw-42@127.0.0.1:\(natsPort)",
            "DATABASE_URL": "postgres://whisper:pg-Pw-43@127.0.0.1:\(try FreePort.next())/whisper",
        ]
        try await withService({ try await WhisperServerProcess.start(environment: environment) }) { server in
            // Every backend is unreachable: the server says so, naming endpoints but no secret.
            try await eventually("connection failures logged") { server.process.logTail.contains("connect_failed") }
            let log = server.process.logTail
            for secret in ["redis-Pw-41", "nats-Pw-42", "pg-Pw-43"] {
                #expect(!log.contains(secret), "\(secret) leaked into the log")
            }
            #expect(log.contains("127.0.0.1:\(redisPort)"))
        }
    }
}
