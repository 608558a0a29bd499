/// Where a configuration value came from, so `config show` can answer "why is it this?".
public enum ValueSource: Sendable, Equatable {
    case flag(String)
    case environment(String)
    case file(path: String, line: Int)
    case dotenv(path: String, line: Int)
    case builtInDefault

    public var description: String {
        switch self {
        case .flag(let name): return "flag \(name)"
        case .environment(let name): return "env \(name)"
        case .file(let path, let line): return "\(path):\(line)"
        case .dotenv(let path, let line): return "\(path):\(line)"
        case .builtInDefault: return "default"
        }
    }

    /// "flag", "env", "file", "dotenv" or "default", for `--json`.
    public var kind: String {
        switch self {
        case .flag: return "flag"
        case .environment: return "env"
        case .file: return "file"
        case .dotenv: return "dotenv"
        case .builtInDefault: return "default"
        }
    }

    /// "file:line" when the value was read from a file.
    public var location: String? {
        switch self {
        case .file(let path, let line), .dotenv(let path, let line): return "\(path):\(line)"
        default: return nil
        }
    }
}
