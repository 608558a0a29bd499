/// What this binary is: the release version, and (from the file scripts/build-info writes before
/// each build) the commit it was built from, that commit's date and the build date.
public enum BuildInfo {
    public static let version = "0.1.0"

    /// `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02T21:42:17Z)`
    public static var summary: String {
        "\(version) (commit \(commit), built \(buildDate))"
    }

    public static var json: JSONValue {
        .object([
            ("version", .string(version)), ("commit", .string(commit)),
            ("commit_date", commitDate.isEmpty ? .null : .string(commitDate)), ("build_date", .string(buildDate)),
        ])
    }
}
