import Foundation
import OpsKit

/// A real PostgreSQL cluster on a free loopback port.
///
/// PostgreSQL refuses to run as root, so when the tests run as root `initdb` and `pg_ctl` run as
/// the `postgres` user through runuser. One cluster is initialised per test process and copied
/// for each server, which keeps a start near half a second.
package final class PostgresServer: StoppableService {
    package static let superuserPassword = "pg-super-Secret-1"
    /// An application role and database, as a deployment has.
    package static let appUser = "whisper"
    package static let appPassword = "app-Secret-7"
    package static let appDatabase = "whisper"

    package let port: Int
    package let directory: TemporaryDirectory
    package var dataDirectory: String { directory.file("data") }

    private init(port: Int, directory: TemporaryDirectory) {
        self.port = port
        self.directory = directory
    }

    /// A URL for the application role, with its password.
    package var url: String {
        "postgres://\(Self.appUser):\(Self.appPassword)@127.0.0.1:\(port)/\(Self.appDatabase)?sslmode=disable"
    }

    package var superuserURL: String {
        "postgres://postgres:\(Self.superuserPassword)@127.0.0.1:\(port)/postgres?sslmode=disable"
    }

    /// Retried on a fresh port: another process can take the port between choosing and binding it.
    package static func start() async throws -> PostgresServer {
        try await retryingStart { try await startOnce() }
    }

    private static func startOnce() async throws -> PostgresServer {
        let template = try await PostgresTemplate.shared.path()
        let directory = try TemporaryDirectory(prefix: "whisper-pg")
        try PostgresTools.giveToPostgres(directory.path)
        try await Offload.run { try Command.run("/bin/cp", ["-a", template, directory.file("data")]) }
        let port = try FreePort.next()
        let server = PostgresServer(port: port, directory: directory)
        do {
            try await server.startCluster()
            let admin = try await PostgresConnection.connect(url: server.superuserURL, timeout: .seconds(10))
            defer { admin.close() }
            try await admin.query("CREATE ROLE \(appUser) LOGIN PASSWORD '\(appPassword)'")
            try await admin.query("CREATE DATABASE \(appDatabase) OWNER \(appUser)")
        } catch {
            // The log first: stopping removes the directory it is in.
            let log = (try? String(contentsOfFile: directory.file("postgres.log"), encoding: .utf8)) ?? ""
            await server.stop()
            throw SupportError("\(error)\n\(log.suffix(2000))")
        }
        return server
    }

    private func startCluster() async throws {
        let arguments = [
            "-D", dataDirectory, "-l", directory.file("postgres.log"), "-w", "-t", "30",
            "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        ]
        try await Offload.run { try PostgresTools.run("pg_ctl", arguments) }
    }

    /// Starts the server again on the same port after `halt()`; the data survives.
    package func restart() async throws {
        try await startCluster()
    }

    /// Stops the server at once, without a checkpoint, as a crash would; `restart()` recovers it.
    package func halt() {
        _ = try? PostgresTools.run("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    package func stop() async {
        // Thousands of files: removed off the cooperative threads, like the halt.
        _ = try? await Offload.run { [self] in
            halt()
            directory.remove()
        }
    }
}

/// Runs PostgreSQL's own tools, as the postgres user when we are root.
package enum PostgresTools {
    package static func binary(_ name: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let directories = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        return try Executables.require(name, extraDirectories: directories)
    }

    @discardableResult
    package static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let path = try binary(tool)
        if getuid() == 0 {
            return try Command.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
        }
        return try Command.run(path, arguments)
    }

    /// Hands a directory to the postgres user, as initdb and the server need.
    package static func giveToPostgres(_ path: String) throws {
        guard getuid() == 0 else { return }
        guard let account = getpwnam("postgres") else {
            throw SupportError("no postgres user: install the postgresql package (scripts/test does)")
        }
        guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
            throw SupportError("chown \(path) failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// One initdb per test process; each server copies it.
actor PostgresTemplate {
    static let shared = PostgresTemplate()
    private var created: String?

    func path() async throws -> String {
        if let created { return created }
        let directory = try TemporaryDirectory(prefix: "whisper-pg-template-\(getpid())")
        try PostgresTools.giveToPostgres(directory.path)
        let passwordFile = directory.file("pwfile")
        try directory.write("pwfile", PostgresServer.superuserPassword + "\n")
        try PostgresTools.giveToPostgres(passwordFile)
        let data = directory.file("data")
        try await Offload.run { try PostgresTools.run(
            "initdb",
            [
                "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--pwfile=\(passwordFile)", "-E", "UTF8", "--locale=C", "--no-sync",
            ]) }
        created = data
        atexit { PostgresTemplate.removeAll() }
        return data
    }

    private nonisolated static func removeAll() {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for entry in entries where entry.hasPrefix("whisper-pg-template-\(getpid())-") {
            try? FileManager.default.removeItem(atPath: "/tmp/" + entry)
        }
    }
}
