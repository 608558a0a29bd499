import Foundation
import OpsKit
import TestSupport
import Testing

/// The operations lock on each backend, against real Redis and PostgreSQL.
@Suite struct OperationsLockTests {
    @Test func redisLockNamesItsHolderExpiresWithoutHeartbeatAndBreaksOnlyWhenStale() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let address = try RedisAddress(parsing: redis.address)
            let first = RedisLockBackend(address: address, key: "whisperctl:lock:test", ttl: .milliseconds(1500))
            let second = RedisLockBackend(address: address, key: "whisperctl:lock:test", ttl: .milliseconds(1500))
            let held = try await OperationsLock.acquire(first, command: "backup")
            let refusal = await #expect(throws: OperationsLock.Failure.self) { try await OperationsLock.acquire(second, command: "migrate up") }
            #expect(refusal?.description.contains("running 'backup'") == true)
            // The heartbeat keeps it past its TTL.
            try await Task.sleep(for: .seconds(3))
            #expect(try await second.current()?.token == held.holder.token)
            #expect(!held.lost)
            await held.release()
            #expect(try await second.current() == nil)

            // A holder that stops (no heartbeat, as after kill -9) lets the lock expire.
            let crashed = LockHolder.current(command: "rollout")
            #expect(try await first.tryAcquire(crashed) == nil)
            #expect(try await second.tryAcquire(LockHolder.current(command: "x")) != nil)
            try await Task.sleep(for: .milliseconds(1800))
            let after = try await OperationsLock.acquire(second, command: "migrate up", wait: .seconds(2))
            #expect(try await first.current()?.command == "migrate up")
            await after.release()
        }
    }

    @Test func waitingTakesTheLockWhenItIsReleased() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file(".whisperctl.lock")
        let held = try await OperationsLock.acquire(FileLockBackend(path: path), command: "backup")
        Task {
            try? await Task.sleep(for: .milliseconds(600))
            await held.release()
        }
        let told = NIOLockedBox()
        let started = ContinuousClock.now
        let next = try await OperationsLock.acquire(FileLockBackend(path: path), command: "restore", wait: .seconds(5)) { holder in told.set(holder.command) }
        #expect(ContinuousClock.now - started >= .milliseconds(500))
        #expect(told.value == "backup")
        #expect(try await FileLockBackend(path: path).current()?.command == "restore")
        await next.release()
        #expect(try await FileLockBackend(path: path).current() == nil)
    }

    @Test func postgresLockNamesItsHolderAndCanEndItsSession() async throws {
        try await withService({ try await PostgresServer.start() }) { postgres in
            let first = PostgresLockBackend(url: postgres.url, deployment: "prod")
            let second = PostgresLockBackend(url: postgres.url, deployment: "prod")
            let other = PostgresLockBackend(url: postgres.url, deployment: "staging")
            let held = try await OperationsLock.acquire(first, command: "backup")
            let holder = try await second.current()
            #expect(holder?.command == "backup" && holder?.pid == Int(getpid()))
            #expect(try await other.current() == nil, "another deployment has its own lock")
            await #expect(throws: OperationsLock.Failure.self) { try await OperationsLock.acquire(second, command: "restore") }
            // The holder's session ended (a dead holder): the lock goes with it.
            try await second.breakLock(holder!)
            try await Task.sleep(for: .milliseconds(200))
            let taken = try await OperationsLock.acquire(second, command: "restore", wait: .seconds(2))
            await taken.release()
            await held.release()
        }
    }
}

/// A tiny thread-safe cell for a test's callback.
final class NIOLockedBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ value: String) { lock.withLock { stored = value } }
    var value: String? { lock.withLock { stored } }
}
