import Foundation
import OpsKit
import Synchronization

/// podman as this machine kind runs it: runc (crun fails on these cgroups), ulimits given (the
/// defaults podman would copy are refused), images built with chroot isolation and never
/// pulled (no registry is reachable).
package enum Podman {
    package static let limits = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=1024:1024"]

    package static func run(_ arguments: [String], in directory: String = Repository.root) async throws -> ProgramRun {
        try await ExternalTool.run("podman", ["--runtime", "runc"] + arguments, in: directory)
    }

    /// Runs podman and returns its stdout; fails with its output when it exits non-zero.
    @discardableResult
    package static func must(_ arguments: [String], in directory: String = Repository.root) async throws -> String {
        let run = try await run(arguments, in: directory)
        guard run.status == 0 else {
            throw SupportError("podman \(arguments.joined(separator: " ")) exited \(run.status): \(ExternalTool.output(run).suffix(2000))")
        }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// docker/Dockerfile's `prebuilt` target on the locally made Debian base (scripts/base-image),
/// with this checkout's release binaries, stripped as an operator would ship them.
package enum WhisperImage {
    package static let name = "localhost/whisper:test"
    /// Set once this process has built the image: the tests that use it share one build.
    private static let built = Mutex(false)

    /// Builds the image the first time it is asked for in this process and returns its name.
    package static func build() async throws -> String {
        if built.withLock({ $0 }) { return name }
        let base = try await ExternalTool.run(Repository.path("scripts/base-image"), [])
        guard base.status == 0 else { throw SupportError("scripts/base-image failed: \(ExternalTool.output(base))") }
        let staging = Repository.path(".build/image")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for product in ["whisper-server", "whisperctl"] {
            let strip = try await ExternalTool.run("strip", ["-o", "\(staging)/\(product)", try ProductBinary.release(product)])
            guard strip.status == 0 else { throw SupportError("strip \(product): \(ExternalTool.output(strip))") }
        }
        try await Podman.must([
            "build", "--format", "docker", "--isolation", "chroot", "--pull=never", "-f", "docker/Dockerfile", "--target", "prebuilt",
            "--build-arg", "RUNTIME_BASE=\(base.stdout.trimmingCharacters(in: .whitespacesAndNewlines))", "--build-arg", "BINARIES=.build/image",
            "-t", name, ".",
        ])
        built.withLock { $0 = true }
        return name
    }
}

/// A container of the image, its port 8080 published on a free loopback port.
package final class PodmanContainer: StoppableService {
    package let name: String
    package let port: Int
    package var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(name: String, port: Int) {
        self.name = name
        self.port = port
    }

    /// The `podman run` arguments that create the container, for a rollback command to repeat.
    package static func runArguments(name: String, port: Int, image: String, environment: [String: String], memory: String) -> [String] {
        ["run", "-d", "--name", name, "-p", "127.0.0.1:\(port):8080", "--memory", memory] + Podman.limits
            + environment.sorted { $0.key < $1.key }.flatMap { ["-e", "\($0.key)=\($0.value)"] } + [image]
    }

    package static func start(image: String, environment: [String: String] = [:], memory: String = "512m") async throws -> PodmanContainer {
        let port = try FreePort.next()
        let name = "whisper-test-\(port)"
        // Tests stop servers with SIGTERM: no load balancer needs time to notice.
        let variables = ["DRAIN_GRACE": "0s", "DRAIN_SPREAD": "100ms"].merging(environment) { _, given in given }
        try await Podman.must(runArguments(name: name, port: port, image: image, environment: variables, memory: memory))
        let container = PodmanContainer(name: name, port: port)
        do {
            try await eventually(timeout: .seconds(30), "\(name) answers /live") {
                (try? await HTTPClient().get(container.baseURL + "/live", timeout: .milliseconds(500)))?.status == 200
            }
        } catch {
            let logs = (try? await Podman.run(["logs", name])).map(ExternalTool.output) ?? ""
            await container.stop()
            throw SupportError("\(error)\n\(logs.suffix(1500))")
        }
        return container
    }

    package func exec(_ command: [String]) async throws -> ProgramRun {
        try await Podman.run(["exec", name] + command)
    }

    /// A field of `podman inspect`, by Go template.
    package func inspect(_ format: String) async throws -> String {
        try await Podman.must(["inspect", "--format", format, name])
    }

    package func stop() async {
        _ = try? await Podman.run(["rm", "-f", "-t", "0", name])
    }
}

/// `podman system service`: the Docker Engine API on a unix socket, as a daemon would serve it.
package final class PodmanService: StoppableService {
    package let socket: String
    package let process: ServiceProcess
    let directory: TemporaryDirectory

    private init(socket: String, process: ServiceProcess, directory: TemporaryDirectory) {
        self.socket = socket
        self.process = process
        self.directory = directory
    }

    package static func start() async throws -> PodmanService {
        let directory = try TemporaryDirectory(prefix: "whisper-podman")
        let socket = directory.file("docker.sock")
        let process = try ServiceProcess(
            name: "podman system service", executable: try Executables.require("podman"),
            arguments: ["--runtime", "runc", "system", "service", "--time=0", "unix://\(socket)"], logPath: directory.file("service.log"))
        let service = PodmanService(socket: socket, process: process, directory: directory)
        return try await awaitReady(service, process: process, "the Engine API on \(socket)") {
            let ping = HTTPRequest(url: "http://docker/_ping", timeout: .seconds(1), unixSocketPath: socket)
            return (try? await HTTPClient().execute(ping))?.status == 200
        }
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}
