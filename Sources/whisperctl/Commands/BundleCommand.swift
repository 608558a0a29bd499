import ArgumentParser
import Foundation
import NIOPosix
import OpsKit

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Collect a support bundle: status, diag, configuration, metrics, logs and more, secrets masked, in one .tar.gz.",
        discussion: """
            Collects status --json, diag --json, config show (secrets redacted), the inventory file, a few \
            snapshots of every server's /metrics over --duration, HAProxy's show stat and show info (runtime API, \
            else the stats CSV), Redis INFO and SLOWLOG, NATS varz/connz/routez/subsz, PostgreSQL's \
            pg_stat_activity, the kernel's relevant settings, the last --lines lines of each service's log \
            (logs: in the inventory) and the audit log. Every file is scrubbed of every secret the inventory, \
            the .env and the environment hold; manifest.json lists each file with its size and SHA-256 and what \
            could not be collected, and SHA256SUMS checks them (sha256sum -c). Written atomically at mode 0600; \
            nothing is written when interrupted. Reads only: takes no lock.
            Exit status: 0 written (gaps are listed in the manifest), 1 --out exists, 2 not written, 130 interrupted.

            Examples:
              whisperctl bundle
              whisperctl --config prod.yml bundle --duration 1m --out /tmp/incident-42.tar.gz
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Option(help: ArgumentHelp("Over how long the servers' /metrics are sampled.", valueName: "duration"))
    var duration: Duration = .seconds(30)

    @Option(help: ArgumentHelp("How many /metrics samples, spread over --duration.", valueName: "n"))
    var snapshots = 3

    @Option(help: ArgumentHelp("The last lines of each service's log.", valueName: "n"))
    var lines = 500

    @Option(help: ArgumentHelp("The bundle file (default: whisper-bundle-DEPLOYMENT-TIME.tar.gz here).", valueName: "file"),
            completion: .file(extensions: ["gz"]))
    var out: String?

    @Option(help: ArgumentHelp("Time limit for each request.", valueName: "duration"))
    var timeout: Duration = .seconds(5)

    @Flag(help: "Print a JSON summary: the file, its size and SHA-256, and what could not be collected.")
    var json = false

    func validate() throws {
        guard (1...100).contains(snapshots) else { throw ValidationError("--snapshots is 1 to 100, not \(snapshots)") }
        guard (0...1_000_000).contains(lines) else { throw ValidationError("--lines is 0 to 1000000, not \(lines)") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let created = Date()
        let name = "whisper-bundle-\(BundleName.safe(deployment.deployment))-\(BundleName.stamp(created))"
        let path = out ?? name + ".tar.gz"
        // Refused before half a minute of collecting, not after.
        do {
            try BundleTarget.check(path)
        } catch let error as BundleTarget.Exists {
            printError("\(error); nothing was collected (choose another --out)")
            throw ExitStatus.refused
        } catch {
            printError("\(error); nothing was collected")
            throw ExitStatus.failed
        }
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let bundle = SupportBundle(
            inventory: deployment, configuration: Config.Show.jsonDocument(deployment), duration: duration, snapshots: snapshots, logLines: lines)
        if isatty(STDERR_FILENO) == 1 { printError("collecting for \(duration.humanReadable) (Ctrl-C stops; nothing is written then)…") }
        let environment = ProbeEnvironment(timeout: timeout, pool: pool)
        guard let contents = try await Interruptible.run({ await bundle.collect(in: environment) }) else {
            printError("interrupted: no bundle written (\(path) does not exist)")
            throw ExitStatus.signal(SIGINT)
        }
        let bytes: [UInt8]
        do {
            let root = out.map { BundleName.root(of: $0) } ?? name
            bytes = try contents.archive(root: root, header: bundle.header(created: created), created: created)
            // Signals wait for the rename: the file is whole or absent.
            let trap = SignalTrap { _ in }
            defer { trap.remove() }
            try AtomicFile.write(bytes, to: path, mode: 0o600)
        } catch {
            printError("\(error): no bundle written")
            throw ExitStatus.failed
        }
        let digest = Digest.sha256(bytes).map { String(format: "%02x", $0) }.joined()
        if json {
            print(JSONValue.object([
                ("file", .string(path)), ("bytes", .int(bytes.count)), ("sha256", .string(digest)), ("files", .int(contents.files.count + 2)),
                ("not_collected", .array(contents.gaps.map { .object([("item", .string($0.item)), ("error", .string($0.error))]) })),
            ]).prettyPrinted())
        } else {
            print("wrote \(path): \(contents.files.count + 2) files, \(DisplayFormat.bytes(bytes.count)), sha256 \(digest)")
            if !contents.gaps.isEmpty {
                print("not collected (\(contents.gaps.count)):")
                for gap in contents.gaps { print("  \(gap.item): \(gap.error)") }
            }
        }
    }
}

/// Names in and of the bundle.
enum BundleName {
    static func safe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
    }

    /// 20261203T081500Z: sorts, and no ':' for shells and tar.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// The directory inside the archive: the file's name without .tar.gz / .tgz.
    static func root(of path: String) -> String {
        var base = (path as NSString).lastPathComponent
        for suffix in [".tar.gz", ".tgz", ".gz", ".tar"] where base.hasSuffix(suffix) {
            base = String(base.dropLast(suffix.count))
            break
        }
        let safe = safe(base)
        return safe.isEmpty || safe.hasPrefix(".") ? "whisper-bundle" + safe : safe
    }
}

/// Where the bundle goes, judged before collecting: not over an existing file, into a directory
/// that takes a new file (tried, not guessed from modes: root passes every access check).
enum BundleTarget {
    struct Exists: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) exists" }
    }

    static func check(_ path: String) throws {
        if FileManager.default.fileExists(atPath: path) { throw Exists(path: path) }
        let directory = (path as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        let probe = "\(parent)/.whisper-bundle-probe.\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OpsError(.io, "cannot write the bundle in \(parent): \(String(cString: strerror(errno)))", endpoint: path)
        }
        close(fd)
        unlink(probe)
    }
}

/// Runs `work` until it ends or a stopping signal comes (nil then): the work is cancelled and
/// waited for, so nothing of it outlives the call.
enum Interruptible {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) async throws -> T? {
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        let trap = SignalTrap { number in continuation.yield(number) }
        defer {
            trap.remove()
            continuation.finish()
        }
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await work() }
            group.addTask {
                for await _ in signals { return nil }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            continuation.finish()
            return first
        }
    }
}
