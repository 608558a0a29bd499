import Foundation

/// A server's `restart:` block in the inventory: which driver restarts it, and how.
///
/// ```yaml
/// restart: {driver: process, pid_file: /run/whisper/ws1.pid, start: "exec whisper-server", log: /var/log/whisper/ws1.log}
/// restart: {driver: command, command: "docker compose -f docker-compose.prod.yml up -d --no-deps wsserver-1"}
/// restart: {driver: systemd, unit: whisper-server@1}
/// restart: {driver: compose, service: wsserver-1, file: docker-compose.prod.yml}
/// restart: {driver: compose, service: wsserver-1, compose_command: docker-compose}
/// restart: {driver: docker, container: whisper-ws1}
/// ```
/// Every driver takes `rollback` (a shell command that brings the previous version back).
public struct RestartSpec: Sendable, Equatable {
    public enum Driver: String, Sendable, CaseIterable {
        case process, command, systemd, compose, docker
    }

    public var driver: Driver
    public var settings: [String: String]
    public var source: ValueSource

    static let allKeys = [
        "driver", "pid_file", "start", "log", "command", "drain", "unit", "service", "file", "project", "container", "socket",
        "compose_command", "rollback", "stop_timeout",
    ]

    /// What a block lacks or has wrong, with the key it concerns.
    public struct Problem: Error {
        public var field: String?
        public var message: String
    }

    public init(settings: [String: String], source: ValueSource) throws {
        guard let name = settings["driver"], !name.isEmpty else {
            throw Problem(field: "driver", message: "missing (process, command, systemd, compose or docker)")
        }
        guard let driver = Driver(rawValue: name) else {
            throw Problem(field: "driver", message: "'\(name)' is not a driver: process, command, systemd, compose or docker")
        }
        let required: [String] =
            switch driver {
            case .process: ["pid_file", "start"]
            case .command: ["command"]
            case .systemd: ["unit"]
            case .compose: ["service"]
            case .docker: ["container"]
            }
        for key in required where (settings[key] ?? "").isEmpty {
            throw Problem(field: key, message: "missing: the \(driver.rawValue) driver needs \(required.joined(separator: " and "))")
        }
        if let timeout = settings["stop_timeout"], Duration(parsing: timeout) == nil {
            throw Problem(field: "stop_timeout", message: "'\(timeout)' is not a duration (e.g. 45s)")
        }
        self.driver = driver
        self.settings = settings
        self.source = source
    }

    public subscript(key: String) -> String? {
        settings[key].flatMap { $0.isEmpty ? nil : $0 }
    }
}
