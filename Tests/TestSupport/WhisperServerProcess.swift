import Foundation
import OpsKit

/// The real whisper-server binary, started on a free loopback port with the given environment.
package final class WhisperServerProcess: StoppableService {
    package let port: Int
    package let process: ServiceProcess
    package let directory: TemporaryDirectory
    package var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, process: ServiceProcess, directory: TemporaryDirectory) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    package static var binary: String { ProductBinary.path("whisper-server") }

    /// - Parameters:
    ///   - binary: the debug build beside the tests unless given (`ProductBinary.release`).
    ///   - user: runs it as this user id (and group), without root's privileges, as a container
    ///     or a systemd unit with `User=` does.
    package static func start(environment: [String: String] = [:], binary: String? = nil, user: uid_t? = nil) async throws -> WhisperServerProcess {
        let binary = binary ?? Self.binary
        return try await retryingStart { try await startOnce(environment: environment, binary: binary, user: user) }
    }

    private static func startOnce(environment: [String: String], binary: String, user: uid_t?) async throws -> WhisperServerProcess {
        let directory = try TemporaryDirectory(prefix: "whisper-server")
        let port = try FreePort.next()
        var variables = ["PATH": "/usr/bin:/bin", "LISTEN_ADDR": "127.0.0.1:\(port)", "SERVER_NAME": "test-\(port)", "LOG_LEVEL": "warning",
            // Tests stop servers with SIGTERM: no load balancer needs time to notice.
            "DRAIN_GRACE": "0s", "DRAIN_SPREAD": "100ms",
        ]
        variables.merge(environment) { _, new in new }
        var executable = binary
        var arguments: [String] = []
        if let user {
            executable = try Executables.require("setpriv")
            arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--inh-caps=-all", "--", binary]
        }
        let process = try ServiceProcess(
            name: "whisper-server", executable: executable, arguments: arguments, logPath: directory.file("server.log"), environment: variables)
        let server = WhisperServerProcess(port: port, process: process, directory: directory)
        return try await awaitReady(server, process: process, "whisper-server on \(port)") {
            (try? await HTTPClient().get(server.baseURL + "/live", timeout: .milliseconds(500)))?.status == 200
        }
    }

    /// A metric's value from /metrics, by its full name with labels.
    package func metric(_ name: String) async throws -> Double? {
        let text = try await HTTPClient().get(baseURL + "/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}

/// The package's own executables, built beside the test bundle (or the benchmark).
package enum ProductBinary {
    package static func path(_ name: String) -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return (Repository.root as NSString).appendingPathComponent(".build/debug/\(name)")
    }

    /// The release build, what operators run: load and fault tests measure it, not the debug
    /// build beside the tests (several times slower per message). `scripts/test` builds it.
    package static func release(_ name: String) throws -> String {
        let path = (Repository.root as NSString).appendingPathComponent(".build/release/\(name)")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SupportError("\(path) is missing: load and fault tests run the release build (swift build -c release --product \(name), as scripts/test does)")
        }
        return path
    }
}

/// The checkout the tests were built from, for files such as migrations/.
package enum Repository {
    package static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    package static func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
}
