import Foundation

/// pg_dump and pg_restore of the right major version for a server: Debian installs each major
/// under /usr/lib/postgresql/N/bin, and a pg_dump older than the server refuses to dump it.
public struct PostgresClientTool: Sendable, Equatable {
    public var path: String
    public var major: Int
    /// "15.20".
    public var version: String
}

public enum PostgresClientTools {
    /// Where to look: `$WHISPERCTL_PG_BIN` alone when set, else every /usr/lib/postgresql/N/bin,
    /// then PATH.
    public static func searchDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let only = environment["WHISPERCTL_PG_BIN"], !only.isEmpty { return [only] }
        var directories: [String] = []
        let root = "/usr/lib/postgresql"
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }.sorted()
        directories += majors.map { "\(root)/\($0)/bin" }
        directories += (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return directories
    }

    /// The `name` tool for a server of `serverMajor`: the same major if there is one, else the
    /// oldest newer one (which reads older servers).
    /// - Throws: `OpsError(.invalidInput)` naming the server's version and every version found.
    public static func find(_ name: String, serverMajor: Int, directories: [String] = searchDirectories()) async throws -> PostgresClientTool {
        var found: [PostgresClientTool] = []
        var seen = Set<String>()
        for directory in directories {
            let path = (directory as NSString).appendingPathComponent(name)
            let resolved = (path as NSString).resolvingSymlinksInPath
            guard FileManager.default.isExecutableFile(atPath: path), seen.insert(resolved).inserted else { continue }
            guard let run = try? await Subprocess.output(path, ["--version"]), run.termination.succeeded,
                let version = parseVersion(run.output)
            else { continue }
            found.append(PostgresClientTool(path: path, major: version.major, version: version.text))
        }
        if let exact = found.first(where: { $0.major == serverMajor }) { return exact }
        if let newer = found.filter({ $0.major > serverMajor }).min(by: { $0.major < $1.major }) { return newer }
        let list = found.isEmpty ? "none found" : found.map { "\($0.path) is \($0.version)" }.joined(separator: ", ")
        throw OpsError(
            .invalidInput,
            "\(name) \(serverMajor) or newer is needed for a PostgreSQL \(serverMajor) server (\(list)); install postgresql-client-\(serverMajor), or set WHISPERCTL_PG_BIN to its bin directory")
    }

    /// "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → (15, "15.20").
    static func parseVersion(_ output: String) -> (major: Int, text: String)? {
        guard let range = output.range(of: "(PostgreSQL) ") else { return nil }
        let text = output[range.upperBound...].prefix { !$0.isWhitespace }
        guard let major = Int(text.prefix { $0.isNumber }) else { return nil }
        return (major, String(text))
    }
}
