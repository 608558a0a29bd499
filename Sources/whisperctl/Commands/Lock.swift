import ArgumentParser
import Foundation
import OpsKit

struct Lock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The deployment's operations lock: who holds it, and breaking a dead holder's.",
        discussion: """
            Backups, migrations, restores, certificate renewals, rollouts and dashboard actions take one lock so \
            they never overlap: a Redis key with a heartbeat when Redis is configured, else a PostgreSQL advisory \
            lock, else a lock file beside the inventory (lock.backend chooses).
            """,
        subcommands: [LockStatus.self, LockBreak.self]
    )
}

struct LockStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Who holds the operations lock. Exit 0 free, 1 held.")

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let backend: LockBackend
        do { backend = try OperationsLock.backend(for: deployment) } catch {
            printError("whisperctl lock status: \(error)")
            throw ExitStatus.unknown
        }
        let holder: LockHolder?
        do {
            holder = try await backend.current()
        } catch {
            printError("whisperctl lock status: \(backend.description): \(error)")
            throw ExitStatus.critical
        }
        if json {
            print(JSONValue.object([
                ("backend", .string(backend.description)), ("held", .bool(holder != nil)),
                ("holder", holder.map { h in
                    .object([
                        ("user", .string(h.user)), ("host", .string(h.host)), ("pid", .int(h.pid)), ("command", .string(h.command)),
                        ("started_at", .string(ISO8601DateFormatter().string(from: h.startedAt))),
                        ("heartbeat_age_seconds", h.heartbeatAt.map { .double(Date().timeIntervalSince($0)) } ?? .null),
                    ])
                } ?? .null),
            ]).prettyPrinted())
        } else if let holder {
            let heartbeat = holder.heartbeatAt.map { ", last heartbeat \(DisplayFormat.age(Date().timeIntervalSince($0))) ago" } ?? ""
            print("held by \(holder.describe())\(heartbeat) [\(backend.description)]")
        } else {
            print("free [\(backend.description)]")
        }
        if holder != nil { throw ExitStatus.warning }
    }
}

struct LockBreak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "break", abstract: "Remove the lock of a holder whose heartbeat stopped (a crashed or hung command).")

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Break it even though the holder's heartbeat is recent.")
    var force = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let backend: LockBackend
        do { backend = try OperationsLock.backend(for: deployment) } catch {
            printError("whisperctl lock break: \(error)")
            throw ExitStatus.unknown
        }
        let runner = Mutation.runner(deployment, wait: nil, yes: yes, quiet: false)
        let breaking = BreakLock(backend: backend, force: force)
        let holder: LockHolder?
        do { holder = try await backend.current() } catch {
            printError("whisperctl lock break: \(backend.description): \(error)")
            throw ExitStatus.failed
        }
        guard holder != nil else {
            print("the lock is free [\(backend.description)]")
            return
        }
        try await Mutation.run(runner, breaking, command: "lock break")
        print("broken: the lock is free")
    }
}
