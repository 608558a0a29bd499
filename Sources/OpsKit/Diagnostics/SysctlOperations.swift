import Foundation

/// The kernel settings this host lacks for a tier, written to a sysctl file (`diag kernel
/// --write-sysctl`): only those below the tier, each only raised. Host-local, like
/// `LoadSysctlFile`: neither takes the deployment's lock.
public struct WriteSysctlFile: OpsOperation {
    public let kernel: KernelDiagnosis
    public let path: String

    public init(kernel: KernelDiagnosis, path: String) {
        self.kernel = kernel
        self.path = path
    }

    public var command: String { "diag" }
    public var action: String { "write-sysctl" }
    public var target: String { path }
    public var takesLock: Bool { false }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let changes = kernel.changes
        guard !changes.isEmpty else { return OperationPlan(steps: ["nothing to write: every setting meets the \(kernel.tier.name) tier"]) }
        return OperationPlan(steps: changes.map { "\($0.key): \($0.current) -> \($0.value)" } + ["write them to \(path)"])
    }

    /// The file holds exactly these settings.
    public func check(in context: OperationContext) async throws -> Bool {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } == kernel.sysctlFile
    }

    public func run(in context: OperationContext) async throws {
        try AtomicFile.write(Array(kernel.sysctlFile.utf8), to: path, mode: 0o644)
    }
}

/// A sysctl file loaded into the running kernel with `sysctl -p`.
public struct LoadSysctlFile: OpsOperation {
    public let path: String
    /// Where /proc is (a fixture tree in tests of `check`).
    public let root: String

    public init(path: String, root: String = "/") {
        self.path = path
        self.root = root
    }

    public var command: String { "diag" }
    public var action: String { "sysctl -p" }
    public var target: String { path }
    public var takesLock: Bool { false }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let settings = try Self.settings(in: path)
        return OperationPlan(
            steps: settings.map { "\($0.key) = \($0.value)" }, confirmation: "Load \(path) into the running kernel with sysctl -p?")
    }

    /// Every setting of the file is what the kernel has now.
    public func check(in context: OperationContext) async throws -> Bool {
        try Self.settings(in: path).allSatisfy { key, value in
            let file = (root as NSString).appendingPathComponent("proc/sys/" + key.replacingOccurrences(of: ".", with: "/"))
            guard let data = FileManager.default.contents(atPath: file) else { return false }
            return Self.words(String(decoding: data, as: UTF8.self)) == Self.words(value)
        }
    }

    public func run(in context: OperationContext) async throws {
        let child = try Subprocess.spawn("/usr/sbin/sysctl", ["-p", path], environment: ProcessInfo.processInfo.environment, captureOutput: false)
        let termination = try await child.wait()
        guard termination.succeeded else {
            throw OpsError(.io, "sysctl -p \(termination): \(child.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))", endpoint: path)
        }
    }

    /// `key = value` lines; comments and blank lines skipped.
    /// - Throws: `OpsError` naming the file and line of anything else.
    static func settings(in path: String) throws -> [(key: String, value: String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw OpsError(.io, "cannot read", endpoint: path) }
        var settings: [(String, String)] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") || text.hasPrefix(";") { continue }
            guard let equals = text.firstIndex(of: "=") else { throw OpsError(.invalidInput, "line \(index + 1): expected key = value", endpoint: path) }
            settings.append((text[..<equals].trimmingCharacters(in: .whitespaces), text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)))
        }
        return settings
    }

    private static func words(_ text: String) -> [Substring] { text.split(whereSeparator: \.isWhitespace) }
}
